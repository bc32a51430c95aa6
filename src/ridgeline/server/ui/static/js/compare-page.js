// The compare page: overlaid metric charts from one bulk histories request, the "only differences" toggle of
// the table, parallel coordinates and a scatter over the params and metrics embedded in the page (#compare-data).
// Every choice lives in the URL (replaceState), so a comparison can be shared as a link.
import { markReady } from "./base.js";
import {
  drawMetricChart,
  fetchHistories,
  onZoom,
  palette,
  plotlyText,
  theme,
  withDetail,
} from "./charts.js";
import { asNumber, drawParallelCoordinates, numericValues } from "./parcoords.js";

const data = JSON.parse(document.getElementById("compare-data").textContent);
const runs = data.runs.map((run, index) => ({ ...run, index, color: palette(index) }));

// This module loads with `async`: the one bulk history request starts before the body is parsed and while
// Plotly is still loading. Many overlaid traces hide detail anyway, so more than ten runs get fewer points each.
const HISTORY_POINTS = runs.length > 10 ? 500 : 1000;
const initialHistories = data.metricKeys.length
  ? fetchHistories(
      runs.map((run) => run.id),
      data.metricKeys,
      { points: HISTORY_POINTS },
    )
  : Promise.resolve(new Map());
// Awaited once the page is drawn; until then a failure must not count as an unhandled rejection.
initialHistories.catch(() => {});
await new Promise((resolve) => {
  // Deferred scripts (Plotly) run before DOMContentLoaded, so Plotly being there means that moment has passed.
  if (document.readyState !== "loading" && window.Plotly) resolve();
  else document.addEventListener("DOMContentLoaded", resolve, { once: true });
});
const dimensions = new Map(data.dimensions.map((dimension) => [dimension.id, dimension]));
const X_MODES = ["step", "wall", "relative"];
const MAX_DEFAULT_DIMENSIONS = 8;

// ---------------------------------------------------------------------------------------------- state and URL

const query = new URLSearchParams(window.location.search);

function defaultDimensions() {
  // What varies is what a comparison is about: a flat axis says only "all equal", which the table already shows.
  const varying = (kind) => data.dimensions.filter((d) => d.kind === kind && d.differs);
  const params = varying("params");
  let metrics = varying("metrics");
  if (params.length + metrics.length < 2) metrics = data.dimensions.filter((d) => d.kind === "metrics");
  // Leave room for a few metrics (the outcome is usually what one wants to relate the params to).
  const chosenParams = params.slice(0, MAX_DEFAULT_DIMENSIONS - Math.min(metrics.length, 3));
  const chosenMetrics = metrics.slice(0, MAX_DEFAULT_DIMENSIONS - chosenParams.length);
  return inPageOrder([...chosenParams, ...chosenMetrics].map((d) => d.id));
}

/** Axes always follow the checkboxes' order (params, then metrics, each alphabetical), however they were chosen. */
function inPageOrder(ids) {
  const wanted = new Set(ids);
  return data.dimensions.filter((d) => wanted.has(d.id)).map((d) => d.id);
}

function readDimensions() {
  const asked = query.getAll("dim");
  // A lone empty ?dim= is how "no dimensions" is written; no ?dim at all means the default choice.
  if (asked.length === 0) return { ids: defaultDimensions(), chosen: false };
  return { ids: inPageOrder(asked), chosen: true };
}

function defaultScatterAxes() {
  const ids = [...dimensions.keys()];
  const varying = data.dimensions.find((d) => d.kind === "params" && d.differs) ?? data.dimensions[0];
  const metric = data.dimensions.find((d) => d.kind === "metrics" && d.id !== varying?.id);
  const y = metric ?? data.dimensions.find((d) => d.id !== varying?.id) ?? varying;
  return { x: varying?.id ?? ids[0], y: y?.id ?? ids[0] };
}

function smoothingFrom(text) {
  const weight = Number(text);
  return weight >= 0 && weight <= 0.99 ? Math.round(weight * 100) / 100 : 0;
}

const scatterDefaults = defaultScatterAxes();
const initialDimensions = readDimensions();
const state = {
  // The same names and leniency as the run page (and views/run.py's chart_view), so links read alike.
  xMode: X_MODES.includes(query.get("x")) ? query.get("x") : "step",
  smoothing: smoothingFrom(query.get("smooth")),
  logY: ["1", "true", "on"].includes(query.get("log")),
  onlyDifferences: query.get("diff") === "1",
  dimensions: initialDimensions.ids,
  dimensionsChosen: initialDimensions.chosen,
  scatterX: dimensions.has(query.get("sx")) ? query.get("sx") : scatterDefaults.x,
  scatterY: dimensions.has(query.get("sy")) ? query.get("sy") : scatterDefaults.y,
};

/** Rewrite the address to hold every choice that differs from the default (short links stay short). */
function saveState() {
  const params = new URLSearchParams();
  if (state.xMode !== "step") params.set("x", state.xMode);
  if (state.smoothing > 0) params.set("smooth", String(state.smoothing));
  if (state.logY) params.set("log", "1");
  if (state.onlyDifferences) params.set("diff", "1");
  if (state.dimensionsChosen) {
    if (state.dimensions.length === 0) params.append("dim", "");
    for (const id of state.dimensions) params.append("dim", id);
  }
  if (state.scatterX !== scatterDefaults.x) params.set("sx", state.scatterX);
  if (state.scatterY !== scatterDefaults.y) params.set("sy", state.scatterY);
  // Run ids are hex: written by hand so the list keeps its readable commas (URLSearchParams would escape them).
  const rest = params.toString();
  const search = `?runs=${runs.map((run) => run.id).join(",")}${rest ? `&${rest}` : ""}`;
  window.history.replaceState(window.history.state, "", `${window.location.pathname}${search}`);
}

// -------------------------------------------------------------------------------------------------- numbers

/** Four significant digits, like the server's number filter (ui/format.py). */
function formatNumber(value) {
  if (typeof value !== "number") return String(value);
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "∞" : "-∞";
  const magnitude = Math.abs(value);
  if (Number.isInteger(value) && magnitude < 1e15) return value.toLocaleString("en-US");
  if (magnitude >= 1e6 || magnitude < 1e-3) return value.toExponential(3).replace(/\.?0+e/, "e");
  return value.toLocaleString("en-US", { maximumSignificantDigits: 4 });
}

/** A dimension's values for an axis: numbers when every present value is one, otherwise text categories. */
function axisValues(dimension) {
  const numbers = numericValues(dimension.values);
  if (numbers) return { numeric: true, values: numbers };
  return { numeric: false, values: dimension.values.map((v) => (v === null || v === undefined ? null : String(v))) };
}

function describe(dimension, index) {
  const value = dimension.values[index];
  if (value === null || value === undefined) return "—";
  const number = asNumber(value);
  return number === null ? String(value) : formatNumber(number);
}

// -------------------------------------------------------------------------------------------------- colours

for (const swatch of document.querySelectorAll(".swatch[data-index]")) {
  swatch.style.backgroundColor = runs[Number(swatch.dataset.index)].color;
}

// --------------------------------------------------------------------------------------------------- charts

const chartsStatus = document.getElementById("charts-status");
const chartCards = [...document.querySelectorAll("#charts .chart-card")];
const charts = chartCards.map((card) => ({ key: card.dataset.key, element: card.querySelector(".chart"), series: [] }));

async function drawChart(chart) {
  await drawMetricChart(chart.element, {
    title: "",
    series: chart.series,
    xMode: state.xMode,
    smoothing: state.smoothing,
    logY: state.logY,
    // The page's run legend names every colour; a legend per chart would repeat it and squeeze the plot.
    showLegend: false,
  });
}

function seriesOf(histories, key) {
  const series = [];
  for (const run of runs) {
    const history = histories.get(run.id)?.get(key);
    if (!history || history.steps.length === 0) continue;
    series.push({ ...history, name: run.name, runId: run.id, startTime: run.startTime, color: run.color });
  }
  return series;
}

/** Zooming a step axis fetches that range in detail for every run in the chart (stale answers are dropped). */
function followZoom(chart, points) {
  const overview = chart.series;
  let asked = 0;
  onZoom(chart.element, async (minStep, maxStep) => {
    const ticket = ++asked;
    if (minStep === null) {
      chart.series = overview;
    } else {
      let detail;
      try {
        detail = await fetchHistories(overview.map((s) => s.runId), [chart.key], { points, minStep, maxStep });
      } catch (error) {
        chartsStatus.textContent = `Detail for ${chart.key} could not be loaded: ${error.message}`;
        return;
      }
      if (ticket !== asked) return;
      chart.series = overview.map((s) => withDetail(s, detail.get(s.runId).get(chart.key), minStep, maxStep));
    }
    await drawChart(chart);
  });
}

async function drawCharts() {
  if (charts.length === 0) return;
  const points = HISTORY_POINTS;
  const histories = await initialHistories;
  await Promise.all(
    charts.map(async (chart) => {
      chart.series = seriesOf(histories, chart.key);
      await drawChart(chart);
      followZoom(chart, points);
    }),
  );
}

// A dragged slider fires faster than every chart redraws: run one redraw at a time, and once more at the end.
let redrawing = null;
let redrawAgain = false;

async function redrawCharts() {
  if (redrawing) {
    redrawAgain = true;
    return;
  }
  redrawing = (async () => {
    do {
      redrawAgain = false;
      await Promise.all(charts.filter((chart) => chart.series.length).map(drawChart));
    } while (redrawAgain);
  })();
  try {
    await redrawing;
  } finally {
    redrawing = null;
  }
}

function wireChartControls() {
  const controls = document.getElementById("chart-controls");
  if (!controls) return;
  // The server drew the controls from the URL already; only the output's text needs the parsed weight.
  document.getElementById("smooth-value").textContent = state.smoothing.toFixed(2);
  controls.addEventListener("submit", (event) => event.preventDefault());
  controls.addEventListener("input", () => {
    state.xMode = controls.elements.x.value;
    state.smoothing = Number(controls.elements.smooth.value);
    state.logY = controls.elements.log.checked;
    document.getElementById("smooth-value").textContent = state.smoothing.toFixed(2);
    saveState();
    redrawCharts();
  });
}

// ---------------------------------------------------------------------------------------- difference table

function showOnlyDifferences() {
  const table = document.getElementById("differences");
  if (!table) return;
  for (const body of table.tBodies) {
    let shown = 0;
    for (const row of body.rows) {
      if (row.classList.contains("group-row")) continue;
      row.hidden = state.onlyDifferences && !row.classList.contains("differs");
      if (!row.hidden) shown++;
    }
    body.hidden = shown === 0;
  }
}

function wireTable() {
  const toggle = document.getElementById("only-differences");
  if (!toggle) return;
  toggle.checked = state.onlyDifferences;
  toggle.addEventListener("change", () => {
    state.onlyDifferences = toggle.checked;
    saveState();
    showOnlyDifferences();
  });
  showOnlyDifferences();
}

// ------------------------------------------------------------------------------------ parallel coordinates

const legendItems = [...document.querySelectorAll("#legend li")];
const parcoordsElement = document.getElementById("parcoords");
const caption = document.getElementById("parcoords-caption");
const CAPTION_HINT = "Point at a line, or tab to it, to see its run.";
let parcoords = null;

function captionFor(index) {
  if (index === null) return CAPTION_HINT;
  const chosen = state.dimensions.map((id) => dimensions.get(id));
  return [runs[index].name, ...chosen.map((d) => `${d.key} ${describe(d, index)}`)].join(" · ");
}

function drawParcoords() {
  if (!parcoordsElement) return;
  document.getElementById("dimensions-count").textContent = String(state.dimensions.length);
  caption.textContent = state.dimensions.length ? CAPTION_HINT : "Choose dimensions to draw.";
  parcoords = drawParallelCoordinates(parcoordsElement, {
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
}

function wireParcoords() {
  if (!parcoordsElement) return;
  const boxes = [...document.querySelectorAll('#dimensions input[name="dim"]')];
  for (const box of boxes) box.checked = state.dimensions.includes(box.value);
  document.getElementById("dimensions").addEventListener("change", () => {
    state.dimensions = boxes.filter((box) => box.checked).map((box) => box.value);
    state.dimensionsChosen = true;
    saveState();
    drawParcoords();
  });
  legendItems.forEach((item, index) => {
    item.addEventListener("pointerenter", () => parcoords?.activate(index));
    item.addEventListener("pointerleave", () => parcoords?.activate(null));
  });
  let width = parcoordsElement.clientWidth;
  new ResizeObserver(() => {
    if (parcoordsElement.clientWidth === width) return;
    width = parcoordsElement.clientWidth;
    drawParcoords();
  }).observe(parcoordsElement);
  drawParcoords();
}

// ---------------------------------------------------------------------------------------------------- scatter

const scatterElement = document.getElementById("scatter");

function scatterAxis(dimension, axis, colours) {
  return {
    type: axis.numeric ? "linear" : "category",
    categoryorder: axis.numeric ? undefined : "category ascending",
    title: { text: plotlyText(`${dimension.kind === "params" ? "param" : "metric"} ${dimension.key}`), font: { size: 12 } },
    gridcolor: colours.grid,
    linecolor: colours.grid,
    zerolinecolor: colours.grid,
    tickfont: { color: colours.soft },
    automargin: true,
  };
}

function drawScatter() {
  const xDimension = dimensions.get(state.scatterX);
  const yDimension = dimensions.get(state.scatterY);
  const xAxis = axisValues(xDimension);
  const yAxis = axisValues(yDimension);
  const shown = runs.filter((run) => xAxis.values[run.index] !== null && yAxis.values[run.index] !== null);
  const colours = theme();
  const trace = {
    type: "scatter",
    mode: "markers",
    x: shown.map((run) => xAxis.values[run.index]),
    y: shown.map((run) => yAxis.values[run.index]),
    customdata: shown.map((run) => run.id),
    // Prebuilt text, not a hovertemplate: a key containing "%{" must not be read as a placeholder.
    hovertext: shown.map((run) =>
      [
        // No <b>: Plotly styles it with a style attribute, which the page's CSP refuses.
        plotlyText(run.name),
        `${plotlyText(xDimension.key)}: ${plotlyText(describe(xDimension, run.index))}`,
        `${plotlyText(yDimension.key)}: ${plotlyText(describe(yDimension, run.index))}`,
      ].join("<br>"),
    ),
    hoverinfo: "text",
    marker: { color: shown.map((run) => run.color), size: 11, line: { width: 1, color: colours.bg } },
  };
  const layout = {
    paper_bgcolor: colours.bg,
    plot_bgcolor: colours.bg,
    font: { color: colours.fg, size: 11, family: getComputedStyle(scatterElement).fontFamily },
    margin: { l: 64, r: 16, t: 12, b: 48 },
    xaxis: scatterAxis(xDimension, xAxis, colours),
    yaxis: scatterAxis(yDimension, yAxis, colours),
    hovermode: "closest",
    hoverlabel: { bgcolor: colours.bg, bordercolor: colours.soft, font: { color: colours.fg } },
    showlegend: false,
  };
  const missing = runs.length - shown.length;
  document.getElementById("scatter-note").textContent = missing
    ? `${missing} of ${runs.length} runs lack one of these values and are not shown.`
    : "Click a point to open its run.";
  return window.Plotly.react(scatterElement, [trace], layout, { displaylogo: false, responsive: true });
}

async function wireScatter() {
  if (!scatterElement) return;
  const selects = { scatterX: document.getElementById("scatter-x"), scatterY: document.getElementById("scatter-y") };
  for (const [name, select] of Object.entries(selects)) {
    select.value = state[name];
    select.addEventListener("change", () => {
      state[name] = select.value;
      saveState();
      drawScatter();
    });
  }
  await drawScatter();
  scatterElement.on("plotly_click", (event) => {
    const runId = event.points[0]?.customdata;
    if (runId) window.location.href = `/runs/${runId}`;
  });
}

// ------------------------------------------------------------------------------------------------------ start

async function start() {
  wireChartControls();
  wireTable();
  wireParcoords();
  const chartsDrawn = drawCharts().catch((error) => {
    chartsStatus.textContent = `Charts could not be loaded: ${error.message}`;
  });
  await Promise.all([chartsDrawn, wireScatter()]);
  markReady();
}

start();
