// The collection map's maths: the camera (world [0,1]² ↔ screen px) and a uniform spatial grid
// over the points for culling and hit-testing. Pure functions over plain objects and typed arrays,
// no DOM, so the renderer and the React shell share one definition of "where is a point".

export const MIN_ZOOM = 0.5;
export const MAX_ZOOM = 4000;
const FILL = 0.92; // the whole [0,1]² square takes 92 % of the shorter side at zoom 1

export const clampZoom = (zoom) => Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, zoom));

export function homeCamera() {
  return { cx: 0.5, cy: 0.5, zoom: 1 };
}

// Screen pixels per world unit: the shorter side of the view spans the square at zoom 1.
export function scaleOf(camera, view) {
  return Math.min(view.width, view.height) * FILL * camera.zoom;
}

// The affine map world → screen as (scale, offsetX, offsetY): screen = world * scale + offset.
export function transformOf(camera, view) {
  const scale = scaleOf(camera, view);
  return { scale, ox: view.width / 2 - camera.cx * scale, oy: view.height / 2 - camera.cy * scale };
}

export function toScreen(camera, view, x, y) {
  const { scale, ox, oy } = transformOf(camera, view);
  return { x: x * scale + ox, y: y * scale + oy };
}

export function toWorld(camera, view, sx, sy) {
  const { scale, ox, oy } = transformOf(camera, view);
  return { x: (sx - ox) / scale, y: (sy - oy) / scale };
}

// Zoom by `factor` keeping the world point under the cursor (sx, sy) where it is on screen.
export function zoomAt(camera, view, sx, sy, factor) {
  const anchor = toWorld(camera, view, sx, sy);
  const zoom = clampZoom(camera.zoom * factor);
  const scale = scaleOf({ zoom }, view);
  return { cx: anchor.x - (sx - view.width / 2) / scale, cy: anchor.y - (sy - view.height / 2) / scale, zoom };
}

// Drag by (dx, dy) screen px: the world moves with the pointer.
export function panBy(camera, view, dx, dy) {
  const scale = scaleOf(camera, view);
  return { ...camera, cx: camera.cx - dx / scale, cy: camera.cy - dy / scale };
}

// The camera framing the given points (indices into xs/ys) with a margin; one point is shown at `single` zoom.
export function fitCamera(view, xs, ys, indices, single = 24) {
  if (!indices.length) return homeCamera();
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const i of indices) {
    x0 = Math.min(x0, xs[i]); x1 = Math.max(x1, xs[i]);
    y0 = Math.min(y0, ys[i]); y1 = Math.max(y1, ys[i]);
  }
  const span = Math.max(x1 - x0, y1 - y0);
  const zoom = clampZoom(span > 0 ? Math.min(single, 0.8 / span) : single);
  return { cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, zoom };
}

// The world rectangle on screen, widened by `margin` screen px on every side.
export function visibleRect(camera, view, margin = 0) {
  const a = toWorld(camera, view, -margin, -margin);
  const b = toWorld(camera, view, view.width + margin, view.height + margin);
  return { x0: a.x, y0: a.y, x1: b.x, y1: b.y };
}

// A uniform grid (counting sort of the points by cell): `order` lists point indices cell by cell,
// cell c holds order[start[c] .. start[c+1]). About four points a cell when spread evenly; a
// layout's dense clusters make fuller cells, which only costs the hit-test a few more distances.
export function buildGrid(xs, ys) {
  const n = xs.length;
  const size = Math.max(1, Math.min(512, Math.round(Math.sqrt(n / 4))));
  const start = new Int32Array(size * size + 1);
  const cellOf = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = cellIndex(size, xs[i], ys[i]);
    cellOf[i] = c;
    start[c + 1]++;
  }
  for (let c = 0; c < size * size; c++) start[c + 1] += start[c];
  const cursor = start.slice(0, size * size);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[cursor[cellOf[i]]++] = i;
  return { size, start, order };
}

function cellCoord(size, v) {
  return Math.min(size - 1, Math.max(0, Math.floor(v * size)));
}

function cellIndex(size, x, y) {
  return cellCoord(size, y) * size + cellCoord(size, x);
}

// The range of cells [cx0..cx1] × [cy0..cy1] overlapping a world rectangle.
export function cellRange(grid, rect) {
  return {
    cx0: cellCoord(grid.size, rect.x0), cx1: cellCoord(grid.size, rect.x1),
    cy0: cellCoord(grid.size, rect.y0), cy1: cellCoord(grid.size, rect.y1),
  };
}

// Indices of the points inside a world rectangle (cells overlapping it, then the exact test).
export function pointsIn(grid, xs, ys, rect) {
  const out = [];
  const { cx0, cx1, cy0, cy1 } = cellRange(grid, rect);
  for (let cy = cy0; cy <= cy1; cy++) {
    for (let c = cy * grid.size + cx0, end = cy * grid.size + cx1; c <= end; c++) {
      for (let k = grid.start[c]; k < grid.start[c + 1]; k++) {
        const i = grid.order[k];
        if (xs[i] >= rect.x0 && xs[i] <= rect.x1 && ys[i] >= rect.y0 && ys[i] <= rect.y1) out.push(i);
      }
    }
  }
  return out;
}

// The point nearest world (wx, wy) within `radius` world units, or -1.
export function nearest(grid, xs, ys, wx, wy, radius) {
  const rect = { x0: wx - radius, y0: wy - radius, x1: wx + radius, y1: wy + radius };
  let best = -1;
  let bestD = radius * radius;
  for (const i of pointsIn(grid, xs, ys, rect)) {
    const d = (xs[i] - wx) ** 2 + (ys[i] - wy) ** 2;
    if (d <= bestD) {
      bestD = d;
      best = i;
    }
  }
  return best;
}
