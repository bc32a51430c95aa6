// The compare page's parallel coordinates: the dimensions chosen in the #dimensions menu (state.dimensions), the
// caption naming the run pointed at, and the run legend marking it.
import { describe, formatNumber } from "./compare-format.js";
import { drawParallelCoordinates } from "./parcoords.js";

const MAX_DEFAULT_DIMENSIONS = 8;
const CAPTION_HINT = "Point at a line, or tab to it, to see its run.";

/** Axes always follow the checkboxes' order (params, then metrics, each alphabetical), however they were chosen. */
export function inPageOrder(all, ids) {
  const wanted = new Set(ids);
  return all.filter((d) => wanted.has(d.id)).map((d) => d.id);
}

/** The ids drawn when the URL chooses none, out of `all` (the page's dimensions, in page order). */
export function defaultDimensions(all) {
  // What varies is what a comparison is about: a flat axis says only "all equal", which the table already shows.
  const varying = (kind) => all.filter((d) => d.kind === kind && d.differs);
  const params = varying("params");
  let metrics = varying("metrics");
  if (params.length + metrics.length < 2) metrics = all.filter((d) => d.kind === "metrics");
  // Leave room for a few metrics (the outcome is usually what one wants to relate the params to).
  const chosenParams = params.slice(0, MAX_DEFAULT_DIMENSIONS - Math.min(metrics.length, 3));
  const chosenMetrics = metrics.slice(0, MAX_DEFAULT_DIMENSIONS - chosenParams.length);
  return inPageOrder(all, [...chosenParams, ...chosenMetrics].map((d) => d.id));
}

/**
 * Draw the chart in #parcoords, one line per run of `runs` across `state.dimensions` (ids into `dimensions`), and
 * redraw it when the menu's choice or the chart's width changes; `save` is called when the choice does.
 */
export function wireParcoords({ dimensions, runs, state, save }) {
  const element = document.getElementById("parcoords");
  if (!element) return;
  const legendItems = [...document.querySelectorAll("#legend li")];
  const caption = document.getElementById("parcoords-caption");
  let parcoords = null;

  const captionFor = (index) => {
    if (index === null) return CAPTION_HINT;
    const chosen = state.dimensions.map((id) => dimensions.get(id));
    return [runs[index].name, ...chosen.map((d) => `${d.key} ${describe(d, index)}`)].join(" · ");
  };

  const draw = () => {
    document.getElementById("dimensions-count").textContent = String(state.dimensions.length);
    caption.textContent = state.dimensions.length ? CAPTION_HINT : "Choose dimensions to draw.";
    parcoords = drawParallelCoordinates(element, {
      dimensions: state.dimensions.map((id) => {
        const dimension = dimensions.get(id);
        return { id, label: dimension.key, values: dimension.values };
      }),
      lines: runs.map((run) => ({ id: run.id, name: run.name, color: run.color })),
      format: formatNumber,
      onActive: (index) => {
        if (state.dimensions.length) caption.textContent = captionFor(index);
        legendItems.forEach((item, i) => item.classList.toggle("active", i === index));
      },
    });
  };

  const boxes = [...document.querySelectorAll('#dimensions input[name="dim"]')];
  for (const box of boxes) box.checked = state.dimensions.includes(box.value);
  document.getElementById("dimensions").addEventListener("change", () => {
    state.dimensions = boxes.filter((box) => box.checked).map((box) => box.value);
    state.dimensionsChosen = true;
    save();
    draw();
  });
  legendItems.forEach((item, index) => {
    item.addEventListener("pointerenter", () => parcoords?.activate(index));
    item.addEventListener("pointerleave", () => parcoords?.activate(null));
  });
  let width = element.clientWidth;
  new ResizeObserver(() => {
    if (element.clientWidth === width) return;
    width = element.clientWidth;
    draw();
  }).observe(element);
  draw();
}
