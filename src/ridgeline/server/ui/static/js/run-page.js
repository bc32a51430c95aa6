// The run page: metric charts (view state in the URL, detail on zoom, live updates while the run is RUNNING)
// and the editable parts (name, notes, tags). User text only ever goes into the page as textContent.
//
// This module is loaded with `async`, so it starts before the body is parsed and while Plotly (a large script)
// is still loading: the one bulk history request is under way by the time Plotly can draw. Everything that
// touches the body waits for the document (and the deferred Plotly and base.js) first.
import { api, setTags } from "./api.js";
import { drawMetricChart, fetchHistories, onZoom, pointsFor, withDetail } from "./charts.js";

// Downsampling target of the first load: about one point per pixel column of a wide chart.
const INITIAL_POINTS = 1000;

const runId = document.querySelector('meta[name="ridgeline-run"]').content;
const runPath = `/runs/${encodeURIComponent(runId)}`;
const initialKeys = JSON.parse(document.getElementById("metric-keys").textContent);
const initialHistories = fetchHistories([runId], initialKeys, { points: INITIAL_POINTS });
// Awaited once the page is parsed; until then a failure must not count as an unhandled rejection.
initialHistories.catch(() => {});

await new Promise((resolve) => {
  // Deferred scripts (Plotly) run before DOMContentLoaded, so Plotly being there means that moment has passed.
  if (document.readyState !== "loading" && window.Plotly) resolve();
  else document.addEventListener("DOMContentLoaded", resolve, { once: true });
});
// Imported only now: base.js acts on the whole document when it first runs, which must not be before it is parsed.
const { localiseTimes, markReady } = await import("./base.js");

const section = document.getElementById("metrics");
const startTime = Number(section.dataset.startTime);
const grid = document.getElementById("chart-grid");
const controls = document.getElementById("chart-controls");
const liveStatus = document.getElementById("live-status");

const POLL_MS = 2000;
// A live chart re-asks for a downsampled overview once appended points pile up beyond this many times the target.
const REFETCH_FACTOR = 3;

// ---------------------------------------------------------------------------------------------- view state (URL)

const X_MODES = ["step", "wall", "relative"];

function readView() {
  const query = new URLSearchParams(window.location.search);
  const weight = Number(query.get("smooth"));
  return {
    x: X_MODES.includes(query.get("x")) ? query.get("x") : "step",
    smooth: weight >= 0 && weight <= 0.99 ? Math.round(weight * 100) / 100 : 0,
    log: ["1", "true", "on"].includes(query.get("log")),
  };
}

const view = readView();

/** Keep the URL in step with the controls (defaults left out), so the address reproduces what is on screen. */
function writeView() {
  const query = new URLSearchParams(window.location.search);
  const set = (name, value, isDefault) => (isDefault ? query.delete(name) : query.set(name, value));
  set("x", view.x, view.x === "step");
  set("smooth", String(view.smooth), view.smooth === 0);
  set("log", "1", !view.log);
  const search = query.toString();
  window.history.replaceState(window.history.state, "", `${window.location.pathname}${search ? `?${search}` : ""}${window.location.hash}`);
}

function syncControls() {
  for (const radio of controls.elements.x) radio.checked = radio.value === view.x;
  controls.elements.smooth.value = String(view.smooth);
  document.getElementById("smooth-value").textContent = view.smooth.toFixed(2);
  controls.elements.log.checked = view.log;
}

// ------------------------------------------------------------------------------------------------------- charts

/**
 * One chart per metric key. `overview` is the downsampled whole history (extended while the run is live);
 * `detail` is a full-resolution fetch of the zoomed step range, merged into what is drawn.
 */
const charts = new Map();
let points = INITIAL_POINTS;

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
  const after = [...grid.children].find((other) => other.querySelector(".chart").dataset.key > key);
  grid.insertBefore(card, after ?? null);
  document.getElementById("no-metrics").hidden = true;
  controls.hidden = false;
  const chart = chartFor(key, element);
  document.getElementById("metric-count").textContent = String(charts.size);
  return chart;
}

function lastStep(series) {
  return series.steps.length ? series.steps[series.steps.length - 1] : -Infinity;
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

function inView(chart) {
  const box = chart.element.getBoundingClientRect();
  return box.bottom > 0 && box.top < window.innerHeight;
}

function nextFrame() {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

/** Charts on screen first, then (after letting the browser paint them) the rest. */
async function drawAll(list = [...charts.values()]) {
  const visible = list.filter(inView);
  const rest = list.filter((chart) => !visible.includes(chart));
  for (const chart of visible) await draw(chart);
  if (visible.length && rest.length) await nextFrame();
  for (const chart of rest) await draw(chart);
}

// Control changes arrive faster than 20 charts redraw (a dragged slider): coalesce them into one redraw at a time.
let redrawing = null;
let redrawAgain = false;

async function redraw() {
  if (redrawing) {
    redrawAgain = true;
    return redrawing;
  }
  redrawing = (async () => {
    do {
      redrawAgain = false;
      await drawAll();
    } while (redrawAgain);
  })();
  try {
    await redrawing;
  } finally {
    redrawing = null;
  }
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
async function loadCharts(keys, found = null) {
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

function wireControls() {
  controls.addEventListener("submit", (event) => event.preventDefault());
  controls.addEventListener("change", (event) => {
    // The slider redraws as it moves (its input event below); here only the x axis and the y scale.
    const field = event.target;
    if (field.name === "x") view.x = field.value;
    else if (field.name === "log") view.log = field.checked;
    else return;
    // A new x axis or y scale starts from the whole history (the chart's zoom is reset too).
    resetZooms();
    writeView();
    redraw();
  });
  // Chart colours are read from the theme's CSS variables when drawing: redraw when the OS switches theme.
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => redraw());
  controls.elements.smooth.addEventListener("input", () => {
    view.smooth = Number(controls.elements.smooth.value);
    document.getElementById("smooth-value").textContent = view.smooth.toFixed(2);
    writeView();
    redraw();
  });
}

// ------------------------------------------------------------------------------------------------- live updates

let status = section.dataset.status;
let pollTimer = null;
let polling = false;

function formatDuration(ms) {
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${String(Math.floor(seconds % 60)).padStart(2, "0")} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${String(minutes % 60).padStart(2, "0")} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

function setBadge(container, value) {
  const badge = document.createElement("span");
  badge.className = `status status-${value.toLowerCase()}`;
  badge.textContent = value.toLowerCase();
  container.replaceChildren(badge);
}

function showRun(run) {
  for (const id of ["run-status", "head-status"]) setBadge(document.getElementById(id), run.status);
  const duration = document.getElementById("run-duration");
  if (run.end_time == null) {
    duration.textContent = `${formatDuration(Math.max(0, Date.now() - run.start_time))} so far`;
  } else {
    duration.textContent = formatDuration(run.end_time - run.start_time);
    const end = document.createElement("time");
    end.setAttribute("datetime", new Date(run.end_time).toISOString());
    document.getElementById("run-end").replaceChildren(end);
  }
  // "3 seconds ago" goes stale while the page stays open.
  localiseTimes(document.getElementById("overview"));
}

/** Append what was logged since the last look; charts for keys seen for the first time. */
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
  await loadCharts(whole);
}

async function poll() {
  pollTimer = null;
  if (polling || document.hidden) return;
  polling = true;
  try {
    const run = await api("GET", runPath);
    status = run.status;
    showRun(run);
    await catchUp(run.metrics);
    liveStatus.textContent = status === "RUNNING" ? "Live: updates every 2 s" : "";
  } catch (error) {
    // A hiccup (server restarting, network) pauses updates; the next tick tries again.
    liveStatus.textContent = `Live updates paused: ${error.message}`;
  } finally {
    polling = false;
  }
  schedulePoll();
}

function schedulePoll() {
  if (status !== "RUNNING" || document.hidden || pollTimer !== null) return;
  pollTimer = setTimeout(poll, POLL_MS);
}

document.addEventListener("visibilitychange", () => {
  if (document.hidden) {
    clearTimeout(pollTimer);
    pollTimer = null;
  } else if (status === "RUNNING" && pollTimer === null) {
    poll();
  }
});

// ----------------------------------------------------------------------------------------------- editable parts

function showError(element, message) {
  element.textContent = message;
  element.hidden = !message;
}

function wireRename() {
  const form = document.getElementById("rename-form");
  const input = document.getElementById("name-input");
  const error = document.getElementById("name-error");
  const title = document.getElementById("run-name");
  const open = (opening) => {
    form.hidden = !opening;
    document.getElementById("rename").hidden = opening;
    if (opening) {
      input.focus();
      input.select();
    }
  };
  document.getElementById("rename").addEventListener("click", () => open(true));
  document.getElementById("rename-cancel").addEventListener("click", () => {
    input.value = title.textContent;
    input.removeAttribute("aria-invalid");
    showError(error, "");
    open(false);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape") document.getElementById("rename-cancel").click();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const run = await api("PATCH", runPath, { name: input.value.trim() });
      title.textContent = run.name;
      input.value = run.name;
      document.querySelector('.crumbs [aria-current="page"]').textContent = run.name;
      document.title = `${run.name} · Ridgeline`;
      input.removeAttribute("aria-invalid");
      showError(error, "");
      open(false);
    } catch (failure) {
      input.setAttribute("aria-invalid", "true");
      showError(error, failure.message);
    }
  });
}

function wireNotes() {
  const form = document.getElementById("notes-form");
  const notes = document.getElementById("notes");
  const line = document.getElementById("notes-status");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    line.classList.remove("error");
    line.textContent = "Saving…";
    try {
      await api("PATCH", runPath, { notes: notes.value });
      line.textContent = "Saved.";
    } catch (failure) {
      line.classList.add("error");
      line.textContent = failure.message;
    } finally {
      button.disabled = false;
    }
  });
  notes.addEventListener("input", () => {
    if (!line.classList.contains("error")) line.textContent = "";
  });
}

/** An error line for one control: filled by showError, read out by screen readers when it changes. */
function fieldError() {
  const line = document.createElement("p");
  line.className = "field-error";
  line.setAttribute("role", "alert");
  line.hidden = true;
  return line;
}

function smallButton(label, action, extra = "") {
  const button = document.createElement("button");
  button.type = "button";
  button.className = `small ${extra}`.trim();
  button.dataset.action = action;
  button.textContent = label;
  return button;
}

function tagRow(key, value) {
  const row = document.createElement("tr");
  row.dataset.key = key;
  const name = document.createElement("th");
  name.scope = "row";
  name.className = "text";
  name.textContent = key;
  const cell = document.createElement("td");
  cell.className = "tag-value";
  const text = document.createElement("span");
  text.className = "value";
  text.textContent = value;
  cell.append(text);
  const actions = document.createElement("td");
  actions.className = "row-actions";
  actions.append(smallButton("Edit", "edit"), " ", smallButton("Delete", "delete", "danger"));
  row.append(name, cell, actions);
  return row;
}

function wireTags() {
  const body = document.querySelector("#tags-table tbody");
  const form = document.getElementById("tag-form");
  const keyInput = document.getElementById("tag-key");
  const valueInput = document.getElementById("tag-value");
  const error = document.getElementById("tag-error");
  const rowFor = (key) => [...body.rows].find((row) => row.dataset.key === key);
  const refreshEmpty = () => {
    document.getElementById("no-tags").hidden = body.rows.length > 0;
    document.getElementById("tags-wrap").hidden = body.rows.length === 0;
    document.getElementById("tag-count").textContent = String(body.rows.length);
  };

  const putRow = (key, value) => {
    const existing = rowFor(key);
    if (existing) existing.replaceWith(tagRow(key, value));
    else {
      const after = [...body.rows].find((row) => row.dataset.key > key);
      body.insertBefore(tagRow(key, value), after ?? null);
    }
    refreshEmpty();
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = keyInput.value.trim();
    try {
      await setTags([runId], { [key]: valueInput.value });
      putRow(key, valueInput.value);
      keyInput.value = "";
      valueInput.value = "";
      keyInput.removeAttribute("aria-invalid");
      showError(error, "");
      keyInput.focus();
    } catch (failure) {
      keyInput.setAttribute("aria-invalid", "true");
      showError(error, failure.message);
    }
  });

  const startEdit = (row) => {
    const cell = row.querySelector(".tag-value");
    const current = cell.querySelector(".value").textContent;
    const input = document.createElement("input");
    input.type = "text";
    input.value = current;
    input.setAttribute("aria-label", `Value of tag ${row.dataset.key}`);
    cell.replaceChildren(input, fieldError());
    row.querySelector(".row-actions").replaceChildren(smallButton("Save", "save"), " ", smallButton("Cancel", "cancel"));
    row.dataset.original = current;
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") saveEdit(row);
      else if (event.key === "Escape") row.replaceWith(tagRow(row.dataset.key, row.dataset.original));
    });
    input.focus();
  };

  const saveEdit = async (row) => {
    const input = row.querySelector(".tag-value input");
    try {
      await setTags([runId], { [row.dataset.key]: input.value });
      row.replaceWith(tagRow(row.dataset.key, input.value));
    } catch (failure) {
      input.setAttribute("aria-invalid", "true");
      showError(row.querySelector(".field-error"), failure.message);
    }
  };

  const remove = async (row) => {
    try {
      await api("DELETE", `${runPath}/tags?key=${encodeURIComponent(row.dataset.key)}`);
      row.remove();
      refreshEmpty();
    } catch (failure) {
      let rowError = row.querySelector(".field-error");
      if (!rowError) {
        rowError = fieldError();
        row.querySelector(".tag-value").append(rowError);
      }
      showError(rowError, failure.message);
    }
  };

  body.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const row = button.closest("tr");
    const actions = {
      edit: () => startEdit(row),
      save: () => saveEdit(row),
      cancel: () => row.replaceWith(tagRow(row.dataset.key, row.dataset.original)),
      delete: () => remove(row),
    };
    actions[button.dataset.action]();
  });
}

// ------------------------------------------------------------------------------------------------------ start-up

async function start() {
  syncControls();
  wireControls();
  wireRename();
  wireNotes();
  wireTags();
  for (const element of grid.querySelectorAll(".chart[data-key]")) chartFor(element.dataset.key, element);
  try {
    await loadCharts(initialKeys, await initialHistories);
  } catch (error) {
    liveStatus.textContent = `Charts could not be loaded: ${error.message}`;
  } finally {
    markReady();
  }
  schedulePoll();
}

start();
