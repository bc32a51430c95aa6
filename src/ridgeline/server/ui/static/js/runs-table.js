// The runs table: selection, compare, bulk tag / delete / restore. Sorting, filtering, grouping and paging are
// plain links and forms, so every view is a URL.
import { api, setTags } from "./api.js";
import { attachCompletion } from "./filter-input.js";

const form = document.getElementById("runs-form");
const statusLine = document.getElementById("action-status");

function selected() {
  return [...form.querySelectorAll('input[name="runs"]:checked')].map((box) => box.value);
}

function refresh() {
  const ids = selected();
  document.getElementById("selection-count").textContent = `${ids.length} selected`;
  for (const button of form.querySelectorAll("[data-needs]")) {
    const needs = Number(button.dataset.needs);
    button.disabled = ids.length < needs || (button.type === "submit" && ids.length > 50);
  }
  for (const box of form.querySelectorAll('input[name="runs"]')) {
    box.closest("tr").classList.toggle("selected", box.checked);
  }
  const all = form.querySelectorAll('input[name="runs"]');
  const selectAll = document.getElementById("select-all");
  selectAll.checked = all.length > 0 && ids.length === all.length;
  selectAll.indeterminate = ids.length > 0 && ids.length < all.length;
}

async function act(label, work) {
  statusLine.textContent = `${label}…`;
  try {
    await work();
    window.location.reload();
  } catch (error) {
    statusLine.textContent = `${label} failed: ${error.message}`;
  }
}

const actions = {
  delete: () => {
    const ids = selected();
    if (!window.confirm(`Delete ${ids.length} run(s)? They can be restored from "Deleted runs".`)) return;
    act("Deleting", () => api("POST", "/runs/delete", { run_ids: ids }));
  },
  restore: () => act("Restoring", () => api("POST", "/runs/restore", { run_ids: selected() })),
  tag: () => {
    document.getElementById("tag-editor").hidden = false;
    document.getElementById("tag-key").focus();
  },
  "cancel-tag": () => {
    document.getElementById("tag-editor").hidden = true;
  },
  applyTag: () => {
    const key = document.getElementById("tag-key").value.trim();
    if (!key) {
      statusLine.textContent = "Give the tag a key.";
      return;
    }
    const value = document.getElementById("tag-value").value;
    act("Tagging", () => setTags(selected(), { [key]: value }));
  },
};

if (form) {
  form.addEventListener("change", refresh);
  document.getElementById("select-all").addEventListener("change", (event) => {
    for (const box of form.querySelectorAll('input[name="runs"]')) box.checked = event.target.checked;
    refresh();
  });
  form.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (button) actions[button.dataset.action]();
  });
  form.addEventListener("submit", (event) => {
    // Compare takes a short, shareable link: ?runs=a,b,c.
    event.preventDefault();
    window.location.href = `/compare?runs=${selected().join(",")}`;
  });
  document.getElementById("tag-form").addEventListener("submit", (event) => {
    event.preventDefault();
    actions.applyTag();
  });
  refresh();
}

const filterInput = document.getElementById("filter");
if (filterInput) {
  const keys = JSON.parse(document.getElementById("filter-keys").textContent);
  attachCompletion(filterInput, document.getElementById("filter-suggestions"), keys);
}
