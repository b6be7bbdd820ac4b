import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { connect, filtersFromForm, getArtwork, randomArtwork, recommendById, recommendByImage, studyPair } from "./api.js";
import ConnectPanel from "./components/ConnectPanel.jsx";
import { FiltersForm, ProseToggle, WeightSliders } from "./components/Controls.jsx";
import DetailPanel from "./components/DetailPanel.jsx";
import MapView from "./components/MapView.jsx";
import ResultCard from "./components/ResultCard.jsx";
import StartPicker from "./components/StartPicker.jsx";
import StudyPanel from "./components/StudyPanel.jsx";

const DEFAULT_WEIGHTS = { formal: 0.4, conceptual: 0.4, historical: 0.2 };
const EMPTY_FILTERS = { dateFrom: "", dateTo: "", source: "", license: "", type: "" };

// The same hybrid score the server computes, from the raw cosines it sent: used to re-rank the
// current results the instant a slider moves, before the server's answer for the new weights.
function rerank(results, weights, alpha, beta) {
  const total = weights.formal + weights.conceptual + weights.historical || 1;
  const score = (item) =>
    alpha * ((weights.formal * item.formal.cosine + weights.conceptual * item.conceptual.cosine +
              weights.historical * item.historical.cosine) / total) + beta * item.link;
  return [...results].sort((a, b) => score(b) - score(a) || a.artwork.id - b.artwork.id)
    .map((item, index) => ({ ...item, rank: index + 1 }));
}

export default function App() {
  const [trail, setTrail] = useState([]); // starts visited: {kind: "artwork", artwork} | {kind: "image", file, url}
  const [position, setPosition] = useState(-1);
  const [weights, setWeights] = useState(DEFAULT_WEIGHTS);
  const [filterForm, setFilterForm] = useState(EMPTY_FILTERS);
  const [filters, setFilters] = useState({});
  const [prose, setProse] = useState(false);
  const [page, setPage] = useState(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState("");
  const [detail, setDetail] = useState(null);
  const [path, setPath] = useState(null);
  const [pair, setPair] = useState(null);
  const [view, setView] = useState("grid"); // the results as a grid of cards, or the collection map
  const [mapOpened, setMapOpened] = useState(false); // kept mounted once opened: its data and camera stay
  const request = useRef(0);
  const start = position >= 0 ? trail[position] : null;

  const load = useCallback(async (current, currentWeights, currentFilters, withProse) => {
    if (!current) return;
    const mine = ++request.current;
    setLoading(true);
    setError("");
    try {
      const query = { weights: currentWeights, filters: currentFilters, k: 12, prose: withProse };
      const result = current.kind === "artwork"
        ? await recommendById(current.artwork.id, query)
        : await recommendByImage(current.file, query);
      if (mine === request.current) setPage(result);
    } catch (failure) {
      if (mine === request.current) setError(failure.message);
    } finally {
      if (mine === request.current) setLoading(false);
    }
  }, []);

  // A new start, new filters, or settled weights: ask the server (weights debounced while sliding).
  useEffect(() => {
    const timer = setTimeout(() => load(start, weights, filters, prose), 300);
    return () => clearTimeout(timer);
  }, [start, weights, filters, prose, load]);

  const go = (next) => {
    const kept = trail.slice(0, position + 1);
    setTrail([...kept, next]);
    setPosition(kept.length);
    setPage(null);
    setPath(null);
    setPair(null);
    setDetail(null);
    if (view === "grid") window.scrollTo?.({ top: 0, behavior: "smooth" }); // on the map, stay where the click was
  };
  const exploreArtwork = (artwork) => go({ kind: "artwork", artwork });
  const exploreImage = (file) => go({ kind: "image", file, url: URL.createObjectURL(file) });
  const surprise = async () => {
    try {
      exploreArtwork(await randomArtwork());
    } catch (failure) {
      setError(failure.message);
    }
  };
  const pick = async (hit) => {
    try {
      exploreArtwork(await getArtwork(hit.id));
    } catch (failure) {
      setError(failure.message);
    }
  };
  const showConnect = async (artwork) => {
    if (!start || start.kind !== "artwork") {
      setError("Connect needs a start from the collection: pick one by search or from the results.");
      return;
    }
    try {
      setPath(await connect(start.artwork.id, artwork.id));
    } catch (failure) {
      setError(failure.message);
    }
  };

  const compare = async () => {
    try {
      setPair(await studyPair(start.artwork.id));
    } catch (failure) {
      setError(failure.message);
    }
  };

  const results = useMemo(
    () => (page ? rerank(page.results, weights, page.alpha, page.beta) : []),
    [page, weights],
  );
  const resultIds = useMemo(() => results.map((item) => item.artwork.id), [results]);
  const mapStart = start?.kind === "artwork" ? start.artwork.id : page?.recognised?.artwork.id;
  const show = (next) => {
    setView(next);
    if (next === "map") setMapOpened(true);
  };

  return (
    <div className="app">
      <header className="top">
        <h1>Asterism</h1>
        <p className="tagline">Related art from a picture — by form, by meaning, by history.</p>
      </header>
      <StartPicker onImage={exploreImage} onArtwork={pick} onSurprise={surprise} busy={loading} />
      {start && (
        <section className="start" aria-label="Current start" data-testid="start">
          <nav className="trail" aria-label="Trail">
            <button onClick={() => setPosition(position - 1)} disabled={position <= 0} aria-label="Back">← Back</button>
            <span>step {position + 1} of {trail.length}</span>
            <button onClick={() => setPosition(position + 1)} disabled={position >= trail.length - 1} aria-label="Forward">Forward →</button>
          </nav>
          <div className="start-body">
            {start.kind === "artwork" ? (
              <>
                {start.artwork.image && <img src={start.artwork.image.thumb} alt={start.artwork.title} width="160" />}
                <div>
                  <h2 data-testid="start-title">{start.artwork.title}</h2>
                  <p className="credit">{start.artwork.attribution}</p>
                  <div className="card-actions">
                    <button onClick={() => setDetail(start.artwork)}>Details</button>
                    <button onClick={compare} data-testid="compare">Compare two lists</button>
                  </div>
                </div>
              </>
            ) : (
              <>
                <img src={start.url} alt="Your picture" width="160" />
                <div>
                  <h2 data-testid="start-title">Your picture</h2>
                  {page?.recognised && (
                    <div className="recognised" data-testid="recognised">
                      {page.recognised.artwork.image && (
                        <img src={page.recognised.artwork.image.thumb} alt={page.recognised.artwork.title} width="72" />
                      )}
                      <p>
                        This looks like <strong>{page.recognised.artwork.title}</strong>
                        {page.recognised.artwork.artist && <> by {page.recognised.artwork.artist}</>}
                        {page.recognised.artwork.date && <>, {page.recognised.artwork.date}</>}
                        {" "}(confidence {page.recognised.confidence.toFixed(2)}). Below are its own related works.
                      </p>
                      <button onClick={() => exploreArtwork(page.recognised.artwork)} data-testid="explore-recognised">
                        Explore from it
                      </button>
                    </div>
                  )}
                  {page?.inferred_history && <p className="inferred" data-testid="inferred">{page.inferred_history}</p>}
                </div>
              </>
            )}
          </div>
          <div className="controls">
            <WeightSliders weights={weights} onChange={setWeights} />
            <ProseToggle checked={prose} onChange={setProse} />
            <FiltersForm value={filterForm} onChange={setFilterForm} onApply={() => setFilters(filtersFromForm(filterForm))} />
          </div>
        </section>
      )}
      {error && <p className="error" role="alert">{error}</p>}
      {loading && <p className="loading" aria-live="polite">Finding related works…</p>}
      {path && <ConnectPanel path={path} onClose={() => setPath(null)} />}
      {pair && <StudyPanel key={pair.pair_id} pair={pair} onClose={() => setPair(null)} />}
      <nav className="view-toggle" aria-label="View">
        <button aria-pressed={view === "grid"} onClick={() => show("grid")} data-testid="view-grid">Results</button>
        <button aria-pressed={view === "map"} onClick={() => show("map")} data-testid="view-map">Map</button>
      </nav>
      {mapOpened && (
        <div hidden={view !== "map"}>
          <MapView startId={mapStart} resultIds={resultIds} onExplore={(id) => pick({ id })} />
        </div>
      )}
      {view === "grid" && results.length > 0 && (
        <section className="results" aria-label="Related works" data-testid="results">
          {results.map((item) => (
            <ResultCard key={item.artwork.id} item={item} onExplore={exploreArtwork} onDetails={setDetail} onConnect={showConnect} />
          ))}
        </section>
      )}
      {view === "grid" && page && !loading && results.length === 0 && <p className="hint">No works match these filters.</p>}
      {detail && <DetailPanel artwork={detail} onClose={() => setDetail(null)} onExplore={(a) => exploreArtwork(a)} />}
      <footer className="foot">
        Open-access works with their licenses and sources. API docs at <a href="/docs">/docs</a>.
      </footer>
    </div>
  );
}
