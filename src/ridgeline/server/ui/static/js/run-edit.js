// The run page's editable parts: its name, notes and tags, saved through the API as they are changed.
// User text only ever goes into the page as textContent.
import { api, setTags } from "./api.js";

function showError(element, message) {
  element.textContent = message;
  element.hidden = !message;
}

function wireRename(runPath) {
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

function wireNotes(runPath) {
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

function wireTags(runId, runPath) {
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

/** Wire the rename form, the notes and the tags table of run `runId`, found in the API at `runPath`. */
export function wireEdits(runId, runPath) {
  wireRename(runPath);
  wireNotes(runPath);
  wireTags(runId, runPath);
}
