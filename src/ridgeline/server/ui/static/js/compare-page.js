// The compare page: overlaid metric charts from one bulk histories request (compare-charts.js), the "only
// differences" toggle of the table (difference-table.js), parallel coordinates (compare-parcoords.js) and a scatter
// (compare-scatter.js) over the params and metrics embedded in the page (#compare-data). Every choice lives in the
// URL (replaceState), so a comparison can be shared as a link.
import { markReady } from "./base.js";
import { readChartView, wireChartControls, writeChartView } from "./chart-controls.js";
import { fetchHistories, palette, plotlyReady } from "./charts.js";
import { compareCharts } from "./compare-charts.js";
import { defaultDimensions, inPageOrder, wireParcoords } from "./compare-parcoords.js";
import { defaultScatterAxes, wireScatter } from "./compare-scatter.js";
import { wireDifferenceTable } from "./difference-table.js";

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
await plotlyReady();
const dimensions = new Map(data.dimensions.map((dimension) => [dimension.id, dimension]));

// ---------------------------------------------------------------------------------------------- state and URL

const query = new URLSearchParams(window.location.search);

function readDimensions() {
  const asked = query.getAll("dim");
  // A lone empty ?dim= is how "no dimensions" is written; no ?dim at all means the default choice.
  if (asked.length === 0) return { ids: defaultDimensions(data.dimensions), chosen: false };
  return { ids: inPageOrder(data.dimensions, asked), chosen: true };
}

const scatterDefaults = defaultScatterAxes(data.dimensions);
const initialDimensions = readDimensions();
const state = {
  view: readChartView(query),
  onlyDifferences: query.get("diff") === "1",
  dimensions: initialDimensions.ids,
  dimensionsChosen: initialDimensions.chosen,
  scatterX: dimensions.has(query.get("sx")) ? query.get("sx") : scatterDefaults.x,
  scatterY: dimensions.has(query.get("sy")) ? query.get("sy") : scatterDefaults.y,
};

/** Rewrite the address to hold every choice that differs from the default (short links stay short). */
function saveState() {
  const params = new URLSearchParams();
  writeChartView(params, state.view);
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

// ------------------------------------------------------------------------------------------------------ start

async function start() {
  for (const swatch of document.querySelectorAll(".swatch[data-index]")) {
    swatch.style.backgroundColor = runs[Number(swatch.dataset.index)].color;
  }
  const chartsStatus = document.getElementById("charts-status");
  const charts = compareCharts({ runs, view: state.view, statusLine: chartsStatus });
  const controls = document.getElementById("chart-controls");
  if (controls) {
    wireChartControls(controls, state.view, () => {
      saveState();
      charts.redraw();
    });
  }
  wireDifferenceTable(state, saveState);
  wireParcoords({ dimensions, runs, state, save: saveState });
  const chartsDrawn = initialHistories
    .then((histories) => charts.draw(histories, HISTORY_POINTS))
    .catch((error) => {
      chartsStatus.textContent = `Charts could not be loaded: ${error.message}`;
    });
  await Promise.all([chartsDrawn, wireScatter({ dimensions, runs, state, save: saveState })]);
  markReady();
}

start();
