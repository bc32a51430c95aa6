// Shared by every page: local times, auto-submitting selects, the account bar (workspace switcher, log out), and
// the "ready" signal tests and benchmarks wait for.
import { api } from "./api.js";

document.documentElement.classList.add("js");

const WORKSPACE_COOKIE = "ridgeline_workspace";

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

/** Times in the reader's zone: relative when recent, or always the full local date and time with data-absolute. */
export function localiseTimes(root = document) {
  for (const element of root.querySelectorAll("time[datetime]")) {
    const date = new Date(element.getAttribute("datetime"));
    if (Number.isNaN(date.getTime())) continue;
    element.textContent = element.hasAttribute("data-absolute")
      ? date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" })
      : describeTime(date);
    element.title = element.hasAttribute("data-absolute") ? date.toISOString() : date.toLocaleString();
  }
}

function workspaceCookie(value, maxAge) {
  document.cookie = `${WORKSPACE_COOKIE}=${value}; Path=/; SameSite=Lax; Max-Age=${maxAge}`;
}

/** Forget this browser's workspace choice (the account's default applies again). */
export function clearWorkspaceChoice() {
  workspaceCookie("", 0);
}

function hasWorkspaceChoice() {
  return document.cookie.split(";").some((part) => part.trim().startsWith(`${WORKSPACE_COOKIE}=`));
}

/** Make `name` this browser's workspace (percent-encoded: the server decodes it, so any name fits). */
export async function chooseWorkspace(name) {
  workspaceCookie(encodeURIComponent(name), 400 * 24 * 3600);
}

function wireAccountBar() {
  const bar = document.getElementById("account-nav");
  if (!bar) return;
  // A choice made in this browser by another account (or a workspace since deleted) names none of this user's:
  // every page would answer 404, so drop it and load the page again.
  if (bar.dataset.staleWorkspace !== undefined && hasWorkspaceChoice()) {
    clearWorkspaceChoice();
    if (!hasWorkspaceChoice()) window.location.reload();
  }
  const select = document.getElementById("workspace-switch");
  select?.addEventListener("change", async () => {
    if (!select.value) return;
    select.disabled = true;
    try {
      await chooseWorkspace(select.value);
      window.location.reload();
    } catch (failure) {
      select.disabled = false;
      select.title = failure.message;
    }
  });
  const logout = document.getElementById("logout");
  logout?.addEventListener("click", async () => {
    logout.disabled = true;
    try {
      await api("DELETE", "/session");
    } catch {
      // The session may have ended already; the login page is where to go either way.
    }
    clearWorkspaceChoice();
    window.location.assign("/login");
  });
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
  wireAccountBar();
  if (!document.querySelector("[data-defer-ready]")) markReady();
}
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init, { once: true });
else init();
