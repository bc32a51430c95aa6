// The monitor dashboard's distribution chart: one feature's reference beside one window, as shares so that sizes
// compare, from GET /monitors/{name}/distribution.json (views/monitors.py). Bins and categories are user data and
// are escaped for Plotly (plotlyText).
import { ApiError } from "./api.js";
import { palette, plotlyText, theme } from "./charts.js";

export async function fetchDistribution(monitor, { feature, start, period, segment }) {
  const query = new URLSearchParams({ feature, window_start: String(start), period: String(period), segment });
  const response = await fetch(`/monitors/${encodeURIComponent(monitor)}/distribution.json?${query}`, {
    headers: { Accept: "application/json" },
  });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body?.error);
  return body;
}

function edge(value) {
  return String(Number(value.toPrecision(4)));
}

/** Bin labels from the reference's edges: the open outer bins read "< min" and "≥ max". */
function binLabels(edges) {
  const labels = [];
  for (let i = 0; i + 1 < edges.length; i++) {
    const [low, high] = [edges[i], edges[i + 1]];
    if (low === null && high === null) labels.push("all values");
    else if (low === null) labels.push(`< ${edge(high)}`);
    else if (high === null) labels.push(`≥ ${edge(low)}`);
    else labels.push(`${edge(low)} – ${edge(high)}`);
  }
  return labels;
}

function shares(counts) {
  const total = counts.reduce((sum, count) => sum + count, 0);
  return counts.map((count) => (total ? count / total : 0));
}

/**
 * Draw `found` (the endpoint's answer) in `element`, titled with the feature and `windowLabel`. Bins and categories
 * empty on both sides are left out: the outer bins are empty in every reference.
 */
export function drawDistribution(element, found, windowLabel) {
  const colours = theme(element);
  const numeric = found.kind === "numeric";
  const labels = numeric ? binLabels(found.edges) : found.categories.map((category) => plotlyText(category));
  const kept = labels.map((_, i) => i).filter((i) => found.reference[i] || found.window[i]);
  const side = (name, counts, colour) => {
    const share = shares(counts);
    return {
      type: "bar",
      name,
      x: kept.map((i) => labels[i]),
      y: kept.map((i) => share[i]),
      customdata: kept.map((i) => counts[i]),
      marker: { color: colour },
      hovertemplate: `%{x}<br>%{y:.1%} (%{customdata:,} values)<extra>${name}</extra>`,
    };
  };
  const axis = { gridcolor: colours.grid, linecolor: colours.grid, tickfont: { color: colours.soft }, automargin: true };
  const title = `${plotlyText(found.feature)} · reference (period ${found.period}) and ${plotlyText(windowLabel)}`;
  const layout = {
    title: { text: title, font: { size: 13 }, x: 0, xanchor: "left", xref: "paper" },
    paper_bgcolor: colours.bg,
    plot_bgcolor: colours.bg,
    font: { color: colours.fg, size: 11, family: colours.font },
    margin: { l: 56, r: 12, t: 30, b: 40 },
    barmode: "group",
    xaxis: { ...axis, type: "category", title: { text: numeric ? "bin" : "category", font: { size: 11, color: colours.soft } } },
    yaxis: { ...axis, tickformat: ".0%", title: { text: "share of values", font: { size: 11, color: colours.soft } } },
    legend: { orientation: "h", y: 1.02, yanchor: "bottom", x: 1, xanchor: "right", font: { size: 11 } },
    hoverlabel: { bgcolor: colours.bg, bordercolor: colours.soft, font: { color: colours.fg } },
  };
  const traces = [side("reference", found.reference, palette(0)), side("window", found.window, palette(1))];
  return window.Plotly.react(element, traces, layout, { displaylogo: false, responsive: true });
}
