// One's own account (/account): profile, default workspace, password, and personal API tokens (a new token's
// secret is shown once, in the secret dialog). Every change goes through /api/v1/account.
import { api } from "./api.js";
import { clearProblems, confirmAction, expiryDays, fail, passwordProblem, showSecret, submitting } from "./account-dialogs.js";
import { wireDialog } from "./models-dialog.js";

const status = document.getElementById("account-status");

function wireProfile() {
  const form = document.getElementById("profile-form");
  const box = document.getElementById("profile-error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearProblems(form, box);
    const body = { display_name: form.elements.display_name.value.trim(), email: form.elements.email.value.trim() };
    if (await submitting(form, box, () => api("PATCH", "/account", body))) status.textContent = "Profile saved.";
  });
}

function wireDefaultWorkspace() {
  const form = document.getElementById("default-form");
  if (!form) return;
  const box = document.getElementById("default-error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearProblems(form, box);
    const name = form.elements.default_workspace.value;
    if (!name) return fail(box, "Choose a workspace.");
    if (await submitting(form, box, () => api("PATCH", "/account", { default_workspace: name }))) {
      status.textContent = `Default workspace: ${name}.`;
    }
  });
}

function wirePassword() {
  const form = document.getElementById("password-form");
  if (!form) return;
  const box = document.getElementById("password-error");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearProblems(form, box);
    if (!form.elements.current_password.value) {
      form.elements.current_password.setAttribute("aria-invalid", "true");
      return fail(box, "Type your current password.");
    }
    const problem = passwordProblem(form);
    if (problem) return fail(box, problem);
    const body = { current_password: form.elements.current_password.value, new_password: form.elements.password.value };
    if (await submitting(form, box, () => api("POST", "/account/password", body))) {
      // Every session ended, this one too.
      window.location.assign(`/login?${new URLSearchParams({ next: "/account", reason: "password" })}`);
    }
  });
}

function wireTokens() {
  const dialog = document.getElementById("token-dialog");
  const form = document.getElementById("token-form");
  const box = document.getElementById("token-error");
  wireDialog(dialog, document.getElementById("token-open"), () => {
    form.reset();
    clearProblems(form, box);
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearProblems(form, box);
    const name = form.elements.name.value.trim();
    if (!name) {
      form.elements.name.setAttribute("aria-invalid", "true");
      return fail(box, "Name the token after where it will be used.");
    }
    const body = { name, scope: form.elements.scope.value, expires_days: expiryDays(form.elements.expires_days) };
    let created;
    if (await submitting(form, box, async () => (created = await api("POST", "/account/tokens", body)))) {
      dialog.close();
      showSecret(created.token, `Your new ${created.scope} token “${created.name}”:`);
    }
  });
  const errors = document.getElementById("tokens-error");
  for (const button of document.querySelectorAll("#tokens [data-revoke]")) {
    button.addEventListener("click", async () => {
      const row = button.closest("tr");
      const name = row.dataset.tokenName;
      if (!(await confirmAction(`Revoke the token “${name}”? Whatever uses it is refused from now on.`, "Revoke"))) return;
      errors.hidden = true;
      button.disabled = true;
      try {
        await api("DELETE", `/account/tokens/${encodeURIComponent(row.dataset.tokenId)}`);
        window.location.reload();
      } catch (failure) {
        fail(errors, failure);
        button.disabled = false;
      }
    });
  }
}

wireProfile();
wireDefaultWorkspace();
wirePassword();
wireTokens();
