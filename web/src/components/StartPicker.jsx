import { useRef, useState } from "react";
import { searchArtworks } from "../api.js";

// Choosing a start: drop or pick a picture (camera on phones), search by title/artist, or surprise.
export default function StartPicker({ onImage, onArtwork, onSurprise, busy }) {
  const [dragging, setDragging] = useState(false);
  const [text, setText] = useState("");
  const [hits, setHits] = useState([]);
  const [searchError, setSearchError] = useState("");
  const fileRef = useRef(null);
  const cameraRef = useRef(null);

  const take = (files) => {
    const file = files && files[0];
    if (file) onImage(file);
  };

  const search = async (event) => {
    event.preventDefault();
    if (!text.trim()) return;
    try {
      setSearchError("");
      const found = await searchArtworks(text.trim());
      setHits(found.results);
      if (!found.results.length) setSearchError("No title or artist matches.");
    } catch (error) {
      setSearchError(error.message);
    }
  };

  return (
    <section className="picker" aria-label="Choose a starting image">
      <div
        className={`dropzone${dragging ? " dragging" : ""}`}
        data-testid="dropzone"
        onDragOver={(event) => {
          event.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(event) => {
          event.preventDefault();
          setDragging(false);
          take(event.dataTransfer.files);
        }}
      >
        <p>Drop a picture here</p>
        <div className="picker-buttons">
          <button onClick={() => fileRef.current.click()} disabled={busy}>Choose a file</button>
          <button onClick={() => cameraRef.current.click()} disabled={busy} className="camera">Take a photo</button>
          <button onClick={onSurprise} disabled={busy} data-testid="surprise">Surprise me</button>
        </div>
        <input ref={fileRef} type="file" accept="image/jpeg,image/png,image/webp,image/tiff" hidden
               data-testid="file-input" onChange={(event) => take(event.target.files)} />
        <input ref={cameraRef} type="file" accept="image/*" capture="environment" hidden
               onChange={(event) => take(event.target.files)} />
      </div>
      <form className="search" onSubmit={search} role="search">
        <label htmlFor="search-input">Search by title or artist</label>
        <div className="search-row">
          <input id="search-input" data-testid="search-input" value={text} placeholder="e.g. Monet, harbour"
                 onChange={(event) => setText(event.target.value)} />
          <button type="submit">Search</button>
        </div>
        {searchError && <p className="hint">{searchError}</p>}
        {hits.length > 0 && (
          <ul className="search-hits">
            {hits.map((hit) => (
              <li key={hit.id}>
                <button data-testid="search-result" onClick={() => { setHits([]); onArtwork(hit); }}>
                  {hit.thumb && <img src={hit.thumb} alt={hit.title} width="48" height="48" />}
                  <span>{hit.title}{hit.artist ? ` — ${hit.artist}` : ""}{hit.date ? ` (${hit.date})` : ""}</span>
                </button>
              </li>
            ))}
          </ul>
        )}
      </form>
    </section>
  );
}
