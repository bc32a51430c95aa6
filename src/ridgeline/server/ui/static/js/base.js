// Shared by every page: local times, auto-submitting selects, and the "ready" signal tests and benchmarks wait for.

document.documentElement.classList.add("js");

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const UNITS = [
  ["year", 365 * 24 * 3600e3],
  ["month", 30 * 24 * 3600e3],
  ["day", 24 * 3600e3],
  ["hour", 3600e3],
  ["minute", 60e3],
  ["second", 1e3],
];

/** "3 minutes ago" for recent times, the local date and time otherwise. */
export function describeTime(date, now = Date.now()) {
  const delta = date.getTime() - now;
  if (Math.abs(delta) < 7 * 24 * 3600e3) {
    for (const [unit, size] of UNITS) {
      if (Math.abs(delta) >= size || unit === "second") {
        return relative.format(Math.round(delta / size), unit);
      }
    }
  }
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function localiseTimes(root = document) {
  for (const element of root.querySelectorAll("time[datetime]")) {
    const date = new Date(element.getAttribute("datetime"));
    if (Number.isNaN(date.getTime())) continue;
    element.textContent = describeTime(date);
    element.title = date.toLocaleString();
  }
}

/** Pages that draw after loading (charts) hold the signal with data-defer-ready and call markReady themselves. */
export function markReady() {
  document.documentElement.dataset.ready = "true";
}

function wireAutosubmit() {
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.requestSubmit());
  }
}

// Page scripts loaded with `async` may import this module before the body is parsed: act on the document then.
function init() {
  localiseTimes();
  wireAutosubmit();
  if (!document.querySelector("[data-defer-ready]")) markReady();
}
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init, { once: true });
else init();
