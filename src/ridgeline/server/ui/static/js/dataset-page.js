// A dataset's page: "Mark ready" declares a version ready for modelling through the API (recorded with who and
// when), then reloads, so the page shows what the server recorded.
import { api } from "./api.js";

const error = document.getElementById("ready-error");

for (const button of document.querySelectorAll("button[data-mark-ready]")) {
  button.addEventListener("click", async () => {
    button.disabled = true;
    error.hidden = true;
    try {
      await api("POST", `/dataset-versions/${encodeURIComponent(button.dataset.markReady)}/ready`, { ready: true });
      window.location.reload();
    } catch (failure) {
      error.textContent = `Could not mark the version ready: ${failure.message}`;
      error.hidden = false;
      button.disabled = false;
    }
  });
}
