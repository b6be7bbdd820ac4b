import { useState } from "react";
import { studyVote } from "../api.js";

// The blind preference study: two lists from two weightings, sides drawn by the server; one vote.
function Column({ label, items }) {
  return (
    <div className="study-column">
      <h3>{label}</h3>
      <ol>
        {items.map((item) => (
          <li key={item.artwork.id}>
            {item.artwork.image && <img src={item.artwork.image.thumb} alt={item.artwork.title} width="64" height="64" />}
            <span>{item.artwork.title}</span>
          </li>
        ))}
      </ol>
    </div>
  );
}

export default function StudyPanel({ pair, onClose }) {
  const [done, setDone] = useState("");
  const vote = async (choice) => {
    try {
      await studyVote(pair.pair_id, choice);
      setDone("Thank you — your vote is recorded.");
    } catch (failure) {
      setDone(failure.message);
    }
  };
  return (
    <section className="study" data-testid="study" aria-label="Which list is better?">
      <div className="connect-head">
        <h2>Which list relates better to the start?</h2>
        <button onClick={onClose} aria-label="Close the comparison">×</button>
      </div>
      <div className="study-columns">
        <Column label="Left" items={pair.left} />
        <Column label="Right" items={pair.right} />
      </div>
      {done ? (
        <p data-testid="study-done">{done}</p>
      ) : (
        <div className="card-actions">
          <button onClick={() => vote("left")}>Left is better</button>
          <button onClick={() => vote("tie")}>About the same</button>
          <button onClick={() => vote("right")}>Right is better</button>
        </div>
      )}
    </section>
  );
}
