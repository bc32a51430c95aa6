// Metric charts shared by the run and compare pages: bulk history fetching, smoothing, x-axis modes and one
// Plotly drawing routine, so every chart in the UI looks and behaves the same.
//
// Plotly (window.Plotly) is loaded by base.html when the page's template context has charts=True. Traces are
// SVG "scatter", never "scattergl": WebGL is missing in headless Chromium and on many remote desktops.
import { ApiError, api } from "./api.js";

// The bulk endpoint's limits (server/api/logging.py and server/schemas.py).
const MAX_PAIRS = 1000;
const MAX_RUNS = 50;
const MAX_KEYS = 200;

const NON_FINITE = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, "-Infinity": Number.NEGATIVE_INFINITY };

/** Values as numbers: the server spells non-finite values "NaN", "Infinity", "-Infinity" (JSON has no such numbers). */
function decodeValues(values) {
  // Only series that hold a non-finite value carry strings; the common case is returned untouched.
  if (!values.some((value) => typeof value === "string")) return values;
  return values.map((value) => (typeof value === "string" ? NON_FINITE[value] ?? Number.NaN : value));
}

function chunks(items, size) {
  const out = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Histories of `keys` for `runIds`, as Map runId → Map key → {steps, values, timestamps, total, downsampled}.
 *
 * `points` asks the server to downsample each series to about that many points (shape-keeping min/max);
 * `minStep` / `maxStep` limit the step range. Requests are split to stay within the endpoint's limits
 * (at most 50 runs and 1000 (run, key) pairs each) and sent together.
 */
export async function fetchHistories(runIds, keys, { points, minStep, maxStep, method } = {}) {
  const runs = [...new Set(runIds)];
  const wanted = [...new Set(keys)];
  if (!runs.length || !wanted.length) return collect(runs, []);
  const keysPerRequest = Math.min(wanted.length, MAX_KEYS, MAX_PAIRS);
  const runsPerRequest = Math.max(1, Math.min(MAX_RUNS, Math.floor(MAX_PAIRS / keysPerRequest)));
  const options = {};
  if (points != null) options.points = Math.max(3, Math.round(points));
  if (minStep != null) options.min_step = minStep;
  if (maxStep != null) options.max_step = maxStep;
  if (method != null) options.method = method;
  const requests = [];
  for (const runChunk of chunks(runs, runsPerRequest)) {
    for (const keyChunk of chunks(wanted, keysPerRequest)) {
      requests.push(api("POST", "/runs/histories", { run_ids: runChunk, keys: keyChunk, ...options }));
    }
  }
  return collect(runs, await Promise.all(requests));
}

/** Map runId → Map key → series, from the endpoints' answers ({histories: [...]}). */
function collect(runIds, answers) {
  const result = new Map(runIds.map((runId) => [runId, new Map()]));
  for (const answer of answers) {
    for (const history of answer.histories) {
      result.get(history.run_id).set(history.key, {
        steps: history.steps,
        values: decodeValues(history.values),
        timestamps: history.timestamps,
        total: history.total,
        downsampled: history.downsampled,
      });
    }
  }
  return result;
}

/**
 * Every metric of one run from `url` (GET /api/v1/runs/{id}/metrics/histories), in fetchHistories' shape.
 * Fetched exactly as the page's `<link rel="preload">` asked (same URL, no extra headers), so the browser hands
 * over the response already under way.
 */
export async function fetchRunHistories(runId, url) {
  const response = await fetch(url);
  const answer = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, answer?.error);
  return collect([runId], [answer]);
}

/**
 * TensorBoard's smoothing: an exponential moving average, debiased so the first points are not pulled towards 0.
 * `weight` is 0 (none) to 0.99. Non-finite values are passed through and do not poison what follows.
 */
export function smooth(values, weight) {
  const w = Math.min(Math.max(Number(weight) || 0, 0), 0.99);
  if (w === 0) return values.slice();
  const out = new Array(values.length);
  let average = 0;
  let decay = 1;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (!Number.isFinite(value)) {
      out[i] = value;
      continue;
    }
    average = average * w + (1 - w) * value;
    decay *= w;
    out[i] = average / (1 - decay);
  }
  return out;
}

/**
 * The x coordinates of a series: its steps ("step"), the wall-clock time of each point as Date objects ("wall"),
 * or seconds since the run started ("relative"; the first point's time when `startTime` is not known).
 */
export function xValues(series, mode, startTime) {
  if (mode === "wall") return series.timestamps.map((t) => new Date(t));
  if (mode === "relative") {
    const start = startTime ?? series.startTime ?? series.timestamps[0] ?? 0;
    return series.timestamps.map((t) => (t - start) / 1000);
  }
  return series.steps;
}

// Tableau 10 (minus its grey, which vanishes on both themes), then golden-angle hues for as many more as asked.
const COLOURS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f"];

/** The i-th of a sequence of distinct colours (distinct neighbours for any i). */
export function palette(i) {
  if (i < COLOURS.length) return COLOURS[i];
  const hue = Math.round(((i - COLOURS.length) * 137.508 + 265) % 360);
  return `hsl(${hue}, 62%, ${i % 2 ? 44 : 58}%)`;
}

/**
 * Text for Plotly labels. Plotly reads a subset of HTML in names and titles (<b>, <a href>, <br>) and decodes
 * entities, so user text is entity-escaped to show exactly as typed.
 */
export function plotlyText(text) {
  return String(text).replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/** The page's theme colours (CSS variables), for Plotly, which cannot read CSS. */
export function theme(element = document.documentElement) {
  const style = getComputedStyle(element);
  const read = (name, fallback) => style.getPropertyValue(name).trim() || fallback;
  return {
    fg: read("--fg", "#1f2328"),
    soft: read("--fg-soft", "#59636e"),
    grid: read("--chart-grid", "#e6eaef"),
    bg: read("--bg-raised", "#ffffff"),
    font: style.fontFamily,
  };
}

/**
 * Plotly labels every digit between decades (1, 2, …, 9) when a log axis spans a decade or two, which crowds a
 * small chart; 1-2-5 steps read better there. Wider and narrower spans keep Plotly's own choice.
 */
function logTicks(series) {
  let low = Infinity;
  let high = 0;
  for (const item of series) {
    for (const value of item.values) {
      if (value > 0 && value < Infinity) {
        if (value < low) low = value;
        if (value > high) high = value;
      }
    }
  }
  const decades = Math.log10(high / low);
  return decades >= 0.5 && decades < 3 ? "D2" : undefined;
}

const X_TITLES = { step: "step", wall: "time", relative: "seconds since start" };

// Bumped on every draw so Plotly.react recomputes even when a caller reuses (and extends) the same arrays.
let revision = 0;

/**
 * Draw (or redraw in place) a metric chart in `element`.
 *
 * `series`: [{name, runId, steps, values, timestamps, startTime, color?}]; names are plain text. With
 * `smoothing` > 0 each series is drawn twice: the raw line faint, the smoothed line bold. `xMode` is "step",
 * "wall" or "relative"; `logY` puts the y axis on a log scale; `showLegend` (default: with several series) adds a
 * legend under the chart. A zoom survives redraws with the same xMode
 * and logY (new data from live updates or detail fetches), and is reset when either changes.
 * Resolves once Plotly has drawn.
 */
export function drawMetricChart(
  element,
  { title, series, xMode = "step", smoothing = 0, logY = false, showLegend = series.length > 1 },
) {
  const colours = theme(element);
  // Metrics logged once (a final score) read best as bars, one per run in its colour (named on hover and in the
  // page legend), as MLflow draws them; a live metric that gains a second point becomes a line on the next draw.
  const bars = series.some((item) => item.values.length === 1) && series.every((item) => item.values.length <= 1);
  const smoothed = smoothing > 0 && !bars;
  const traces = [];
  series.forEach((item, i) => {
    if (bars) {
      if (item.values.length === 0) return;
      traces.push({
        type: "bar",
        x: [plotlyText(item.name ?? "")],
        y: item.values,
        name: plotlyText(item.name ?? ""),
        marker: { color: item.color || palette(i) },
        texttemplate: "%{y:.4~g}",
        textposition: "auto",
        hovertemplate: "%{y:.15~g}<extra>%{x}</extra>",
      });
      return;
    }
    const colour = item.color || palette(i);
    const x = xValues(item, xMode, item.startTime);
    const name = plotlyText(item.name ?? "");
    // A line needs two points: a lone point (a metric logged once, so far) is drawn as a marker.
    const mode = item.values.length === 1 ? "markers" : "lines";
    const base = {
      type: "scatter",
      mode,
      x,
      name,
      legendgroup: String(i),
      hovertemplate: "%{y:.15~g}",
      marker: { color: colour, size: 6 },
    };
    if (smoothed) {
      traces.push({
        ...base,
        y: item.values,
        name: `${name} (raw)`,
        line: { color: colour, width: 1 },
        opacity: 0.25,
        showlegend: false,
      });
      traces.push({ ...base, y: smooth(item.values, smoothing), line: { color: colour, width: 2 } });
    } else {
      traces.push({ ...base, y: item.values, line: { color: colour, width: 1.5 } });
    }
  });
  const axis = {
    gridcolor: colours.grid,
    linecolor: colours.grid,
    zerolinecolor: colours.grid,
    tickfont: { color: colours.soft },
  };
  const layout = {
    title: title ? { text: plotlyText(title), font: { size: 13 }, x: 0, xanchor: "left", xref: "paper" } : undefined,
    paper_bgcolor: colours.bg,
    plot_bgcolor: colours.bg,
    font: { color: colours.fg, size: 11, family: colours.font },
    margin: { l: 56, r: 12, t: title ? 30 : 10, b: 40 },
    xaxis: bars
      ? { ...axis, type: "category", showticklabels: false }
      : {
          ...axis,
          type: xMode === "wall" ? "date" : "linear",
          title: { text: X_TITLES[xMode] ?? "step", font: { size: 11, color: colours.soft }, standoff: 4 },
        },
    yaxis: { ...axis, type: logY ? "log" : "linear", exponentformat: "e", dtick: logY ? logTicks(series) : undefined },
    showlegend: showLegend && !bars,
    legend: { orientation: "h", y: -0.25, font: { size: 11 } },
    // One series: show its value wherever the cursor is along x; several: the nearest line's value.
    hovermode: series.length > 1 ? "closest" : "x",
    hoverlabel: { bgcolor: colours.bg, bordercolor: colours.soft, font: { color: colours.fg } },
    uirevision: `${xMode}|${logY}`,
    datarevision: ++revision,
  };
  // Bars have no step axis to zoom along (onZoom reads this).
  element.dataset.xMode = bars ? "bars" : xMode;
  const config = {
    displaylogo: false,
    responsive: true,
    modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"],
  };
  return window.Plotly.react(element, traces, layout, config);
}

/**
 * Call `callback(minStep, maxStep)` when the user zooms or pans a step-mode chart along x, and
 * `callback(null, null)` when the zoom is reset (double-click). Register once, after the first draw.
 */
export function onZoom(element, callback) {
  element.on("plotly_relayout", (event) => {
    if (element.dataset.xMode !== "step") return;
    if (event["xaxis.autorange"]) {
      callback(null, null);
      return;
    }
    const range = event["xaxis.range"] ?? [event["xaxis.range[0]"], event["xaxis.range[1]"]];
    if (range[0] == null || range[1] == null) return;
    const low = Math.min(range[0], range[1]);
    const high = Math.max(range[0], range[1]);
    callback(Math.floor(low), Math.ceil(high));
  });
}

/**
 * An overview series with the points between `minStep` and `maxStep` replaced by a detailed fetch of that range,
 * so a zoomed chart is sharp where the user looks and still complete when they pan out.
 */
export function withDetail(overview, detail, minStep, maxStep) {
  const before = overview.steps.findIndex((step) => step >= minStep);
  const from = before < 0 ? overview.steps.length : before;
  let to = from;
  while (to < overview.steps.length && overview.steps[to] <= maxStep) to++;
  const join = (a, b) => a.slice(0, from).concat(b, a.slice(to));
  return {
    ...overview,
    steps: join(overview.steps, detail.steps),
    values: join(overview.values, detail.values),
    timestamps: join(overview.timestamps, detail.timestamps),
  };
}

/**
 * Resolves once the document is parsed and the deferred Plotly has run: the moment a page module loaded with
 * `async` (to ask for its histories early) may draw.
 */
export function plotlyReady() {
  return new Promise((resolve) => {
    // Deferred scripts (Plotly) run before DOMContentLoaded, so Plotly being there means that moment has passed.
    if (document.readyState !== "loading" && window.Plotly) resolve();
    else document.addEventListener("DOMContentLoaded", resolve, { once: true });
  });
}

/** About how many points a chart of this element's width can show: one min/max pair per pixel column. */
export function pointsFor(element, { min = 200, max = 2000 } = {}) {
  const width = element.getBoundingClientRect().width || 600;
  return Math.min(max, Math.max(min, Math.round(width * 2)));
}
