// "Served by": the model servers (`ridgeline serve`) that reported lately, and the version each one serves,
// read from GET /api/v1/model-servers and refreshed while the page is visible (servers report every 10 s).
import { api } from "./api.js";
import { describeTime } from "./base.js";

const REFRESH_MS = 10_000;

function cell(row, text, title = "") {
  const td = row.insertCell();
  td.textContent = text;
  if (title) td.title = title;
  return td;
}

function versionCell(row, version) {
  const td = row.insertCell();
  if (version == null) {
    td.textContent = "loading";
    td.className = "empty";
    return;
  }
  const link = document.createElement("a");
  link.href = `#v${version}`;
  link.className = "version-link";
  link.textContent = `v${version}`;
  td.append(link);
}

function policy(value, withShare) {
  if (!value) return "";
  const share = withShare && value.share != null ? ` ${value.share}%` : "";
  const version = value.version == null ? "" : ` → v${value.version}`;
  return `${value.alias}${share}${version}`;
}

function draw(parts, servers) {
  parts.body.replaceChildren();
  for (const server of servers) {
    const row = parts.body.insertRow();
    row.dataset.server = server.id;
    const where = row.insertCell();
    const code = document.createElement("code");
    code.textContent = server.url;
    where.append(code);
    cell(row, server.uri);
    versionCell(row, server.version);
    cell(row, policy(server.canary, true));
    cell(row, policy(server.shadow, false));
    const seen = new Date(server.last_seen_at);
    cell(row, describeTime(seen), seen.toLocaleString());
  }
  parts.wrap.hidden = servers.length === 0;
  parts.status.textContent = servers.length
    ? `${servers.length} running server${servers.length === 1 ? "" : "s"}.`
    : `No running model server serves this model (start one with ridgeline serve "models:/${parts.model}@ALIAS").`;
}

/** Show the servers of `model` in the section's table now, then every REFRESH_MS while the tab is visible. */
export async function showServers(model, section) {
  const parts = {
    model,
    body: section.querySelector("#servers tbody"),
    wrap: section.querySelector("#servers-wrap"),
    status: section.querySelector("#servers-status"),
  };
  const refresh = async () => {
    try {
      const found = await api("GET", `/model-servers?model=${encodeURIComponent(model)}`);
      draw(parts, found.servers);
    } catch (failure) {
      parts.status.textContent = `Could not read the model servers: ${failure.message}`;
    }
  };
  await refresh();
  setInterval(() => {
    if (!document.hidden) refresh();
  }, REFRESH_MS);
}
