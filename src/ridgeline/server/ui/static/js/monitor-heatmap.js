// The monitor dashboard's drift heatmap: features (rows) by windows (columns), coloured by the deciding test's
// score against its threshold (views/monitor_data.py's severity: 1 is the threshold), drifted cells marked ✕,
// model-version changes drawn as dashed lines. Text is escaped for Plotly (plotlyText): feature names are user text.
import { plotlyText, theme } from "./charts.js";

// Calm to alarming; the low end nearly transparent so that it sits on either theme's background.
const COLOURSCALE = [
  [0, "rgba(89, 161, 79, 0.12)"],
  [0.25, "rgba(89, 161, 79, 0.45)"],
  [1 / 3, "rgba(237, 201, 72, 0.9)"],
  [1, "rgba(225, 87, 89, 1)"],
];
const ROW_HEIGHT = 26;

function number(value) {
  if (value === null || value === undefined) return "–";
  if (value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e6)) return value.toExponential(3);
  return String(Number(value.toPrecision(4)));
}

const STATISTIC_NAMES = {
  psi: "PSI",
  ks_statistic: "KS statistic",
  ks_p_value: "KS p-value",
  wasserstein: "Wasserstein (std)",
  jensen_shannon: "Jensen-Shannon",
  chi2_statistic: "chi² statistic",
  chi2_p_value: "chi² p-value",
};
// Each test's score among the statistics (monitoring/drift.py's SCORES); p-values drift below their threshold.
const SCORES = { ks: "ks_p_value", chi2: "chi2_p_value", psi: "psi", wasserstein: "wasserstein", jensen_shannon: "jensen_shannon" };
const P_VALUES = new Set(["ks", "chi2"]);

/** The hover text of one cell: plain text made safe for Plotly, lines joined with <br>. */
function describe(feature, label, column, cell) {
  const head = `${plotlyText(feature.name)} · ${plotlyText(label)} · v${column.version ?? "?"}`;
  if (!cell) return `${head}<br>not in this period's reference`;
  if (cell.skipped) return `${head}<br>${plotlyText(cell.skipped)}`;
  const score = SCORES[cell.test];
  const rule = `${P_VALUES.has(cell.test) ? "drift below" : "drift from"} ${number(cell.threshold)}`;
  const lines = [head, `${cell.drift ? "DRIFT" : "no drift"}: ${STATISTIC_NAMES[score] ?? cell.test} ${number(cell.score)} (${rule})`];
  for (const [key, name] of Object.entries(STATISTIC_NAMES)) {
    if (key in cell && key !== score) lines.push(`${name}: ${number(cell[key])}`);
  }
  return lines.join("<br>");
}

/** Column labels: local times (dates for daily windows); a window two versions shared is named per version. */
export function windowLabels(windows, windowMs) {
  const daily = windowMs % 86400e3 === 0;
  const format = new Intl.DateTimeFormat(
    undefined,
    daily ? { dateStyle: "medium", timeZone: "UTC" } : { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" },
  );
  const labels = windows.map((column) => format.format(new Date(column.start)));
  const seen = new Map();
  for (const label of labels) seen.set(label, (seen.get(label) ?? 0) + 1);
  return labels.map((label, j) => (seen.get(label) > 1 ? `${label} · v${windows[j].version}` : label));
}

function boundaries(windows, colours) {
  const shapes = [];
  const annotations = [];
  windows.forEach((column, j) => {
    if (j === 0 || column.period === windows[j - 1].period) return;
    const line = { color: colours.soft, width: 1.5, dash: "dash" };
    shapes.push({ type: "line", xref: "x", yref: "paper", x0: j - 0.5, x1: j - 0.5, y0: 0, y1: 1, line });
    annotations.push({ x: j - 0.5, y: 1, xref: "x", yref: "paper", yanchor: "bottom", showarrow: false,
      text: `v${column.version ?? "?"}`, font: { size: 11, color: colours.soft } });
  });
  return { shapes, annotations };
}

/**
 * Draw the heatmap of `data` (the page's #monitor-data) in `element`; `onPick(row, column)` hears a click on a
 * cell. Returns `select(row, column)`, which outlines the cell whose distribution is shown.
 */
export async function drawHeatmap(element, data, labels, onPick) {
  const colours = theme(element);
  const names = data.features.map((feature) => plotlyText(feature.output ? `${feature.name} (output)` : feature.name));
  const drifted = { x: [], y: [] };
  data.cells.forEach((row, i) =>
    row.forEach((cell, j) => {
      if (cell?.drift) {
        drifted.x.push(labels[j]);
        drifted.y.push(names[i]);
      }
    }),
  );
  const heatmap = {
    type: "heatmap",
    x: labels,
    y: names,
    z: data.cells.map((row) => row.map((cell) => cell?.severity ?? null)),
    zmin: 0,
    zmax: data.severityCap,
    colorscale: COLOURSCALE,
    xgap: 2,
    ygap: 2,
    hoverinfo: "text",
    hovertext: data.cells.map((row, i) => row.map((cell, j) => describe(data.features[i], labels[j], data.windows[j], cell))),
    // Plotly's colour bar sets inline styles, which the page's CSP refuses: monitor.html draws the key instead.
    showscale: false,
  };
  // hoverinfo "skip": the marks let hover and clicks through to the cell beneath.
  const marks = { type: "scatter", mode: "text", name: "drifted", ...drifted, text: drifted.x.map(() => "✕"),
    textfont: { color: colours.fg, size: 13 }, hoverinfo: "skip", showlegend: false };
  const axis = { type: "category", gridcolor: colours.grid, linecolor: colours.grid, tickfont: { color: colours.soft }, automargin: true };
  const edges = boundaries(data.windows, colours);
  element.style.height = `${Math.max(220, 110 + ROW_HEIGHT * names.length)}px`;
  const layout = {
    paper_bgcolor: colours.bg,
    plot_bgcolor: colours.bg,
    font: { color: colours.fg, size: 11, family: colours.font },
    margin: { l: 12, r: 12, t: 24, b: 12 },
    xaxis: { ...axis, title: { text: "window", font: { size: 11, color: colours.soft } } },
    yaxis: { ...axis, autorange: "reversed" },
    hoverlabel: { bgcolor: colours.bg, bordercolor: colours.soft, font: { color: colours.fg }, align: "left" },
    ...edges,
  };
  const config = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"] };
  await window.Plotly.react(element, [heatmap, marks], layout, config);
  element.on("plotly_click", (event) => {
    const point = event.points.find((item) => item.data.type === "heatmap");
    if (point) onPick(point.pointIndex[0], point.pointIndex[1]);
  });
  return (i, j) => {
    const outline = { type: "rect", xref: "x", yref: "y", x0: j - 0.5, x1: j + 0.5, y0: i - 0.5, y1: i + 0.5,
      line: { color: colours.fg, width: 2 } };
    return window.Plotly.relayout(element, { shapes: [...edges.shapes, outline] });
  };
}
