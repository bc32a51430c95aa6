// The run page: metric charts (run-charts.js; view state in the URL, detail on zoom, live updates from
// run-live.js while the run is RUNNING) and the editable name, notes and tags (run-edit.js).
//
// This module is loaded with `async`, so it starts before the body is parsed and while Plotly (a large script)
// is still loading: the one bulk history request is under way by the time Plotly can draw. Everything that
// touches the body waits for the document (and the deferred Plotly) first; the modules imported here only act
// when called (base.js waits for the document by itself).
import { localiseTimes, markReady } from "./base.js";
import { readChartView, wireChartControls, writeChartView } from "./chart-controls.js";
import { fetchRunHistories, plotlyReady } from "./charts.js";
import { runCharts } from "./run-charts.js";
import { wireEdits } from "./run-edit.js";
import { liveUpdates } from "./run-live.js";
import { drawLineage } from "./lineage-graph.js";
import { loadArtifacts } from "./run-artifacts.js";
import { loadEnvironment } from "./run-environment.js";
import { wireTabs } from "./run-tabs.js";


const runId = document.querySelector('meta[name="ridgeline-run"]').content;
const runPath = `/runs/${encodeURIComponent(runId)}`;
const initialKeys = JSON.parse(document.getElementById("metric-keys").textContent);
// run.html preloads every history of the run, downsampled, so the request is under way before this module runs;
// its `points` is the downsampling target until the charts' width is known.
const preload = document.getElementById("histories-preload");
const INITIAL_POINTS = Number(new URL(preload.href).searchParams.get("points"));
const initialHistories = fetchRunHistories(runId, preload.href);
// Awaited once the page is parsed; until then a failure must not count as an unhandled rejection.
initialHistories.catch(() => {});

await plotlyReady();

const section = document.getElementById("metrics");
const controls = document.getElementById("chart-controls");
const liveStatus = document.getElementById("live-status");
const view = readChartView(new URLSearchParams(window.location.search));
const charts = runCharts({ runId, startTime: Number(section.dataset.startTime), view, points: INITIAL_POINTS });
const scheduleLiveUpdate = liveUpdates({
  runPath,
  status: section.dataset.status,
  charts,
  statusLine: liveStatus,
  localiseTimes,
});

/** Keep the URL in step with the controls, so the address reproduces what is on screen. */
function writeView() {
  const query = new URLSearchParams(window.location.search);
  writeChartView(query, view);
  const search = query.toString();
  window.history.replaceState(window.history.state, "", `${window.location.pathname}${search ? `?${search}` : ""}${window.location.hash}`);
}

async function start() {
  wireChartControls(controls, view, (control) => {
    // A new x axis or y scale starts from the whole history (the chart's zoom is reset too).
    if (control !== "smooth") charts.resetZooms();
    writeView();
    charts.redraw();
  });
  // Chart colours are read from the theme's CSS variables when drawing: redraw when the OS switches theme.
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => charts.redraw());
  wireEdits(runId, runPath);
  // A tab's content is loaded the first time it is shown; the page is "ready" once the first tab is in.
  const loaders = {
    artifacts: () => loadArtifacts(runId),
    environment: () => loadEnvironment(runId),
    lineage: () => drawLineage(document.getElementById("lineage-graph"), JSON.parse(document.getElementById("lineage-data").textContent)),
  };
  const loaded = new Map();
  const firstTab = wireTabs(document.getElementById("run-tabs"), (name) => {
    if (!loaders[name]) return undefined;
    if (!loaded.has(name)) loaded.set(name, Promise.resolve().then(loaders[name]));
    return loaded.get(name);
  });
  try {
    await charts.load(initialKeys, await initialHistories);
  } catch (error) {
    liveStatus.textContent = `Charts could not be loaded: ${error.message}`;
  }
  try {
    await firstTab;
  } finally {
    markReady();
  }
  scheduleLiveUpdate();
}

start();
