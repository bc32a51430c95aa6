// A registered model's page: the running servers that serve it, and the promote and rollback dialogs.
import { markReady } from "./base.js";
import { showServers } from "./models-servers.js";

const model = JSON.parse(document.getElementById("model-data").textContent);

showServers(model.name, document.getElementById("served-by")).finally(markReady);
