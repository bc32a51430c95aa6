// The public account pages: log in (/login), sign up (/signup) and accept an invitation (/invitation). Each form
// posts JSON to the API, which answers with the session cookie; the page then moves on. The forms stay disabled
// without JavaScript, so a password is never sent as a plain form post.
import { api } from "./api.js";
import { clearWorkspaceChoice } from "./base.js";

/** `next` if it is a path on this site (one leading "/", no backslash, no control character), else "/". */
export function sameSitePath(next) {
  if (typeof next !== "string" || !next.startsWith("/") || next.startsWith("//")) return "/";
  if (/[\\\u0000-\u001f\u007f]/.test(next)) return "/";
  const url = new URL(next, window.location.origin);
  return url.origin === window.location.origin ? `${url.pathname}${url.search}${url.hash}` : "/";
}

function showProblem(box, message, field) {
  box.replaceChildren();
  const line = document.createElement("p");
  line.textContent = message;
  box.append(line);
  box.hidden = false;
  field?.setAttribute("aria-invalid", "true");
  field?.focus();
}

/** Wire `form`: enable it, check it with `check` (a message or null), post `body()` to `endpoint`, then `done`. */
function wire(form, errorBox, { endpoint, body, check, done }) {
  const fieldset = form.querySelector("fieldset");
  const button = form.querySelector("button[type='submit']");
  fieldset.disabled = false;
  // autofocus does nothing on a field that was disabled when the page loaded.
  form.querySelector("[autofocus]")?.focus();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errorBox.hidden = true;
    for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
    const problem = check();
    if (problem) {
      showProblem(errorBox, problem.message, problem.field);
      return;
    }
    button.disabled = true;
    try {
      await api("POST", endpoint, body());
      // A workspace chosen in this browser by whoever used it before is not this account's to use.
      clearWorkspaceChoice();
      window.location.assign(done());
    } catch (failure) {
      const field = failure.field ? form.elements[failure.field] : null;
      showProblem(errorBox, failure.message, field instanceof HTMLElement ? field : null);
      button.disabled = false;
    }
  });
}

function required(form, names) {
  for (const name of names) {
    const field = form.elements[name];
    if (!field.value.trim()) return { message: `Fill in the ${field.labels[0]?.textContent.trim().toLowerCase() || name}.`, field };
  }
  return null;
}

function newAccount(form) {
  const missing = required(form, ["name", "password"]);
  if (missing) return missing;
  if (form.elements.password.value !== form.elements.repeat.value) {
    return { message: "The two passwords differ: type the same one twice.", field: form.elements.repeat };
  }
  return null;
}

function accountBody(form) {
  const email = form.elements.email.value.trim();
  return {
    name: form.elements.name.value.trim(),
    password: form.elements.password.value,
    display_name: form.elements.display_name.value.trim(),
    email: email || null,
  };
}

const login = document.getElementById("login-form");
if (login) {
  wire(login, document.getElementById("login-error"), {
    endpoint: "/session",
    check: () => required(login, ["name", "password"]),
    body: () => ({ name: login.elements.name.value.trim(), password: login.elements.password.value }),
    done: () => sameSitePath(login.dataset.next),
  });
}

const signup = document.getElementById("signup-form");
if (signup) {
  wire(signup, document.getElementById("signup-error"), {
    endpoint: "/signup",
    check: () => newAccount(signup),
    body: () => accountBody(signup),
    done: () => "/account",
  });
}

const invitation = document.getElementById("invitation-form");
if (invitation) {
  const token = new URLSearchParams(window.location.search).get("token") || "";
  wire(invitation, document.getElementById("invitation-error"), {
    endpoint: "/invitations/accept",
    check: () => newAccount(invitation),
    body: () => ({ ...accountBody(invitation), token }),
    done: () => sameSitePath(invitation.dataset.land),
  });
}
