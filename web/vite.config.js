import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// `npm run dev` proxies the API to a local `asterism serve`; `npm run build` writes dist/,
// which FastAPI serves at / (index.html) and /assets.
export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false },
  server: { proxy: { "/v1": "http://127.0.0.1:8000" } },
});
