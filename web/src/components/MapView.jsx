import { useEffect, useRef, useState } from "react";
import { getMap } from "../api.js";
import MapRenderer from "./mapRenderer.js";

// The collection map: every work placed by one affinity (or the hybrid), pan by dragging, zoom
// with the wheel or a pinch (toward the cursor), thumbnails when zoomed in. The current start and
// its results are marked; clicking a work explores from it, as picking a start anywhere else does.
//
// The drawing and the camera live in MapRenderer (plain JS): input moves the camera there directly,
// so a pan re-renders the canvas, never React.
//
// Test hook: while mounted, `window.__asterismMap` (MapRenderer.hook) exposes the camera, the view
// size, what the last frame drew (points, thumbnails, mode), frame draw times, the thumbnail cache's
// counters, `project(id)` (css px in the canvas) and `setCamera`. The canvas carries the same
// last-frame figures as data- attributes. The browser tests and bench/map_frames.py read them.

const AFFINITIES = ["hybrid", "formal", "conceptual", "historical"];
const CLICK_SLOP = 4; // px a press may move and still be a click, not a drag

export default function MapView({ startId, resultIds, onExplore }) {
  const canvasRef = useRef(null);
  const rendererRef = useRef(null);
  const exploreRef = useRef(onExplore);
  const [affinity, setAffinity] = useState("hybrid");
  const [status, setStatus] = useState({ loading: true, error: "", count: 0 });
  const [hover, setHover] = useState(null); // {x, y, label} of the work under the pointer
  exploreRef.current = onExplore;

  useEffect(() => {
    const canvas = canvasRef.current;
    const renderer = new MapRenderer(canvas);
    rendererRef.current = renderer;
    window.__asterismMap = renderer.hook();
    const sized = new ResizeObserver(() => {
      const box = canvas.getBoundingClientRect();
      if (box.width && box.height) renderer.resize(box.width, box.height, window.devicePixelRatio || 1);
    });
    sized.observe(canvas);
    const detach = attachInput(canvas, renderer, (id) => exploreRef.current(id), setHover);
    return () => {
      detach();
      sized.disconnect();
      renderer.destroy();
      if (window.__asterismMap?.renderer === renderer) delete window.__asterismMap;
    };
  }, []);

  useEffect(() => {
    let current = true;
    setStatus((old) => ({ ...old, loading: true, error: "" }));
    getMap(affinity).then(
      (map) => {
        if (!current) return;
        rendererRef.current.setData(map);
        setStatus({ loading: false, error: "", count: map.count });
      },
      (failure) => current && setStatus({ loading: false, error: failure.message, count: 0 }),
    );
    return () => { current = false; };
  }, [affinity]);

  useEffect(() => {
    rendererRef.current.setHighlights(startId ?? null, resultIds);
  }, [startId, resultIds, status.count]);

  const marked = startId != null || resultIds.length > 0;
  return (
    <section className="map" aria-label="Collection map" data-testid="map">
      <div className="map-bar">
        <div className="map-affinities" role="group" aria-label="Arrange by">
          {AFFINITIES.map((name) => (
            <button key={name} aria-pressed={affinity === name} data-testid={`map-affinity-${name}`}
                    onClick={() => setAffinity(name)}>{name}</button>
          ))}
        </div>
        <button onClick={() => rendererRef.current.centreOnHighlights()} disabled={!marked} data-testid="map-centre">
          Centre on the start
        </button>
        <button onClick={() => rendererRef.current.setCamera({ cx: 0.5, cy: 0.5, zoom: 1 })}>Whole collection</button>
        <span className="hint" aria-live="polite" data-testid="map-status">
          {status.error || (status.loading ? "Loading the map…" : `${status.count.toLocaleString()} works`)}
        </span>
      </div>
      <div className="map-frame">
        <canvas ref={canvasRef} tabIndex={0} data-testid="map-canvas" data-affinity={affinity}
                aria-label="Map of the collection: drag to pan, wheel or +/− to zoom, click a work to explore from it" />
        {hover && (
          <div className="map-hover" role="tooltip" data-testid="map-hover" data-artwork-id={hover.id}
               style={{ left: hover.x + 12, top: hover.y + 12 }}>{hover.label}</div>
        )}
      </div>
      <p className="hint map-legend">
        <span className="swatch swatch-start" /> the start <span className="swatch swatch-result" /> its results ·
        drag to pan, wheel or pinch to zoom, click a work to explore from it
      </p>
    </section>
  );
}

// Pointer, wheel and keyboard input → camera moves; a press that does not move is a click (pick);
// a pointer resting over a work names it (title — artist) in a label beside the cursor.
function attachInput(canvas, renderer, explore, hover) {
  const pointers = new Map();
  let press = null;
  const local = (event) => {
    const box = canvas.getBoundingClientRect();
    return { x: event.clientX - box.left, y: event.clientY - box.top };
  };
  const down = (event) => {
    try { canvas.setPointerCapture(event.pointerId); } catch { /* a synthetic pointer */ }
    const at = local(event);
    pointers.set(event.pointerId, at);
    press = pointers.size === 1 ? { ...at, moved: false } : { ...press, moved: true }; // a pinch is no click
  };
  const name = (at) => {
    const index = renderer.pick(at.x, at.y);
    const data = renderer.data;
    if (index < 0 || !data?.title) return hover(null);
    const artist = data.artist?.[index];
    hover({ id: data.ids[index], x: at.x, y: at.y, label: artist ? `${data.title[index]} — ${artist}` : data.title[index] });
  };
  const move = (event) => {
    const before = pointers.get(event.pointerId);
    if (!before) return name(local(event));
    const at = local(event);
    pointers.set(event.pointerId, at);
    if (pointers.size === 1) {
      renderer.pan(at.x - before.x, at.y - before.y);
      if (Math.hypot(at.x - press.x, at.y - press.y) > CLICK_SLOP) press.moved = true;
    } else if (pointers.size === 2) {
      const other = [...pointers.entries()].find(([id]) => id !== event.pointerId)[1];
      const was = Math.hypot(before.x - other.x, before.y - other.y) || 1;
      renderer.pan((at.x - before.x) / 2, (at.y - before.y) / 2);
      renderer.zoomAt((at.x + other.x) / 2, (at.y + other.y) / 2, Math.hypot(at.x - other.x, at.y - other.y) / was);
    }
  };
  const up = (event) => {
    if (!pointers.has(event.pointerId)) return;
    const click = pointers.size === 1 && press && !press.moved;
    pointers.delete(event.pointerId);
    if (!click) return;
    const at = local(event);
    const index = renderer.pick(at.x, at.y);
    if (index >= 0) explore(renderer.data.ids[index]);
  };
  const cancel = (event) => pointers.delete(event.pointerId);
  const leave = () => hover(null);
  const wheel = (event) => {
    event.preventDefault();
    const pixels = event.deltaMode === 1 ? event.deltaY * 16 : event.deltaMode === 2 ? event.deltaY * 400 : event.deltaY;
    const at = local(event);
    renderer.zoomAt(at.x, at.y, Math.exp(-pixels * 0.002));
  };
  const key = (event) => {
    const { width, height } = renderer.view;
    const moves = { ArrowLeft: [60, 0], ArrowRight: [-60, 0], ArrowUp: [0, 60], ArrowDown: [0, -60] };
    const zooms = { "+": 1.25, "=": 1.25, "-": 0.8 };
    if (moves[event.key]) renderer.pan(...moves[event.key]);
    else if (zooms[event.key]) renderer.zoomAt(width / 2, height / 2, zooms[event.key]);
    else return;
    event.preventDefault();
  };
  const listeners = [
    ["pointerdown", down], ["pointermove", move], ["pointerup", up], ["pointercancel", cancel],
    ["wheel", wheel, { passive: false }], ["keydown", key], ["pointerleave", leave],
  ];
  for (const [name, handler, options] of listeners) canvas.addEventListener(name, handler, options);
  return () => { for (const [name, handler] of listeners) canvas.removeEventListener(name, handler); };
}
