// A modal dialog that keeps focus inside it: Tab and Shift+Tab wrap around its controls, Escape closes it (the
// browser's own cancel), and closing gives focus back to the button that opened it.

const FOCUSABLE = "button:not([disabled]), select:not([disabled]), input:not([disabled]), textarea:not([disabled]), a[href]";

function trapFocus(dialog, event) {
  if (event.key !== "Tab") return;
  const controls = [...dialog.querySelectorAll(FOCUSABLE)].filter((element) => !element.closest("[hidden]"));
  if (!controls.length) return;
  const first = controls[0];
  const last = controls[controls.length - 1];
  if (event.shiftKey && document.activeElement === first) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && document.activeElement === last) {
    event.preventDefault();
    first.focus();
  }
}

/** Make `dialog` open from `opener`; `onOpen` runs before it shows (to reset its fields). */
export function wireDialog(dialog, opener, onOpen) {
  dialog.addEventListener("keydown", (event) => trapFocus(dialog, event));
  dialog.addEventListener("close", () => opener.focus());
  for (const button of dialog.querySelectorAll("[data-close]")) {
    button.addEventListener("click", () => dialog.close());
  }
  opener.addEventListener("click", () => {
    onOpen();
    dialog.showModal();
  });
}

/** Show `failure`'s message in the dialog's error box (kept open, so the user can change and retry). */
export function showError(box, failure) {
  box.replaceChildren();
  const message = document.createElement("p");
  message.textContent = failure.message;
  box.append(message);
  for (const outcome of failure.details?.outcomes || []) {
    const line = document.createElement("p");
    line.className = outcome.passed ? "hint" : "";
    line.textContent = `${outcome.passed ? "✓" : "✗"} ${outcome.rule}: ${outcome.reason}`;
    box.append(line);
  }
  box.hidden = false;
}
