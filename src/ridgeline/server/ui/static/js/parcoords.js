// Parallel coordinates as plain SVG: one path per run across one vertical axis per dimension.
// Plotly's parcoords needs WebGL, which headless browsers and some desktops lack; at most 50 lines, SVG is enough.
//
// drawParallelCoordinates(container, {dimensions, lines, format, onActive}) replaces the container's content.
//   dimensions: [{id, label, values}] with values[i] belonging to lines[i]; null/undefined is "not logged".
//   lines: [{id, name, color}]
//   format(number) -> text for numeric ticks; onActive(index | null) is told which line is highlighted.
// Numeric dimensions run from their minimum (bottom) to their maximum (top); any other dimension is categorical,
// its categories in natural order ("2" before "10"). A missing value leaves a gap in that run's line.

const SVG = "http://www.w3.org/2000/svg";
const MARGIN = { top: 46, right: 24, bottom: 24, left: 24 };
const HEIGHT = 340;
const MAX_CATEGORY_TICKS = 12;
const CHAR_WIDTH = 6.5; // about one character of the 12px UI font, to shorten labels that would collide

const natural = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

function svg(name, attributes = {}, parent = null) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (parent) parent.appendChild(element);
  return element;
}

function text(parent, content, attributes) {
  const element = svg("text", attributes, parent);
  element.textContent = content;
  return element;
}

function shorten(label, room) {
  const fits = Math.max(3, Math.floor(room / CHAR_WIDTH));
  return label.length <= fits ? label : `${label.slice(0, fits - 1)}…`;
}

// Plain decimal notation only, as the server reads param values (domain/values.py): "1e-3" is a number, "1_000" not.
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const NON_FINITE = new Set(["NaN", "Infinity", "-Infinity"]);

/** The number a value is or spells (a param's text, a metric's number), or null. */
export function asNumber(value) {
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  return typeof value === "string" && DECIMAL.test(value) ? Number(value) : null;
}

/**
 * A dimension's values as numbers (null where missing) when every present value is numeric, else null.
 * A metric's non-finite value (sent as "NaN", "Infinity") is numeric but has no place on an axis: null too.
 */
export function numericValues(values) {
  const numbers = [];
  for (const value of values) {
    const number = asNumber(value);
    if (number === null && typeof value === "string" && !NON_FINITE.has(value)) return null;
    numbers.push(number);
  }
  return numbers;
}

/** Where each value sits on an axis (0 = bottom, 1 = top, null = missing) and the ticks to label it with. */
function scaleDimension(values, format = String) {
  const numbers = numericValues(values);
  if (numbers) {
    const present = numbers.filter((n) => n !== null);
    if (present.length === 0) return { kind: "numeric", positions: numbers, ticks: [] };
    const min = Math.min(...present);
    const max = Math.max(...present);
    const span = max - min;
    const positions = numbers.map((n) => (n === null ? null : span === 0 ? 0.5 : (n - min) / span));
    if (span === 0) return { kind: "numeric", positions, ticks: [{ at: 0.5, label: format(min) }] };
    // Close extremes can round to the same text (0.99998 and 1 both read "1"): then every digit is shown.
    const same = format(min) === format(max);
    const ticks = [
      { at: 0, label: same ? String(min) : format(min) },
      { at: 1, label: same ? String(max) : format(max) },
    ];
    return { kind: "numeric", positions, ticks };
  }
  const labels = values.map((v) => (v === null || v === undefined ? null : String(v)));
  const categories = [...new Set(labels.filter((v) => v !== null))].sort(natural.compare);
  const at = (i) => (categories.length === 1 ? 0.5 : i / (categories.length - 1));
  const index = new Map(categories.map((c, i) => [c, i]));
  const shown = categories.length <= MAX_CATEGORY_TICKS ? categories : [categories[0], categories.at(-1)];
  return {
    kind: "categorical",
    positions: labels.map((v) => (v === null ? null : at(index.get(v)))),
    ticks: shown.map((label) => ({ at: at(index.get(label)), label })),
  };
}

/** Path data through the present points, starting a new stroke after each gap. */
function pathData(points) {
  let d = "";
  let drawing = false;
  for (const point of points) {
    if (point === null) {
      drawing = false;
      continue;
    }
    d += `${drawing ? "L" : "M"}${point[0].toFixed(1)},${point[1].toFixed(1)}`;
    drawing = true;
  }
  return d;
}

export function drawParallelCoordinates(container, { dimensions, lines, format = String, onActive = () => {} }) {
  container.replaceChildren();
  if (dimensions.length === 0) return null;
  const width = Math.max(container.clientWidth, 320);
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const step = dimensions.length > 1 ? plotWidth / (dimensions.length - 1) : 0;
  const xOf = (i) => MARGIN.left + (dimensions.length > 1 ? i * step : plotWidth / 2);
  const yOf = (position) => MARGIN.top + (1 - position) * plotHeight;
  const room = dimensions.length > 1 ? step - 8 : plotWidth;

  const root = svg("svg", {
    class: "pc",
    width,
    height: HEIGHT,
    viewBox: `0 0 ${width} ${HEIGHT}`,
    role: "group",
    "aria-label": `Parallel coordinates of ${lines.length} runs over ${dimensions.length} dimensions`,
  }, container);
  const scales = dimensions.map((dimension) => scaleDimension(dimension.values, format));

  // Painted in this order: axes, runs, the highlighted run, then tick labels (their halo over the lines).
  const axes = svg("g", { class: "pc-axes" }, root);
  const runs = svg("g", { class: "pc-runs" }, root);
  const highlight = svg("path", { class: "pc-highlight", d: "" }, root);
  const tickLabels = svg("g", { class: "pc-tick-labels" }, root);
  dimensions.forEach((dimension, i) => {
    const x = xOf(i);
    const axis = svg("g", { class: `pc-axis pc-${scales[i].kind}`, "data-dimension": dimension.id }, axes);
    svg("line", { x1: x, x2: x, y1: MARGIN.top, y2: MARGIN.top + plotHeight }, axis);
    // Labels alternate between two rows so that neighbours may use twice the room between axes.
    const labelRoom = dimensions.length > 1 ? room * 2 - 8 : room;
    const anchor = i === 0 && dimensions.length > 1 ? "start" : i === dimensions.length - 1 && i > 0 ? "end" : "middle";
    const label = text(axis, shorten(dimension.label, labelRoom), {
      class: "pc-label", x, y: i % 2 === 0 ? 14 : 30, "text-anchor": anchor,
    });
    svg("title", {}, label).textContent = dimension.label;
    // Tick labels sit right of their axis, except on the last axis, which has no room to its right.
    const last = i === dimensions.length - 1 && i > 0;
    const ticks = svg("g", { class: `pc-ticks pc-${scales[i].kind}`, "data-dimension": dimension.id }, tickLabels);
    for (const tick of scales[i].ticks) {
      const y = yOf(tick.at);
      svg("line", { class: "pc-tick", x1: x - 3, x2: x + 3, y1: y, y2: y }, axis);
      text(ticks, shorten(tick.label, Math.min(room, 160)), {
        class: "pc-tick-label",
        x: last ? x - 6 : x + 6,
        y: y + 4,
        "text-anchor": last ? "end" : "start",
      });
    }
  });

  const paths = lines.map((line, index) => {
    const points = scales.map((scale, i) => {
      const position = scale.positions[index];
      return position === null ? null : [xOf(i), yOf(position)];
    });
    const d = pathData(points);
    const group = svg("g", {
      class: "pc-run",
      tabindex: 0,
      role: "img",
      "aria-label": line.name,
      "data-run-id": line.id,
    }, runs);
    svg("title", {}, group).textContent = line.name;
    // A wide transparent stroke under the visible one, so that a 2px line is easy to point at.
    svg("path", { class: "pc-hit", d }, group);
    svg("path", { class: "pc-line", d, stroke: line.color }, group);
    return { group, d, line };
  });

  // The highlighted run is drawn again on top (SVG paints in document order), leaving the others where they are.
  let active = null;
  const activate = (index) => {
    if (index === active) return;
    if (active !== null) paths[active].group.classList.remove("active");
    active = index;
    root.classList.toggle("has-active", index !== null);
    if (index === null) {
      highlight.setAttribute("d", "");
    } else {
      paths[index].group.classList.add("active");
      highlight.setAttribute("d", paths[index].d);
      highlight.setAttribute("stroke", paths[index].line.color);
    }
    onActive(index);
  };
  paths.forEach(({ group }, index) => {
    group.addEventListener("pointerenter", () => activate(index));
    group.addEventListener("focus", () => activate(index));
    group.addEventListener("pointerleave", () => activate(null));
    group.addEventListener("blur", () => activate(null));
  });
  return { activate };
}
