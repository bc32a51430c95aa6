// The run page's Artifacts tab: the run's files as a folder tree with sizes; choosing a file previews it
// (artifact-preview.js) and puts its path in the URL (`file=`), so a link opens the same preview.
import { formatBytes, listFiles } from "./artifact-links.js";
import { showPreview } from "./artifact-preview.js";

/** Nested folders from flat paths: {folders: Map name → node, files: [{name, file}], bytes}. */
function buildTree(files) {
  const root = { folders: new Map(), files: [], bytes: 0 };
  for (const file of files) {
    const parts = file.path.split("/");
    let node = root;
    node.bytes += file.size;
    for (const part of parts.slice(0, -1)) {
      if (!node.folders.has(part)) node.folders.set(part, { folders: new Map(), files: [], bytes: 0 });
      node = node.folders.get(part);
      node.bytes += file.size;
    }
    node.files.push({ name: parts[parts.length - 1], file });
  }
  return root;
}

function sizeLabel(bytes) {
  const size = document.createElement("span");
  size.className = "size";
  size.textContent = formatBytes(bytes);
  return size;
}

function renderNode(node, choose) {
  const list = document.createElement("ul");
  for (const [name, child] of [...node.folders].sort(([a], [b]) => a.localeCompare(b))) {
    const item = document.createElement("li");
    const details = document.createElement("details");
    details.open = true;
    const summary = document.createElement("summary");
    const label = document.createElement("span");
    label.className = "folder";
    label.textContent = `${name}/`;
    summary.append(label, sizeLabel(child.bytes));
    details.append(summary, renderNode(child, choose));
    item.append(details);
    list.append(item);
  }
  for (const { name, file } of node.files.sort((a, b) => a.name.localeCompare(b.name))) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "file";
    button.dataset.path = file.path;
    const label = document.createElement("span");
    label.textContent = name;
    button.append(label, sizeLabel(file.size));
    button.addEventListener("click", () => choose(file));
    item.append(button);
    list.append(item);
  }
  return list;
}

/** Load the tree of run `runId` into the tab's elements; resolves once the tree (and a preview from the URL) is in. */
export async function loadArtifacts(runId) {
  const treeBox = document.getElementById("artifact-tree");
  const preview = document.getElementById("artifact-preview");
  const summary = document.getElementById("artifact-summary");
  let answer;
  try {
    answer = await listFiles(runId);
  } catch (error) {
    summary.textContent = `The files could not be listed: ${error.message}`;
    return;
  }
  if (!answer.files.length) {
    document.getElementById("no-artifacts").hidden = false;
    summary.textContent = "";
    treeBox.hidden = true;
    preview.hidden = true;
    return;
  }
  summary.textContent = `${answer.files.length} file${answer.files.length === 1 ? "" : "s"}, ${formatBytes(answer.bytes)}`;

  async function choose(file, { write = true } = {}) {
    for (const button of treeBox.querySelectorAll("button.file")) {
      button.setAttribute("aria-current", String(button.dataset.path === file.path));
    }
    if (write) {
      const query = new URLSearchParams(window.location.search);
      query.set("tab", "artifacts");
      query.set("file", file.path);
      window.history.replaceState(window.history.state, "", `${window.location.pathname}?${query}`);
    }
    await showPreview(preview, runId, file);
  }

  const tree = renderNode(buildTree(answer.files), (file) => choose(file));
  tree.className = "file-tree";
  treeBox.replaceChildren(tree);
  const wanted = new URLSearchParams(window.location.search).get("file");
  const file = answer.files.find((item) => item.path === wanted);
  if (file) await choose(file, { write: false });
}
