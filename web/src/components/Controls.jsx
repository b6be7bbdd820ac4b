// Weight sliders (re-rank live) and filters (date range, source, license, type).
const NAMES = ["formal", "conceptual", "historical"];

export function WeightSliders({ weights, onChange }) {
  return (
    <fieldset className="sliders">
      <legend>Weights</legend>
      {NAMES.map((name) => (
        <label key={name} className="slider">
          <span>{name}</span>
          <input type="range" min="0" max="1" step="0.05" value={weights[name]} data-testid={`slider-${name}`}
                 aria-label={`${name} weight`}
                 onChange={(event) => onChange({ ...weights, [name]: Number(event.target.value) })} />
          <output>{weights[name].toFixed(2)}</output>
        </label>
      ))}
    </fieldset>
  );
}

// Prose: a sentence or two per result, written from its reasons only (the server's template,
// or a language model it is configured with; a text naming anything not in the reasons is refused).
export function ProseToggle({ checked, onChange }) {
  return (
    <label className="prose-toggle">
      <input type="checkbox" checked={checked} data-testid="prose-toggle"
             onChange={(event) => onChange(event.target.checked)} />
      <span>Say it in words</span>
    </label>
  );
}

export function FiltersForm({ value, onChange, onApply }) {
  const field = (key, label, props = {}) => (
    <label className="filter">
      <span>{label}</span>
      <input value={value[key]} onChange={(event) => onChange({ ...value, [key]: event.target.value })} {...props} />
    </label>
  );
  return (
    <form className="filters" onSubmit={(event) => { event.preventDefault(); onApply(); }}>
      <fieldset>
        <legend>Filters</legend>
        {field("dateFrom", "From year", { inputMode: "numeric", placeholder: "1800" })}
        {field("dateTo", "To year", { inputMode: "numeric", placeholder: "1900" })}
        {field("source", "Source", { placeholder: "aic, met, commons, local" })}
        {field("license", "License", { placeholder: "CC0-1.0, PD" })}
        {field("type", "Type", { placeholder: "Painting" })}
        <button type="submit">Apply</button>
      </fieldset>
    </form>
  );
}
