// Previews of one artifact file, built with DOM nodes and textContent only: no stored byte ever becomes markup.
// HTML and SVG are shown as their source text (never rendered): a user's file must not run in this origin.
import { api } from "./api.js";
import { downloadUrl, encodePath, formatBytes, readHead } from "./artifact-links.js";
import { plotlyText } from "./charts.js";

const TEXT_LIMIT = 200 * 1024;
const CSV_LIMIT = 256 * 1024;
const CSV_ROWS = 50;
const IMAGE = /\.(png|jpe?g|gif|webp)$/i;
const PARQUET = /\.(parquet|pq)$/i;
const CSV = /\.(csv|tsv)$/i;
const JSON_FILE = /\.json$/i;
const YAML = /\.ya?ml$/i;
// Source shown as text, named apart so the notice says why it is not rendered.
const MARKUP = /\.(html?|svg|xml|xhtml)$/i;
const TEXT = /(\.(txt|log|md|markdown|rst|py|ipynb|toml|cfg|ini|conf|sh|diff|patch|sql|r|js|ts|java|c|h|cpp|go|rs|env|properties)|^[^.]*)$/i;

function element(tag, { className, text } = {}) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

function head(runId, file, note) {
  const bar = element("div", { className: "preview-head" });
  bar.append(element("h3", { text: file.path }), element("span", { className: "hint", text: formatBytes(file.size) }));
  const link = element("a", { className: "button-link", text: "Download" });
  link.href = downloadUrl(runId, file.path);
  link.setAttribute("download", file.path.split("/").pop());
  bar.append(link);
  const out = [bar];
  if (note) out.push(element("p", { className: "hint preview-note", text: note }));
  return out;
}

function textBlock(text, truncated) {
  const pre = element("pre", { className: "preview-text" });
  pre.append(element("code", { text: truncated ? `${text}\n…` : text }));
  return pre;
}

/** A small RFC 4180 reader: quoted fields, doubled quotes, newlines inside quotes; stops after `maxRows`. */
export function parseCsv(text, maxRows, delimiter = ",") {
  const rows = [];
  let row = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length && rows.length < maxRows; i++) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"' && field === "") quoted = true;
    else if (char === delimiter) {
      row.push(field);
      field = "";
    } else if (char === "\n" || char === "\r") {
      if (char === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += char;
  }
  if ((field !== "" || row.length) && rows.length < maxRows) rows.push([...row, field]);
  return rows;
}

function table(columns, rows) {
  const wrap = element("div", { className: "table-wrap scroll preview-table" });
  const grid = element("table", { className: "grid compact" });
  const headRow = element("tr");
  for (const column of columns) {
    const th = element("th", { text: column.name });
    th.scope = "col";
    if (column.type) th.append(element("span", { className: "kind", text: column.type }));
    headRow.append(th);
  }
  grid.append(element("thead"));
  grid.tHead.append(headRow);
  const body = element("tbody");
  for (const row of rows) {
    const tr = element("tr");
    for (const value of row) {
      const td = element("td", { className: typeof value === "number" ? "num" : "text", text: value == null ? "" : String(value) });
      if (value != null) td.title = String(value);
      tr.append(td);
    }
    body.append(tr);
  }
  grid.append(body);
  wrap.append(grid);
  return wrap;
}

// Plotly reads a subset of HTML in a figure's labels: <a href> becomes a link, <b>, <i>, <sup> or <span style>
// a style attribute (refused by the page's CSP). A logged figure is the run's data, so each of its strings is
// entity-escaped to show as typed, but for line breaks and hover templates' <extra>, which only lay text out.
const LAYOUT_TAGS = /(<br\s*\/?>|<\/?extra>)/i;

/** `value` (a parsed figure, or any part of it) with every string's markup escaped for Plotly. */
export function figureText(value) {
  if (typeof value === "string") {
    return value.split(LAYOUT_TAGS).map((part, i) => (i % 2 ? part : plotlyText(part))).join("");
  }
  if (Array.isArray(value)) return value.map(figureText);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, figureText(item)]));
  }
  return value;
}

function isFigure(value) {
  return value && typeof value === "object" && Array.isArray(value.data) && !Array.isArray(value);
}

async function drawFigure(container, figure) {
  const chart = element("div", { className: "preview-figure" });
  chart.setAttribute("role", "img");
  chart.setAttribute("aria-label", "Plotly figure");
  container.append(chart);
  // The figure's own layout, without anything that could reach outside (images from other hosts are refused
  // by the page's CSP anyway); its text escaped, so that no label becomes a link or markup.
  const layout = { ...figureText(figure.layout || {}), autosize: true };
  await window.Plotly.newPlot(chart, figureText(figure.data), layout, { displaylogo: false, responsive: true });
}

async function previewInto(container, runId, file) {
  const { path, size } = file;
  if (IMAGE.test(path)) {
    container.replaceChildren(...head(runId, file));
    const img = element("img", { className: "preview-image" });
    img.alt = path;
    img.src = downloadUrl(runId, path);
    container.append(img);
    return;
  }
  if (PARQUET.test(path)) {
    const answer = await api("GET", `/runs/${encodeURIComponent(runId)}/artifacts-preview/${encodePath(path)}`);
    const shown = `${answer.rows.length} of ${answer.total_rows.toLocaleString()} rows`;
    const cols = answer.total_columns > answer.columns.length ? `, ${answer.columns.length} of ${answer.total_columns} columns` : "";
    container.replaceChildren(...head(runId, file, `First ${shown}${cols}.`), table(answer.columns, answer.rows));
    return;
  }
  if (CSV.test(path)) {
    const { text, truncated } = await readHead(runId, path, size, CSV_LIMIT);
    // A cut file ends in a partial line: drop it rather than show half a row.
    const whole = truncated ? text.slice(0, text.lastIndexOf("\n") + 1) : text;
    const rows = parseCsv(whole, CSV_ROWS + 1, /\.tsv$/i.test(path) ? "\t" : ",");
    const [header = [], ...body] = rows;
    const note = `First ${body.length} rows${truncated || body.length === CSV_ROWS ? " (the file has more)" : ""}.`;
    container.replaceChildren(...head(runId, file, note), table(header.map((name) => ({ name })), body));
    return;
  }
  if (MARKUP.test(path)) {
    const { text, truncated } = await readHead(runId, path, size, TEXT_LIMIT);
    const note = "Shown as source: HTML and SVG files are never rendered here. Download to open it.";
    container.replaceChildren(...head(runId, file, note), textBlock(text, truncated));
    return;
  }
  if (JSON_FILE.test(path)) {
    const { text, truncated } = await readHead(runId, path, size, TEXT_LIMIT);
    let parsed;
    if (!truncated) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    if (parsed !== undefined && isFigure(parsed) && window.Plotly) {
      container.replaceChildren(...head(runId, file, "A Plotly figure."));
      await drawFigure(container, parsed);
      return;
    }
    const shown = parsed === undefined ? text : JSON.stringify(parsed, null, 2);
    const note = truncated ? `First ${formatBytes(TEXT_LIMIT)}, as stored.` : parsed === undefined ? "Not valid JSON: shown as stored." : "";
    container.replaceChildren(...head(runId, file, note), textBlock(shown, truncated));
    return;
  }
  if (YAML.test(path) || TEXT.test(path.split("/").pop())) {
    const { text, truncated } = await readHead(runId, path, size, TEXT_LIMIT);
    const note = truncated ? `First ${formatBytes(TEXT_LIMIT)} of ${formatBytes(size)}.` : "";
    container.replaceChildren(...head(runId, file, note), textBlock(text, truncated));
    return;
  }
  container.replaceChildren(...head(runId, file, "No preview for this kind of file."));
}

/** Replace `container`'s content by a preview of `file` ({path, size}) of run `runId`. */
export async function showPreview(container, runId, file) {
  // Each preview writes into its own box: when a later choice replaces it, a slow earlier one lands nowhere.
  const box = element("div", { className: "preview-body" });
  box.append(element("p", { className: "hint", text: "Loading…" }));
  container.replaceChildren(box);
  try {
    await previewInto(box, runId, file);
  } catch (error) {
    box.replaceChildren(...head(runId, file), element("p", { className: "field-error", text: `No preview: ${error.message}` }));
  }
}
