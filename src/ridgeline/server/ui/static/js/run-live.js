// The run page while its run is RUNNING: every 2 s the run's status and duration are refreshed and its charts
// take what was logged since, without reloading the page. A hidden tab asks nothing until it is shown again.
import { api } from "./api.js";

const POLL_MS = 2000;

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

function showRun(run, localiseTimes) {
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

/**
 * Live updates of the run at `runPath` (in the API), whose status was `status` when the page was drawn: `charts`
 * (run-charts.js) catch up, `statusLine` says whether updates flow. `localiseTimes` is base.js's, which the page
 * imports once the document is parsed. Returns the function that schedules the next look, to call once the
 * charts are in.
 */
export function liveUpdates({ runPath, status, charts, statusLine, localiseTimes }) {
  let pollTimer = null;
  let polling = false;

  async function poll() {
    pollTimer = null;
    if (polling || document.hidden) return;
    polling = true;
    try {
      const run = await api("GET", runPath);
      status = run.status;
      showRun(run, localiseTimes);
      await charts.catchUp(run.metrics);
      statusLine.textContent = status === "RUNNING" ? "Live: updates every 2 s" : "";
    } catch (error) {
      // A hiccup (server restarting, network) pauses updates; the next tick tries again.
      statusLine.textContent = `Live updates paused: ${error.message}`;
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
  return schedulePoll;
}
