// Pictures of a reason's facts, drawn from the structured fields the server sends beside the
// phrases (Reason.colours / layouts / dates): shared colours as swatch pairs (start | result),
// the two light-and-dark layouts the composition part compares, and the two dates on a timeline.
export default function ReasonFigures({ reason }) {
  const { colours, layouts, dates } = reason;
  const timeline = dates && dates.gap !== null && dates.start && dates.result;
  if (!colours?.length && !layouts && !timeline) return null;
  return (
    <div className="figures">
      {colours?.length > 0 && <Swatches colours={colours} />}
      {layouts && <Layouts layouts={layouts} />}
      {timeline && <Timeline dates={dates} />}
    </div>
  );
}

const percent = (share) => `${Math.round(share * 100)} %`;

function Swatches({ colours }) {
  return (
    <ul className="colour-pairs" aria-label="Shared colours, start and result">
      {colours.map((c) => {
        const text = `${c.name}: start ${c.start_hex} (${percent(c.start_share)}) | result ${c.result_hex} (${percent(c.result_share)})`;
        return (
          <li key={`${c.start_hex}-${c.result_hex}`} className="colour-pair" data-testid="colour-pair" title={text} aria-label={text} role="img">
            <span className="chip" data-testid="chip-start" data-hex={c.start_hex} style={{ backgroundColor: c.start_hex }} />
            <span className="chip" data-testid="chip-result" data-hex={c.result_hex} style={{ backgroundColor: c.result_hex }} />
          </li>
        );
      })}
    </ul>
  );
}

function Grid({ values, label }) {
  const size = values.length;
  return (
    <svg className="layout-grid" viewBox={`0 0 ${size} ${size}`} width="44" height="44" role="img" aria-label={label} shapeRendering="crispEdges">
      <title>{label}</title>
      {values.flatMap((row, y) =>
        row.map((v, x) => {
          const grey = Math.round(25 + v * 215);
          return <rect key={`${x}-${y}`} x={x} y={y} width="1" height="1" fill={`rgb(${grey},${grey},${grey})`} />;
        }),
      )}
    </svg>
  );
}

function Layouts({ layouts }) {
  return (
    <figure className="layouts" data-testid="layouts">
      <Grid values={layouts.start} label="Start: where its light and dark fall" />
      <Grid values={layouts.result} label="Result: where its light and dark fall" />
      <figcaption>layouts, composition {layouts.similarity.toFixed(2)}</figcaption>
    </figure>
  );
}

const year = (y) => (y < 0 ? `${-y} BCE` : `${y}`);
const when = (span) => (span.start === span.end ? year(span.start) : `${year(span.start)}–${year(span.end)}`);

function Timeline({ dates }) {
  const { start, result, gap } = dates;
  const lo = Math.min(start.start, result.start);
  const hi = Math.max(start.end, result.end);
  const pad = Math.max(5, (hi - lo) * 0.15);
  const x = (y) => 12 + ((y - lo + pad) / (hi - lo + 2 * pad)) * 196;
  const at = (v) => Math.min(180, Math.max(40, v));
  const years = `${gap} year${gap === 1 ? "" : "s"}`;
  // An upload's date is a period inferred from its nearest works: the gap is to that period's middle.
  const gapText = start.inferred
    ? gap === 0 ? "at the middle of the start's inferred period" : `${years} from the middle of the start's inferred period`
    : gap === 0 ? "same year" : `${years} apart`;
  const label = `Timeline: start ${when(start)}${start.inferred ? " (inferred)" : ""}, result ${when(result)}, ${gapText}`;
  const side = (span, cls, tickY, textY, word) => {
    const middle = x((span.start + span.end) / 2);
    return (
      <g className={cls}>
        {span.end > span.start && <line x1={x(span.start)} x2={x(span.end)} y1="20" y2="20" strokeWidth="4" />}
        <line x1={middle} x2={middle} y1={tickY[0]} y2={tickY[1]} strokeWidth="2" />
        <text x={at(middle)} y={textY} textAnchor="middle">{`${word} ${when(span)}`}</text>
      </g>
    );
  };
  return (
    <figure className="timeline" data-testid="timeline">
      <svg viewBox="0 0 220 42" role="img" aria-label={label}>
        <title>{label}</title>
        <line className="timeline-axis" x1="8" x2="212" y1="20" y2="20" strokeWidth="1" />
        {side(start, `timeline-start${start.inferred ? " inferred" : ""}`, [12, 20], 9, start.inferred ? "start ~" : "start")}
        {side(result, "timeline-result", [20, 28], 40, "result")}
      </svg>
      <figcaption data-testid="timeline-gap">{gapText}</figcaption>
    </figure>
  );
}
