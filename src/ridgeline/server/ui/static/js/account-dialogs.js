// Shared by the account and administration pages: the dialog that shows a secret the one time it exists (an API
// token, an invitation link) with a copy button, a confirmation dialog, and form helpers. Text from users and the
// server is always set as text, never as markup.
import { showError } from "./models-dialog.js";

/** Show `failure` (an Error, or a message) in `box`; mark the form field the server named, if any. */
export function fail(box, failure, form = null) {
  const error = typeof failure === "string" ? new Error(failure) : failure;
  showError(box, error);
  const field = error.field && form ? form.elements[error.field] : null;
  if (field instanceof HTMLElement) {
    field.setAttribute("aria-invalid", "true");
    field.focus();
  }
}

export function clearProblems(form, box) {
  box.hidden = true;
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

/** The two password fields agree and are filled in; else a message (and the field is marked). */
export function passwordProblem(form) {
  const password = form.elements.password;
  const repeat = form.elements.repeat;
  if (!password.value) {
    password.setAttribute("aria-invalid", "true");
    return "Choose a password.";
  }
  if (password.value !== repeat.value) {
    repeat.setAttribute("aria-invalid", "true");
    return "The two passwords differ: type the same one twice.";
  }
  return null;
}

/** Run `request` with the form's submit button disabled; true when it succeeded, else the error is shown. */
export async function submitting(form, box, request) {
  const button = form.querySelector("button[type='submit']");
  button.disabled = true;
  try {
    await request();
    return true;
  } catch (failure) {
    fail(box, failure, form);
    return false;
  } finally {
    button.disabled = false;
  }
}

async function copy(text, input) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  // Plain HTTP on another host: no Clipboard API, so the selection and the older copy command.
  input.select();
  if (!document.execCommand("copy")) throw new Error("copy is blocked: select the text and copy it yourself");
}

/** Show `secret` in the secret dialog with `lead` above it; closing it reloads the page (the list then shows it). */
export function showSecret(secret, lead) {
  const dialog = document.getElementById("secret-dialog");
  const input = document.getElementById("secret-value");
  const status = document.getElementById("secret-copied");
  document.getElementById("secret-lead").textContent = lead;
  input.value = secret;
  status.textContent = "";
  const copyButton = document.getElementById("secret-copy");
  copyButton.onclick = async () => {
    try {
      await copy(secret, input);
      status.textContent = "Copied to the clipboard.";
    } catch (failure) {
      status.textContent = failure.message;
    }
  };
  document.getElementById("secret-done").onclick = () => dialog.close();
  dialog.addEventListener(
    "close",
    () => {
      input.value = "";
      window.location.reload();
    },
    { once: true },
  );
  dialog.showModal();
  input.focus();
  input.select();
}

/** Ask before something that can't be undone; resolves true when confirmed. */
export function confirmAction(message, label = "Confirm") {
  const dialog = document.getElementById("confirm-dialog");
  document.getElementById("confirm-message").textContent = message;
  document.getElementById("confirm-ok").textContent = label;
  dialog.returnValue = "";
  const opener = document.activeElement;
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => {
        if (opener instanceof HTMLElement) opener.focus();
        resolve(dialog.returnValue === "confirm");
      },
      { once: true },
    );
    dialog.showModal();
  });
}

/** Days from an expiry select ("" means never). */
export function expiryDays(select) {
  return select.value === "" ? null : Number(select.value);
}
