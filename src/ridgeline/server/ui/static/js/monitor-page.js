// A monitor's dashboard: the drift heatmap (monitor-heatmap.js), the distribution of the cell clicked or chosen
// in the selects (monitor-distribution.js), and data quality and performance over time (charts.js's metric chart,
// x = window start). Everything is drawn from #monitor-data (views/monitor_data.py) but the distributions, which
// are asked for one at a time.
import { markReady } from "./base.js";
import { drawMetricChart, plotlyReady } from "./charts.js";
import { drawDistribution, fetchDistribution } from "./monitor-distribution.js";
import { drawHeatmap, windowLabels } from "./monitor-heatmap.js";

await plotlyReady();

const data = JSON.parse(document.getElementById("monitor-data").textContent);
const labels = windowLabels(data.windows, data.windowMs);
const timestamps = data.windows.map((column) => column.start);
const featureSelect = document.getElementById("dist-feature");
const windowSelect = document.getElementById("dist-window");
const statusLine = document.getElementById("distribution-status");
const distribution = document.getElementById("distribution");

/** A series over the windows that have a value (a gap in a line would hide a lone point between gaps). */
function series(name, values) {
  const kept = values.map((_, j) => j).filter((j) => values[j] !== null && values[j] !== undefined);
  return { name, steps: kept, values: kept.map((j) => values[j]), timestamps: kept.map((j) => timestamps[j]) };
}

function drawQuality() {
  const cards = document.querySelectorAll("#quality .chart-card");
  return Promise.all(
    [...cards].map((card) => {
      const rate = card.dataset.rate;
      const lines = data.features.map((feature, i) =>
        series(feature.name, data.cells[i].map((cell) => cell?.[rate] ?? null)),
      );
      const chart = card.querySelector(".chart");
      // Rates read as percentages from zero: a quiet feature's line then lies on the floor, not mid-chart.
      return drawMetricChart(chart, { title: "", series: lines, xMode: "wall" }).then(() =>
        window.Plotly.relayout(chart, { "yaxis.rangemode": "tozero", "yaxis.tickformat": ".0%" }),
      );
    }),
  );
}

function drawPerformance() {
  const cards = [...document.querySelectorAll("#performance .chart-card[data-metric]")];
  const charts = cards.map((card) => [card, series(card.dataset.metric, data.performance[card.dataset.metric])]);
  const labelled = document.getElementById("labelled");
  if (labelled) charts.push([labelled, series("labelled rows", data.windows.map((column) => column.labelled))]);
  return Promise.all(
    charts.map(([card, line]) => drawMetricChart(card.querySelector(".chart"), { title: "", series: [line], xMode: "wall" })),
  );
}

// Answers that arrive after a newer choice are dropped.
let asked = 0;
let outline = async () => {};

async function showDistribution(i, j) {
  const ticket = ++asked;
  featureSelect.value = String(i);
  windowSelect.value = String(j);
  statusLine.textContent = "Loading…";
  statusLine.classList.remove("error");
  const column = data.windows[j];
  const choice = { feature: data.features[i].name, start: column.start, period: column.period, segment: data.segment };
  try {
    const found = await fetchDistribution(data.monitor, choice);
    if (ticket !== asked) return;
    await Promise.all([drawDistribution(distribution, found, labels[j]), outline(i, j)]);
    distribution.dataset.feature = found.feature;
    distribution.dataset.windowStart = String(column.start);
    statusLine.textContent = "";
  } catch (error) {
    if (ticket !== asked) return;
    statusLine.textContent = `The distribution could not be loaded: ${error.message}`;
    statusLine.classList.add("error");
  }
}

/** The cell first shown: the most severe, the latest of equals (where a reader looks first). */
function firstCell() {
  let best = [0, data.windows.length - 1];
  let worst = -1;
  data.cells.forEach((row, i) =>
    row.forEach((cell, j) => {
      const severity = cell?.severity ?? -1;
      if (severity > worst || (severity === worst && j >= best[1])) [worst, best] = [severity, [i, j]];
    }),
  );
  return best;
}

for (const [j, label] of labels.entries()) {
  const version = data.windows[j].version;
  windowSelect.add(new Option(version === null ? label : `${label} (v${version})`, String(j)));
}
const pick = () => showDistribution(Number(featureSelect.value), Number(windowSelect.value));
featureSelect.addEventListener("change", pick);
windowSelect.addEventListener("change", pick);
document.getElementById("distribution-form").addEventListener("submit", (event) => event.preventDefault());

const heatmap = document.getElementById("heatmap");
try {
  outline = await drawHeatmap(heatmap, data, labels, showDistribution);
  await Promise.all([drawQuality(), drawPerformance(), showDistribution(...firstCell())]);
} finally {
  markReady();
}
