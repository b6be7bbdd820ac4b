import { useEffect, useRef } from "react";

// Full metadata of one work, its medium-size picture and the link to its source.
export default function DetailPanel({ artwork, onClose, onExplore }) {
  const closeRef = useRef(null);
  useEffect(() => {
    closeRef.current?.focus();
    const onKey = (event) => event.key === "Escape" && onClose();
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);
  const rows = [
    ["Artist", artwork.artist_display || artwork.artist],
    ["Date", artwork.date],
    ["Culture", artwork.culture],
    ["Type", artwork.classification],
    ["Medium", artwork.medium],
    ["Subjects", artwork.subjects?.join(", ")],
    ["Styles", artwork.styles?.join(", ")],
    ["Credit", artwork.credit_line],
    ["Source", artwork.source_name],
    ["License", artwork.license_id + (artwork.license && artwork.license !== artwork.license_id ? ` (${artwork.license})` : "")],
  ].filter(([, value]) => value);
  return (
    <div className="overlay" onClick={onClose}>
      <aside className="detail" role="dialog" aria-modal="true" aria-label={artwork.title} data-testid="detail-panel"
             onClick={(event) => event.stopPropagation()}>
        <button ref={closeRef} className="close" onClick={onClose} aria-label="Close details">×</button>
        {artwork.image && <img src={artwork.image.medium} alt={artwork.title} />}
        <h2>{artwork.title}</h2>
        <p className="credit">{artwork.attribution}</p>
        <dl>
          {rows.map(([key, value]) => (
            <div key={key}><dt>{key}</dt><dd>{value}</dd></div>
          ))}
        </dl>
        {artwork.description && <p className="description">{artwork.description}</p>}
        <div className="card-actions">
          {artwork.source_url && <a href={artwork.source_url} target="_blank" rel="noreferrer">View at the source</a>}
          <button onClick={() => onExplore(artwork)}>Explore from here</button>
        </div>
      </aside>
    </div>
  );
}
