"""Frame times of the collection map at 100k points, in Debian's headless Chromium.

    .venv/bin/python bench/map_frames.py [--points 100000] [--frames 300] [--seed 7]

The built UI (``make web``) is served from ``web/dist`` by a tiny local static server; the
browser's requests for ``/v1/map`` and ``/v1/images/…`` are answered through Playwright's
``page.route`` with generated data: ``--points`` works in clustered 2-D layout (a mixture of
Gaussians, as a UMAP-like projection looks) and one of 32 generated 256 px JPEG thumbnails per
work. The map is opened and then driven inside the page, one input per animation frame, with
the same DOM events a user makes (``wheel`` and pointer drags dispatched on the canvas):

1. points only: the whole collection, zooming between 1× and 2.5× toward moving cursors while
   dragging (every point is projected and drawn every frame);
2. zoomed in with thumbnails: past the thumbnail zoom, after the first screen of thumbnails has
   loaded, dragging across the map so new thumbnails keep streaming in at the edge.

For each: frame time = the interval between successive ``requestAnimationFrame`` timestamps
(what the user sees; the display runs at 60 Hz, so 16.7 ms is the floor) and draw time = the
map's own CPU time per frame (``performance.now()`` around its draw, from the
``window.__asterismMap`` hook). p50 / p95 / max of each are printed. The WebGL renderer string is
printed too: headless Chromium here has no GPU, so it is a software rasteriser.
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import os
import platform
import statistics
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "web" / "dist"
CHROMIUM = "/usr/bin/chromium"

DRIVE = """async ({frames, mode}) => {
  const canvas = document.querySelector("[data-testid=map-canvas]");
  const hook = window.__asterismMap;
  const box = canvas.getBoundingClientRect();
  const at = (x, y) => ({clientX: box.left + x, clientY: box.top + y, bubbles: true, cancelable: true});
  const pointer = (type, x, y) => canvas.dispatchEvent(new PointerEvent(type,
    {...at(x, y), pointerId: 1, pointerType: "mouse", isPrimary: true, buttons: type === "pointerup" ? 0 : 1}));
  const before = hook.drawn.frames;
  let x = box.width / 2, y = box.height / 2;
  pointer("pointerdown", x, y);
  const stamps = [];
  await new Promise((resolve) => {
    const step = (time) => {
      stamps.push(time);
      const i = stamps.length;
      if (i > frames) return resolve();
      if (mode === "points") {
        // zoom in for 30 frames, out for 30, toward a cursor that circles; drag a little each frame
        const sign = Math.floor(i / 30) % 2 ? 1 : -1;
        const cx = box.width / 2 + Math.cos(i / 20) * box.width / 4;
        const cy = box.height / 2 + Math.sin(i / 20) * box.height / 4;
        canvas.dispatchEvent(new WheelEvent("wheel", {...at(cx, cy), deltaY: sign * 16, deltaMode: 0}));
      }
      x += mode === "points" ? Math.cos(i / 15) * 6 : 5;
      y += mode === "points" ? Math.sin(i / 15) * 6 : Math.sin(i / 25) * 3;
      pointer("pointermove", x, y);
      requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  });
  pointer("pointerup", x, y);
  const gaps = stamps.slice(1).map((t, k) => t - stamps[k]);
  const drawn = hook.drawn.frames - before;
  return {gaps, draws: hook.drawMs.slice(-Math.min(drawn, 600)), drawn, last: hook.drawn,
          thumbs: hook.thumbs, camera: hook.camera};
}"""


def layout(points: int, seed: int) -> dict[str, Any]:
    """A clustered layout in [0,1]²: 60 Gaussian clusters of varied size plus 10 % spread evenly."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0.1, 0.9, size=(60, 2))
    spreads = rng.uniform(0.01, 0.06, size=60)
    which = rng.integers(0, 60, size=points)
    xy = centres[which] + rng.normal(size=(points, 2)) * spreads[which, None]
    even = rng.random(points) < 0.1
    xy[even] = rng.random((int(even.sum()), 2))
    xy = np.clip(xy, 0.0, 1.0)
    return {
        "affinity": "hybrid",
        "count": points,
        "ids": list(range(1, points + 1)),
        "x": [round(float(v), 5) for v in xy[:, 0]],
        "y": [round(float(v), 5) for v in xy[:, 1]],
        "thumbnail": "/v1/images/{id}?size=thumb",
    }


def thumbnails(count: int, seed: int) -> list[bytes]:
    """``count`` distinct 256×192 JPEGs (a gradient in a random hue each), like the API's thumbs."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0.3, 1.0, 256)[None, :, None]
    out = []
    for _ in range(count):
        colour = rng.uniform(40, 255, size=3)[None, None, :]
        pixels = np.broadcast_to(ramp * colour, (192, 256, 3)).astype(np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, "JPEG", quality=80)
        out.append(buffer.getvalue())
    return out


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No access log on the terminal: the figures are the output."""


def serve_dist() -> tuple[ThreadingHTTPServer, str]:
    """``web/dist`` on a free loopback port (the API's paths are answered by ``page.route``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(DIST)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"p50": statistics.median(ordered), "p95": pick(0.95), "max": ordered[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    assert (DIST / "index.html").is_file(), "the web UI is not built: run `make web`"
    from playwright.sync_api import Route, sync_playwright

    body = json.dumps(layout(args.points, args.seed))
    pictures = thumbnails(32, args.seed)

    def answer_map(route: Route) -> None:
        route.fulfill(status=200, content_type="application/json", body=body)

    def answer_image(route: Route) -> None:
        work = int(route.request.url.split("/v1/images/", 1)[1].split("?", 1)[0])
        route.fulfill(status=200, content_type="image/jpeg", body=pictures[work % len(pictures)])

    server, url = serve_dist()
    report: dict[str, Any] = {"points": args.points, "frames": args.frames, "machine": platform.node()}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route("**/v1/map?*", answer_map)
            page.route("**/v1/images/**", answer_image)
            page.goto(url)
            report["browser"] = browser.version
            report["webgl"] = page.evaluate(
                """() => { const gl = document.createElement('canvas').getContext('webgl');
                if (!gl) return 'no WebGL';
                const info = gl.getExtension('WEBGL_debug_renderer_info');
                return info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER); }"""
            )
            page.click("[data-testid=view-map]")
            page.wait_for_function(
                "n => window.__asterismMap?.count === n && window.__asterismMap.drawn.frames > 0",
                arg=args.points,
                timeout=60_000,
            )
            page.evaluate("() => window.__asterismMap.setCamera({cx: 0.5, cy: 0.5, zoom: 1})")
            report["points_only"] = page.evaluate(DRIVE, {"frames": args.frames, "mode": "points"})

            # Zoom into the densest cell of the layout past the thumbnail zoom; let the first screen load.
            zoom = page.evaluate("() => window.__asterismMap.thumbZoom") * 1.6
            page.evaluate("z => window.__asterismMap.setCamera({cx: 0.35, cy: 0.45, zoom: z})", zoom)
            page.wait_for_function(
                "() => { const m = window.__asterismMap; return m.drawn.mode === 'thumbnails' && m.thumbs.loading === 0 && m.drawn.thumbnails > 0; }",
                timeout=60_000,
            )
            report["thumbnails"] = page.evaluate(DRIVE, {"frames": args.frames, "mode": "thumbnails"})
            page.screenshot(path=str(ROOT / "test-artifacts" / "bench-map-thumbnails.png"))
            browser.close()
    finally:
        server.shutdown()

    print(
        f"Chromium {report['browser']}, WebGL renderer: {report['webgl']}; {args.points:,} points, {args.frames} frames each"
    )
    print(
        f"{'scenario':<28} {'frame p50':>9} {'p95':>7} {'max':>7}   {'draw p50':>8} {'p95':>7} {'max':>7}  drawn"
    )
    for name in ("points_only", "thumbnails"):
        run = report[name]
        gaps, draws = percentiles(run["gaps"]), percentiles(run["draws"])
        last = run["last"]
        print(
            f"{name:<28} {gaps['p50']:9.1f} {gaps['p95']:7.1f} {gaps['max']:7.1f}   "
            f"{draws['p50']:8.1f} {draws['p95']:7.1f} {draws['max']:7.1f}  "
            f"{run['drawn']} frames; last: {last['points']} points, {last['thumbnails']} thumbnails"
        )
    print("thumbnail cache after the pan:", json.dumps(report["thumbnails"]["thumbs"]))
    print("load average:", os.getloadavg())


if __name__ == "__main__":
    main()
