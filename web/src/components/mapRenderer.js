// Draws the collection map on a <canvas> and owns its camera; MapView.jsx is the React shell.
//
// Why Canvas 2D and not WebGL: the machines this runs on include ones with no GPU (headless
// Chromium here falls back to a software GL, where a WebGL pipeline buys nothing), thumbnails are
// a plain drawImage, and it needs no shader code in the bundle. What makes 100k points cheap is
// not the API but the batch: the points are splatted as small squares straight into one pixel
// buffer (a single loop over a typed array, no per-point canvas call) and put on the canvas once;
// only the few hundred thumbnails and the highlights use drawImage/arc.
//
// A frame is drawn on requestAnimationFrame and only when something changed (camera, size, data,
// highlights or a thumbnail arriving); input just moves the camera and asks for a frame.

import ThumbCache from "./thumbCache.js";
import {
  buildGrid, cellRange, fitCamera, homeCamera, nearest, panBy, pointsIn, scaleOf, toScreen, toWorld,
  transformOf, visibleRect, zoomAt,
} from "./mapMath.js";

const BACKGROUND = [250, 248, 244]; // --paper
const POINT = [107, 101, 93]; // --muted
const START = "#8a3b12"; // --accent
const RESULT = "#2f6f8f"; // --conceptual
const THUMB_SPACING = 36; // thumbnails from the zoom where neighbours are this far apart (css px, on average)
const MAX_THUMBS = 240; // thumbnails drawn in one frame, at most; the other visible works stay points
const HIT_PX = 8; // a click picks the nearest work within this many css px
const FRAME_LOG = 600;

const word = ([r, g, b]) => ((255 << 24) | (b << 16) | (g << 8) | r) >>> 0; // RGBA bytes, little-endian

export default class MapRenderer {
  constructor(canvas, { capacity = 400, inFlight = 6 } = {}) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d", { alpha: false });
    this.view = { width: 0, height: 0 };
    this.dpr = 1;
    this.camera = homeCamera();
    this.data = null;
    this.start = -1;
    this.results = [];
    this.wanted = { startId: null, resultIds: [] };
    this.image = null;
    this.frame = 0;
    this.log = { frames: 0, drawMs: [], points: 0, thumbnails: 0, thumbnailIds: [], visible: 0, mode: "points" };
    this.cache = new ThumbCache({
      urlOf: (id) => this.data.thumbnail.replace("{id}", String(id)),
      onLoad: () => this.redraw(), capacity, inFlight,
    });
  }

  destroy() {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.cache.close();
  }

  resize(width, height, dpr) {
    this.view = { width, height };
    this.dpr = dpr;
    this.canvas.width = Math.max(1, Math.round(width * dpr));
    this.canvas.height = Math.max(1, Math.round(height * dpr));
    this.redraw();
  }

  // The map's data as the API sends it: ids, x and y in [0,1], a thumbnail URL pattern.
  setData(map) {
    const n = map.ids.length;
    const xs = Float32Array.from(map.x);
    const ys = Float32Array.from(map.y);
    const indexOf = new Map();
    for (let i = 0; i < n; i++) indexOf.set(map.ids[i], i);
    this.data = { affinity: map.affinity, ids: map.ids, xs, ys, indexOf, thumbnail: map.thumbnail, grid: buildGrid(xs, ys),
      title: map.title, artist: map.artist }; // names for the hover label (when the server sent them)
    this.camera = homeCamera();
    this.applyHighlights();
    this.redraw();
  }

  setHighlights(startId, resultIds) {
    this.wanted = { startId, resultIds };
    this.applyHighlights();
    this.redraw();
  }

  applyHighlights() {
    const { startId, resultIds } = this.wanted;
    const at = (id) => (this.data && id != null ? this.data.indexOf.get(id) ?? -1 : -1);
    this.start = at(startId);
    this.results = resultIds.map(at).filter((i) => i >= 0);
  }

  setCamera(camera) {
    this.camera = camera;
    this.redraw();
  }

  pan(dx, dy) {
    this.setCamera(panBy(this.camera, this.view, dx, dy));
  }

  zoomAt(sx, sy, factor) {
    this.setCamera(zoomAt(this.camera, this.view, sx, sy, factor));
  }

  // Frame the start and its results (whichever are on the map); false when none are.
  centreOnHighlights() {
    const chosen = [...this.results, ...(this.start >= 0 ? [this.start] : [])];
    if (!this.data || !chosen.length) return false;
    this.setCamera(fitCamera(this.view, this.data.xs, this.data.ys, chosen));
    return true;
  }

  // The zoom from which thumbnails are drawn: where neighbours are THUMB_SPACING px apart on average.
  thumbZoom() {
    const n = this.data ? this.data.ids.length : 1;
    const base = scaleOf({ zoom: 1 }, this.view) || 1;
    return Math.max(2, (THUMB_SPACING * Math.sqrt(n)) / base);
  }

  thumbSide() {
    const spacing = scaleOf(this.camera, this.view) / Math.sqrt(this.data.ids.length);
    return Math.min(96, Math.max(24, spacing * 0.85));
  }

  // The work under screen point (sx, sy) css px: its index, or -1.
  pick(sx, sy) {
    if (!this.data) return -1;
    const scale = scaleOf(this.camera, this.view);
    const reach = this.camera.zoom >= this.thumbZoom() ? Math.max(HIT_PX, this.thumbSide() / 2) : HIT_PX;
    const at = toWorld(this.camera, this.view, sx, sy);
    return nearest(this.data.grid, this.data.xs, this.data.ys, at.x, at.y, reach / scale);
  }

  project(id) {
    const i = this.data ? this.data.indexOf.get(id) : undefined;
    return i === undefined ? null : toScreen(this.camera, this.view, this.data.xs[i], this.data.ys[i]);
  }

  redraw() {
    if (!this.frame) this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  draw() {
    const { width, height } = this.canvas;
    if (!this.view.width || !this.view.height) return;
    const began = performance.now();
    if (!this.image || this.image.width !== width || this.image.height !== height) {
      this.image = this.ctx.createImageData(width, height);
      this.pixels = new Uint32Array(this.image.data.buffer);
    }
    this.pixels.fill(word(BACKGROUND));
    const thumbs = this.data && this.camera.zoom >= this.thumbZoom();
    const points = this.data ? this.splat() : 0;
    this.ctx.putImageData(this.image, 0, 0);
    this.ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    const framed = thumbs ? this.drawThumbnails() : new Map();
    if (this.data) this.drawHighlights(framed);
    this.ctx.setTransform(1, 0, 0, 1, 0, 0);
    const log = this.log;
    log.frames++;
    log.points = points;
    log.thumbnails = framed.size;
    log.thumbnailIds = [...framed.keys()].map((i) => this.data.ids[i]);
    log.mode = thumbs ? "thumbnails" : "points";
    log.drawMs.push(performance.now() - began);
    if (log.drawMs.length > FRAME_LOG) log.drawMs.shift();
    Object.assign(this.canvas.dataset, { mode: log.mode, zoom: this.camera.zoom.toFixed(3), points, thumbnails: framed.size });
  }

  // Every point on screen as a small square in the pixel buffer; returns how many were drawn.
  splat() {
    const { xs, ys, grid } = this.data;
    const w = this.canvas.width, h = this.canvas.height, px = this.pixels, dpr = this.dpr;
    const tf = transformOf(this.camera, this.view);
    const s = tf.scale * dpr, ox = tf.ox * dpr, oy = tf.oy * dpr;
    const spacing = tf.scale / Math.sqrt(xs.length); // css px between neighbours, on average: sparse maps get bigger dots
    const grow = Math.max(2 + Math.floor(Math.log2(Math.max(1, this.camera.zoom))), Math.round(spacing * 0.08));
    const side = Math.round(Math.min(6, grow) * dpr);
    const half = side >> 1, maxX = w - side, maxY = h - side, colour = word(POINT);
    let drawn = 0;
    const put = (i) => {
      const x = (xs[i] * s + ox - half) | 0, y = (ys[i] * s + oy - half) | 0;
      if (x < 0 || y < 0 || x > maxX || y > maxY) return;
      for (let row = y * w + x, r = 0; r < side; r++, row += w) {
        for (let c = 0; c < side; c++) px[row + c] = colour;
      }
      drawn++;
    };
    if (this.camera.zoom <= 2) {
      for (let i = 0; i < xs.length; i++) put(i); // (most of) the square is on screen: no culling
    } else {
      const { cx0, cx1, cy0, cy1 } = cellRange(grid, visibleRect(this.camera, this.view, 8));
      for (let cy = cy0; cy <= cy1; cy++) {
        for (let c = cy * grid.size + cx0, end = cy * grid.size + cx1; c <= end; c++) {
          for (let k = grid.start[c]; k < grid.start[c + 1]; k++) put(grid.order[k]);
        }
      }
    }
    return drawn;
  }

  // Thumbnails of (up to MAX_THUMBS of) the works on screen; returns index -> drawn box.
  drawThumbnails() {
    const { xs, ys, ids, grid } = this.data;
    const side = this.thumbSide();
    const visible = pointsIn(grid, xs, ys, visibleRect(this.camera, this.view, side / 2));
    this.log.visible = visible.length;
    const stride = Math.max(1, visible.length / MAX_THUMBS);
    const chosen = [];
    for (let k = 0; k < visible.length && chosen.length < MAX_THUMBS; k += stride) chosen.push(visible[Math.floor(k)]);
    const marked = new Set([...this.results, this.start]);
    for (const i of visible) if (marked.has(i) && !chosen.includes(i)) chosen.push(i);
    this.cache.want(chosen.map((i) => ids[i]));
    const boxes = new Map();
    for (const i of chosen) {
      const bitmap = this.cache.get(ids[i]);
      if (!bitmap) continue;
      const fit = side / Math.max(bitmap.width, bitmap.height);
      const bw = bitmap.width * fit, bh = bitmap.height * fit;
      const at = toScreen(this.camera, this.view, xs[i], ys[i]);
      const box = { x: at.x - bw / 2, y: at.y - bh / 2, w: bw, h: bh };
      this.ctx.drawImage(bitmap, box.x, box.y, bw, bh);
      boxes.set(i, box);
    }
    return boxes;
  }

  // Results in their colour, the start larger and ringed; a thumbnail gets a frame of that colour.
  drawHighlights(boxes) {
    const ctx = this.ctx;
    const mark = (i, colour, radius, ring) => {
      const box = boxes.get(i);
      ctx.strokeStyle = colour;
      if (box) {
        ctx.lineWidth = ring ? 5 : 3;
        ctx.strokeRect(box.x - 2, box.y - 2, box.w + 4, box.h + 4);
        return;
      }
      const at = toScreen(this.camera, this.view, this.data.xs[i], this.data.ys[i]);
      ctx.beginPath();
      ctx.arc(at.x, at.y, radius, 0, 2 * Math.PI);
      ctx.fillStyle = colour;
      ctx.fill();
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = "white";
      ctx.stroke();
      if (ring) {
        ctx.beginPath();
        ctx.arc(at.x, at.y, radius + 5, 0, 2 * Math.PI);
        ctx.lineWidth = 2.5;
        ctx.strokeStyle = colour;
        ctx.stroke();
      }
    };
    for (const i of this.results) mark(i, RESULT, 5, false);
    if (this.start >= 0) mark(this.start, START, 8, true);
  }

  // The test and benchmark hook (window.__asterismMap): read-only state plus the camera controls.
  hook() {
    return {
      get camera() { return { ...this.renderer.camera }; },
      get view() { return { ...this.renderer.view }; },
      get count() { return this.renderer.data ? this.renderer.data.ids.length : 0; },
      get affinity() { return this.renderer.data?.affinity ?? null; },
      get drawn() {
        const { frames, points, thumbnails, thumbnailIds, visible, mode } = this.renderer.log;
        return { frames, points, thumbnails, thumbnailIds, visible, mode };
      },
      get drawMs() { return [...this.renderer.log.drawMs]; },
      get thumbs() { return this.renderer.cache.snapshot(); },
      get thumbZoom() { return this.renderer.thumbZoom(); },
      project: (id) => this.project(id),
      setCamera: (camera) => this.setCamera({ ...this.camera, ...camera }),
      renderer: this,
    };
  }
}
