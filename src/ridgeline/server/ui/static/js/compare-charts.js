// The compare page's metric charts: one per key in #charts, a trace per run in the run's colour, all from the
// page's one bulk histories request; zooming a step axis fetches that range in detail for every run in the chart.
import { coalesced } from "./chart-controls.js";
import { drawMetricChart, fetchHistories, onZoom, withDetail } from "./charts.js";

function seriesOf(runs, histories, key) {
  const series = [];
  for (const run of runs) {
    const history = histories.get(run.id)?.get(key);
    if (!history || history.steps.length === 0) continue;
    series.push({ ...history, name: run.name, runId: run.id, startTime: run.startTime, color: run.color });
  }
  return series;
}

/**
 * The charts of `runs` on the page, drawn as `view` ({x, smooth, log}) says; what fails is said in `statusLine`.
 * `draw(histories, points)` draws them first (histories as fetchHistories gives them, downsampled to `points`);
 * `redraw()` again once `view` has changed.
 */
export function compareCharts({ runs, view, statusLine }) {
  const charts = [...document.querySelectorAll("#charts .chart-card")].map((card) => ({
    key: card.dataset.key,
    element: card.querySelector(".chart"),
    series: [],
  }));

  async function drawChart(chart) {
    await drawMetricChart(chart.element, {
      title: "",
      series: chart.series,
      xMode: view.x,
      smoothing: view.smooth,
      logY: view.log,
      // The page's run legend names every colour; a legend per chart would repeat it and squeeze the plot.
      showLegend: false,
    });
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
          statusLine.textContent = `Detail for ${chart.key} could not be loaded: ${error.message}`;
          return;
        }
        if (ticket !== asked) return;
        chart.series = overview.map((s) => withDetail(s, detail.get(s.runId).get(chart.key), minStep, maxStep));
      }
      await drawChart(chart);
    });
  }

  async function draw(histories, points) {
    await Promise.all(
      charts.map(async (chart) => {
        chart.series = seriesOf(runs, histories, chart.key);
        await drawChart(chart);
        followZoom(chart, points);
      }),
    );
  }

  // Charts whose histories have not come yet are left to draw().
  const redraw = coalesced(() => Promise.all(charts.filter((chart) => chart.series.length).map(drawChart)));
  return { draw, redraw };
}
