"""The HTTP API (FastAPI, versioned under /v1) and the web UI it serves."""
