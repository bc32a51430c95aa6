// Administration (/admin): accounts (create, disable and enable, make admin or user, reset a password, a service
// account's tokens), every account's API tokens, invitations (a new link is shown once) and workspaces with their
// members. Each action calls the API and reloads the page; a refusal is shown in the page's or dialog's error box.
import { api } from "./api.js";
import { clearProblems, confirmAction, expiryDays, fail, passwordProblem, showSecret, submitting } from "./account-dialogs.js";
import { wireDialog } from "./models-dialog.js";

const pageError = document.getElementById("admin-error");
const pageStatus = document.getElementById("admin-status");
const path = (value) => encodeURIComponent(value);

/** Run one row action: the button is disabled meanwhile; success reloads, failure shows in the page's box. */
async function act(button, request, { confirm = null, label = "Confirm" } = {}) {
  if (confirm && !(await confirmAction(confirm, label))) return;
  pageError.hidden = true;
  button.disabled = true;
  pageStatus.textContent = "Saving…";
  try {
    await request();
    window.location.reload();
  } catch (failure) {
    pageStatus.textContent = "";
    fail(pageError, failure);
    button.disabled = false;
  }
}

function wireUsers() {
  const table = document.getElementById("users");
  if (!table) return;
  const userDialog = document.getElementById("user-dialog");
  const userForm = document.getElementById("user-form");
  const userBox = document.getElementById("user-error");
  const passwordFields = document.getElementById("user-password-fields");
  const syncKind = () => {
    const service = userForm.elements.kind.value === "service";
    passwordFields.hidden = service;
    for (const input of passwordFields.querySelectorAll("input")) input.disabled = service;
  };
  for (const radio of userForm.querySelectorAll("input[name='kind']")) radio.addEventListener("change", syncKind);
  const syncRole = () => {
    userForm.elements.role.disabled = !userForm.elements.workspace.value;
  };
  userForm.elements.workspace.addEventListener("change", syncRole);
  wireDialog(userDialog, document.getElementById("user-open"), () => {
    userForm.reset();
    clearProblems(userForm, userBox);
    syncKind();
    syncRole();
  });
  userForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearProblems(userForm, userBox);
    const elements = userForm.elements;
    const kind = elements.kind.value;
    if (!elements.name.value.trim()) {
      elements.name.setAttribute("aria-invalid", "true");
      return fail(userBox, "Choose a user name.");
    }
    if (kind === "user") {
      const problem = passwordProblem(userForm);
      if (problem) return fail(userBox, problem);
    }
    const workspace = elements.workspace.value;
    const body = {
      name: elements.name.value.trim(),
      kind,
      system_role: elements.system_role.value,
      display_name: elements.display_name.value.trim(),
      email: elements.email.value.trim() || null,
      password: kind === "user" ? elements.password.value : null,
      workspace: workspace || null,
      role: workspace ? elements.role.value : null,
    };
    if (await submitting(userForm, userBox, () => api("POST", "/users", body))) window.location.reload();
  });

  const passwordDialog = document.getElementById("password-dialog");
  const passwordForm = document.getElementById("password-form");
  const passwordBox = document.getElementById("password-error");
  const tokenDialog = document.getElementById("token-dialog");
  const tokenForm = document.getElementById("token-form");
  const tokenBox = document.getElementById("token-error");
  let target = "";
  passwordForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearProblems(passwordForm, passwordBox);
    const problem = passwordProblem(passwordForm);
    if (problem) return fail(passwordBox, problem);
    const body = { password: passwordForm.elements.password.value };
    if (await submitting(passwordForm, passwordBox, () => api("PATCH", `/users/${path(target)}`, body))) {
      passwordDialog.close();
      pageStatus.textContent = `New password set for ${target}; their sessions ended.`;
    }
  });
  tokenForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearProblems(tokenForm, tokenBox);
    const name = tokenForm.elements.name.value.trim();
    if (!name) {
      tokenForm.elements.name.setAttribute("aria-invalid", "true");
      return fail(tokenBox, "Name the token after where it will be used.");
    }
    const body = { name, scope: tokenForm.elements.scope.value, expires_days: expiryDays(tokenForm.elements.expires_days) };
    let created;
    const request = async () => (created = await api("POST", `/users/${path(target)}/tokens`, body));
    if (await submitting(tokenForm, tokenBox, request)) {
      tokenDialog.close();
      showSecret(created.token, `The new ${created.scope} token “${created.name}” of ${target}:`);
    }
  });

  for (const row of table.querySelectorAll("tbody tr")) {
    const user = row.dataset.user;
    for (const button of row.querySelectorAll("button[data-action]")) {
      const action = button.dataset.action;
      if (action === "password") {
        wireDialog(passwordDialog, button, () => {
          target = user;
          passwordForm.reset();
          clearProblems(passwordForm, passwordBox);
          document.getElementById("password-summary").textContent = `A new password for ${user}. Their sessions end.`;
        });
      } else if (action === "token") {
        wireDialog(tokenDialog, button, () => {
          target = user;
          tokenForm.reset();
          clearProblems(tokenForm, tokenBox);
          document.getElementById("token-summary").textContent = `A token for the service account ${user}.`;
        });
      } else {
        const body = {
          disable: { disabled: true },
          enable: { disabled: false },
          "make-admin": { system_role: "admin" },
          "make-user": { system_role: "user" },
        }[action];
        const confirm = {
          disable: `Disable ${user}? Their sessions end and their tokens stop working until enabled again.`,
          "make-admin": `Make ${user} a system administrator? They will manage every account and workspace.`,
        }[action];
        button.addEventListener("click", () =>
          act(button, () => api("PATCH", `/users/${path(user)}`, body), { confirm, label: button.textContent }),
        );
      }
    }
  }
}

function wireTokens() {
  const table = document.getElementById("tokens");
  if (!table) return;
  for (const button of table.querySelectorAll("[data-revoke]")) {
    const row = button.closest("tr");
    button.addEventListener("click", () =>
      act(button, () => api("DELETE", `/tokens/${path(row.dataset.tokenId)}`), {
        confirm: `Revoke ${row.dataset.user}'s token “${row.dataset.tokenName}”? Whatever uses it is refused from now on.`,
        label: "Revoke",
      }),
    );
  }
}

function wireInvitations() {
  const opener = document.getElementById("invitation-open");
  if (!opener) return;
  const dialog = document.getElementById("invitation-dialog");
  const form = document.getElementById("invitation-form");
  const box = document.getElementById("invitation-error");
  const syncRole = () => {
    form.elements.role.disabled = !form.elements.workspace.value;
  };
  form.elements.workspace.addEventListener("change", syncRole);
  wireDialog(dialog, opener, () => {
    form.reset();
    clearProblems(form, box);
    syncRole();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearProblems(form, box);
    const days = Number(form.elements.days.value);
    if (!(days > 0 && days <= 90)) {
      form.elements.days.setAttribute("aria-invalid", "true");
      return fail(box, "An invitation lasts 1 to 90 days.");
    }
    const workspace = form.elements.workspace.value;
    const body = {
      workspace: workspace || null,
      role: workspace ? form.elements.role.value : null,
      system_role: form.elements.system_role.value,
      note: form.elements.note.value.trim(),
      days,
    };
    let created;
    if (await submitting(form, box, async () => (created = await api("POST", "/invitations", body)))) {
      dialog.close();
      const what = created.workspace ? `${created.role} in ${created.workspace}` : "no workspace";
      showSecret(created.url, `The invitation link (${what}${created.system_role === "admin" ? ", administrator" : ""}). Send it to the person it is for:`);
    }
  });
  for (const button of document.querySelectorAll("#invitations [data-delete]")) {
    const row = button.closest("tr");
    button.addEventListener("click", () =>
      act(button, () => api("DELETE", `/invitations/${path(row.dataset.invitationId)}`), {
        confirm: "Delete this invitation? Its link stops working.",
        label: "Delete",
      }),
    );
  }
}

function wireWorkspaces() {
  const form = document.getElementById("workspace-form");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    pageError.hidden = true;
    const name = form.elements.name.value.trim();
    if (!name) {
      form.elements.name.setAttribute("aria-invalid", "true");
      return fail(pageError, "Name the workspace.");
    }
    const body = { name, owner: form.elements.owner.value || null };
    if (await submitting(form, pageError, () => api("POST", "/workspaces", body))) {
      window.location.assign(`/admin?tab=workspaces&workspace=${path(name)}`);
    }
  });
  for (const button of document.querySelectorAll("#workspaces [data-delete]")) {
    const name = button.closest("tr").dataset.workspace;
    button.addEventListener("click", () =>
      act(button, () => api("DELETE", `/workspaces/${path(name)}`), {
        confirm: `Delete the workspace ${name}? Only an empty one can be deleted (no projects, no models).`,
        label: "Delete",
      }),
    );
  }
  const members = document.getElementById("members");
  if (!members) return;
  const workspace = members.dataset.workspace;
  for (const select of members.querySelectorAll("select[data-role-of]")) {
    const user = select.dataset.roleOf;
    const before = select.value;
    select.addEventListener("change", () =>
      act(select, () => api("PUT", `/workspaces/${path(workspace)}/members/${path(user)}`, { role: select.value })).then(
        () => {
          if (!select.disabled) select.value = before;
        },
      ),
    );
  }
  for (const button of members.querySelectorAll("[data-remove]")) {
    const user = button.closest("tr").dataset.member;
    button.addEventListener("click", () =>
      act(button, () => api("DELETE", `/workspaces/${path(workspace)}/members/${path(user)}`), {
        confirm: `Remove ${user} from ${workspace}?`,
        label: "Remove",
      }),
    );
  }
  const add = document.getElementById("member-form");
  add.addEventListener("submit", async (event) => {
    event.preventDefault();
    pageError.hidden = true;
    const user = add.elements.user.value;
    if (!user) return fail(pageError, "Every account is a member already.");
    const request = () => api("PUT", `/workspaces/${path(workspace)}/members/${path(user)}`, { role: add.elements.role.value });
    if (await submitting(add, pageError, request)) window.location.reload();
  });
}

wireUsers();
wireTokens();
wireInvitations();
wireWorkspaces();
