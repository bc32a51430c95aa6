// Promote and rollback on a model's page: each opens a confirmation dialog that says what will move, sends the
// request to the native API when confirmed, and reloads the page to show where the aliases now point. A refused
// promotion (a rule failed) or any other error is shown in the dialog, which stays open.
import { api } from "./api.js";
import { showError, wireDialog } from "./models-dialog.js";

function rulesOf(text) {
  return text.split("\n").map((line) => line.trim()).filter(Boolean);
}

async function submit(form, errorBox, request) {
  const button = form.querySelector("button[type='submit']");
  button.disabled = true;
  errorBox.hidden = true;
  try {
    await request();
    window.location.reload();
  } catch (failure) {
    showError(errorBox, failure);
    button.disabled = false;
  }
}

function wirePromote(model) {
  const dialog = document.getElementById("promote-dialog");
  const form = document.getElementById("promote-form");
  const version = form.elements.version;
  const alias = form.elements.alias;
  const rules = form.elements.require;
  const summary = document.getElementById("promote-summary");
  const errorBox = document.getElementById("promote-error");
  const describe = () => {
    const name = alias.value.trim();
    const current = model.aliases[name];
    const target = `v${version.value}`;
    if (!name) summary.textContent = "Choose an alias.";
    else if (current === undefined) summary.textContent = `Create alias ${name} on ${target}.`;
    else if (String(current) === version.value) summary.textContent = `${name} already points at ${target}.`;
    else summary.textContent = `Move ${name} from v${current} to ${target}.`;
    const count = rulesOf(rules.value).length;
    if (count) summary.textContent += ` Only if ${count === 1 ? "the rule passes" : `all ${count} rules pass`}.`;
  };
  for (const field of [version, alias, rules]) field.addEventListener("input", describe);
  wireDialog(dialog, document.getElementById("promote-open"), () => {
    errorBox.hidden = true;
    describe();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!alias.value.trim()) {
      alias.setAttribute("aria-invalid", "true");
      showError(errorBox, new Error("Name the alias to move (for example champion)."));
      alias.focus();
      return;
    }
    alias.removeAttribute("aria-invalid");
    const body = { version: Number(version.value), alias: alias.value.trim(), require: rulesOf(rules.value) };
    submit(form, errorBox, () => api("POST", `/models/${encodeURIComponent(model.name)}/promote`, body));
  });
}

function wireRollback(model) {
  const opener = document.getElementById("rollback-open");
  const dialog = document.getElementById("rollback-dialog");
  const form = document.getElementById("rollback-form");
  const alias = form.elements.alias;
  const summary = document.getElementById("rollback-summary");
  const errorBox = document.getElementById("rollback-error");
  const describe = () => {
    summary.textContent =
      `Move ${alias.value} back from v${model.aliases[alias.value]} to the version it pointed at before its last move.`;
  };
  alias.addEventListener("input", describe);
  wireDialog(dialog, opener, () => {
    errorBox.hidden = true;
    describe();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = { alias: alias.value };
    submit(form, errorBox, () => api("POST", `/models/${encodeURIComponent(model.name)}/rollback`, body));
  });
}

/** Wire both dialogs when the model has versions (otherwise the page has no actions). */
export function wireActions(model) {
  if (!document.getElementById("promote-dialog")) return;
  wirePromote(model);
  if (Object.keys(model.aliases).length) wireRollback(model);
}
