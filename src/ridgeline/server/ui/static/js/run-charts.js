// The run page's metric charts: one card per key in #chart-grid, each drawing the downsampled whole history
// (extended while the run is live) with a full-resolution fetch of the zoomed step range merged in.
import { coalesced } from "./chart-controls.js";
import { drawMetricChart, fetchHistories, onZoom, pointsFor, withDetail } from "./charts.js";

// A live chart re-asks for a downsampled overview once appended points pile up beyond this many times the target.
const REFETCH_FACTOR = 3;

function lastStep(series) {
  return series.steps.length ? series.steps[series.steps.length - 1] : -Infinity;
}

function inView(chart) {
  const box = chart.element.getBoundingClientRect();
  return box.bottom > 0 && box.top < window.innerHeight;
}

function nextFrame() {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

/**
 * The charts of run `runId` (started at `startTime`), drawn as `view` ({x, smooth, log}) says; `points` is the
 * downsampling target until the charts' width is known. The server's cards are taken over; new keys get new ones.
 */
export function runCharts({ runId, startTime, view, points }) {
  const grid = document.getElementById("chart-grid");
  // system/* metrics (client/system_metrics.py) have their own tab, so the training metrics stay in front.
  const systemGrid = document.getElementById("system-grid");
  const isSystem = (key) => systemGrid !== null && key.startsWith("system/");
  const controls = document.getElementById("chart-controls");

  /**
   * One chart per metric key. `overview` is the downsampled whole history (extended while the run is live);
   * `detail` is a full-resolution fetch of the zoomed step range, merged into what is drawn.
   */
  const charts = new Map();

  function chartFor(key, element) {
    const chart = { key, element, overview: null, detail: null, zoomToken: 0, wired: false };
    charts.set(key, chart);
    return chart;
  }

  function addCard(key) {
    const card = document.createElement("div");
    card.className = "chart-card";
    const heading = document.createElement("h3");
    heading.textContent = key;
    const element = document.createElement("div");
    element.className = "chart";
    element.dataset.key = key;
    element.setAttribute("role", "img");
    element.setAttribute("aria-label", `Chart of ${key}`);
    card.append(heading, element);
    // Keep the grid in key order, as the server renders it.
    const target = isSystem(key) ? systemGrid : grid;
    const after = [...target.children].find((other) => other.querySelector(".chart").dataset.key > key);
    target.insertBefore(card, after ?? null);
    document.getElementById(isSystem(key) ? "no-system-metrics" : "no-metrics").hidden = true;
    controls.hidden = false;
    const chart = chartFor(key, element);
    document.getElementById("metric-count").textContent = String(grid.querySelectorAll(".chart[data-key]").length);
    return chart;
  }

  function shownSeries(chart) {
    const { overview, detail } = chart;
    const series = detail ? withDetail(overview, detail.series, detail.min, detail.max) : overview;
    return [{ name: chart.key, runId, startTime, ...series }];
  }

  async function draw(chart) {
    if (!chart.overview) return;
    await drawMetricChart(chart.element, {
      series: shownSeries(chart),
      xMode: view.x,
      smoothing: view.smooth,
      logY: view.log,
    });
    if (!chart.wired) {
      chart.wired = true;
      onZoom(chart.element, (minStep, maxStep) => zoomTo(chart, minStep, maxStep));
    }
  }

  /** Charts on screen first, then (after letting the browser paint them) the rest. */
  async function drawAll(list = [...charts.values()]) {
    const visible = list.filter(inView);
    const rest = list.filter((chart) => !visible.includes(chart));
    for (const chart of visible) await draw(chart);
    if (visible.length && rest.length) await nextFrame();
    for (const chart of rest) await draw(chart);
  }

  async function zoomTo(chart, minStep, maxStep) {
    const token = ++chart.zoomToken;
    if (minStep === null) {
      if (!chart.detail) return;
      chart.detail = null;
      await draw(chart);
      return;
    }
    // Every point is already on the chart when the overview was not thinned out.
    if (!chart.overview.downsampled) return;
    const found = await fetchHistories([runId], [chart.key], { points, minStep, maxStep });
    if (token !== chart.zoomToken) return; // a later zoom has taken over
    chart.detail = { series: found.get(runId).get(chart.key), min: minStep, max: maxStep };
    await draw(chart);
  }

  function resetZooms() {
    for (const chart of charts.values()) {
      chart.detail = null;
      chart.zoomToken++;
    }
  }

  /** Fetch (unless `found` already holds them) and draw the whole downsampled histories of `keys`. */
  async function load(keys, found = null) {
    if (!keys.length) return;
    for (const key of keys) if (!charts.has(key)) addCard(key);
    points = pointsFor(charts.get(keys[0]).element);
    found ??= await fetchHistories([runId], keys, { points });
    for (const key of keys) {
      const chart = charts.get(key);
      // A zoom's detail stays valid (it is a step range): only the overview around it is replaced.
      chart.overview = found.get(runId).get(key);
    }
    await drawAll(keys.map((key) => charts.get(key)));
  }

  /** Append what was logged since the last look (`latest`: key → its latest point); charts for new keys. */
  async function catchUp(latest) {
    const grown = [];
    const whole = [];
    for (const [key, point] of Object.entries(latest)) {
      const chart = charts.get(key);
      if (!chart || !chart.overview) whole.push(key);
      else if (chart.overview.steps.length > REFETCH_FACTOR * points) whole.push(key);
      else if (point.step > lastStep(chart.overview)) grown.push(key);
    }
    if (grown.length) {
      const since = Math.min(...grown.map((key) => lastStep(charts.get(key).overview))) + 1;
      const found = await fetchHistories([runId], grown, { points, minStep: since });
      for (const key of grown) {
        const chart = charts.get(key);
        const added = found.get(runId).get(key);
        // One request serves every key from the lowest step any of them needs: keep only what each lacks.
        const last = lastStep(chart.overview);
        const from = added.steps.findIndex((step) => step > last);
        if (from < 0) continue;
        const { overview } = chart;
        chart.overview = {
          steps: overview.steps.concat(added.steps.slice(from)),
          values: overview.values.concat(added.values.slice(from)),
          timestamps: overview.timestamps.concat(added.timestamps.slice(from)),
          total: overview.total + added.steps.length - from,
          downsampled: overview.downsampled || added.downsampled,
        };
      }
      await drawAll(grown.map((key) => charts.get(key)));
    }
    await load(whole);
  }

  for (const element of document.querySelectorAll("#chart-grid .chart[data-key], #system-grid .chart[data-key]")) {
    chartFor(element.dataset.key, element);
  }
  return { load, catchUp, resetZooms, redraw: coalesced(drawAll) };
}
