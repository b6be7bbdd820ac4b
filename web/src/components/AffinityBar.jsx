import ReasonFigures from "./ReasonFigures.jsx";

// One affinity of a result: its score as a bar, the reasons computed by the server, and their pictures.
export default function AffinityBar({ name, reason }) {
  const percent = Math.round(reason.score * 100);
  const label = name[0].toUpperCase() + name.slice(1);
  return (
    <div className={`affinity affinity-${name}`} data-testid={`bar-${name}`}>
      <div className="affinity-head">
        <span>{label}</span>
        <span className="affinity-value">{reason.score.toFixed(2)}{reason.inferred ? " (inferred)" : ""}</span>
      </div>
      <div className="bar" role="meter" aria-label={`${label} affinity`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent}>
        <div className="bar-fill" style={{ width: `${percent}%` }} />
      </div>
      {reason.reasons.length > 0 && (
        <ul className="reasons">
          {reason.reasons.slice(0, 3).map((text) => (
            <li key={text}>{text}</li>
          ))}
        </ul>
      )}
      <ReasonFigures reason={reason} />
    </div>
  );
}
