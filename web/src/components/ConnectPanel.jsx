// The chain of affinities and artist links joining two works, step by step.
export default function ConnectPanel({ path, onClose }) {
  return (
    <section className="connect" data-testid="connect-steps" aria-label="Connection">
      <div className="connect-head">
        <h2>Connection</h2>
        <button onClick={onClose} aria-label="Close connection">×</button>
      </div>
      {!path.found ? (
        <p>No chain of at most six steps joins these two works.</p>
      ) : (
        <ol>
          {path.steps.map((step, index) => (
            <li key={index} data-testid="connect-step">
              <strong>{step.source}</strong> → <strong>{step.target}</strong>
              <span className="relation"> {step.relation}{step.weight != null ? ` ${step.weight.toFixed(2)}` : ""}</span>
              <div className="reason">{step.reason}</div>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
