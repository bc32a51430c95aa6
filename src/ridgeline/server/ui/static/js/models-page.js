// A registered model's page: the promote and rollback dialogs, and the running servers that serve the model.
import { markReady } from "./base.js";
import { wireActions } from "./models-actions.js";
import { showServers } from "./models-servers.js";

const model = JSON.parse(document.getElementById("model-data").textContent);

wireActions(model);
showServers(model.name, document.getElementById("served-by")).finally(markReady);
