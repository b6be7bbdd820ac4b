import AffinityBar from "./AffinityBar.jsx";

// A result: thumbnail (low resolution first), three affinity bars with reasons, credit and license.
export default function ResultCard({ item, onExplore, onDetails, onConnect }) {
  const art = item.artwork;
  return (
    <article className="card" data-testid="result-card" data-artwork-id={art.id}>
      <button className="thumb-button" onClick={() => onExplore(art)} aria-label={`Explore from ${art.title}`}>
        {art.image ? (
          <img src={art.image.thumb} alt={art.title} loading="lazy" width="256" height="256" />
        ) : (
          <div className="no-image">no image</div>
        )}
      </button>
      <div className="card-body">
        <h3 className="card-title">
          <span className="rank">{item.rank}.</span> {art.title}
        </h3>
        <p className="credit">{item.attribution}</p>
        {item.prose && (
          <p className="prose" data-testid="prose" data-source={item.prose.source}>{item.prose.text}</p>
        )}
        {["formal", "conceptual", "historical"].map((name) => (
          <AffinityBar key={name} name={name} reason={item[name]} />
        ))}
        <div className="card-actions">
          <button onClick={() => onExplore(art)}>Explore from here</button>
          <button onClick={() => onDetails(art)} data-testid="details-button">Details</button>
          <button onClick={() => onConnect(art)} data-testid="connect-button">Connect</button>
        </div>
      </div>
    </article>
  );
}
