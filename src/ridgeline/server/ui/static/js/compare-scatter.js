// The compare page's scatter: one point per run, any param or metric against any other (state.scatterX and
// state.scatterY, chosen in #scatter-x and #scatter-y); a click on a point opens its run.
import { plotlyText, theme } from "./charts.js";
import { describe } from "./compare-format.js";
import { numericValues } from "./parcoords.js";

/** The axes drawn when the URL chooses none, out of `all` (the page's dimensions): a varying param against a metric. */
export function defaultScatterAxes(all) {
  const ids = all.map((d) => d.id);
  const varying = all.find((d) => d.kind === "params" && d.differs) ?? all[0];
  const metric = all.find((d) => d.kind === "metrics" && d.id !== varying?.id);
  const y = metric ?? all.find((d) => d.id !== varying?.id) ?? varying;
  return { x: varying?.id ?? ids[0], y: y?.id ?? ids[0] };
}

/** A dimension's values for an axis: numbers when every present value is one, otherwise text categories. */
function axisValues(dimension) {
  const numbers = numericValues(dimension.values);
  if (numbers) return { numeric: true, values: numbers };
  return { numeric: false, values: dimension.values.map((v) => (v === null || v === undefined ? null : String(v))) };
}

/** The tick labels of a category axis over `values`: each one escaped (Plotly reads markup in tick labels too). */
function categoryTicks(values) {
  const categories = [...new Set(values)];
  return { tickmode: "array", tickvals: categories, ticktext: categories.map((value) => plotlyText(value)) };
}

function scatterAxis(dimension, axis, colours, values) {
  return {
    type: axis.numeric ? "linear" : "category",
    categoryorder: axis.numeric ? undefined : "category ascending",
    ...(axis.numeric ? {} : categoryTicks(values)),
    title: { text: plotlyText(`${dimension.kind === "params" ? "param" : "metric"} ${dimension.key}`), font: { size: 12 } },
    gridcolor: colours.grid,
    linecolor: colours.grid,
    zerolinecolor: colours.grid,
    tickfont: { color: colours.soft },
    automargin: true,
  };
}

function drawScatter(element, { dimensions, runs, state }) {
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
    font: { color: colours.fg, size: 11, family: getComputedStyle(element).fontFamily },
    margin: { l: 64, r: 16, t: 12, b: 48 },
    xaxis: scatterAxis(xDimension, xAxis, colours, trace.x),
    yaxis: scatterAxis(yDimension, yAxis, colours, trace.y),
    hovermode: "closest",
    hoverlabel: { bgcolor: colours.bg, bordercolor: colours.soft, font: { color: colours.fg } },
    showlegend: false,
  };
  const missing = runs.length - shown.length;
  document.getElementById("scatter-note").textContent = missing
    ? `${missing} of ${runs.length} runs lack one of these values and are not shown.`
    : "Click a point to open its run.";
  return window.Plotly.react(element, [trace], layout, { displaylogo: false, responsive: true });
}

/**
 * Draw the scatter in #scatter of `runs` over `dimensions` (id → dimension) and redraw it when an axis is chosen;
 * `save` is called when one is. Resolves once the first drawing is done.
 */
export async function wireScatter({ dimensions, runs, state, save }) {
  const element = document.getElementById("scatter");
  if (!element) return;
  const draw = () => drawScatter(element, { dimensions, runs, state });
  const selects = { scatterX: document.getElementById("scatter-x"), scatterY: document.getElementById("scatter-y") };
  for (const [name, select] of Object.entries(selects)) {
    select.value = state[name];
    select.addEventListener("change", () => {
      state[name] = select.value;
      save();
      draw();
    });
  }
  await draw();
  element.on("plotly_click", (event) => {
    const runId = event.points[0]?.customdata;
    if (runId) window.location.href = `/runs/${runId}`;
  });
}
