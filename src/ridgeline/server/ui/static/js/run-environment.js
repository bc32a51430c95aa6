// The run page's Environment tab: installed packages, the uncommitted git diff and the console output, read
// from the files environment capture stores (client/capture/). Each is read up to a limit, as text.
import { downloadUrl, formatBytes, listFiles, readHead } from "./artifact-links.js";

const LIMIT = 512 * 1024;
const FILES = {
  packages: "environment/requirements.txt",
  diff: "environment/git.diff",
  console: "console.log",
};

/** The diff, a line per element, added and removed lines marked with a class (colours come from ui.css). */
function diffLines(text) {
  const code = document.createElement("code");
  for (const line of text.split("\n")) {
    const span = document.createElement("span");
    span.textContent = `${line}\n`;
    if (line.startsWith("+++") || line.startsWith("---") || line.startsWith("diff ")) span.className = "diff-file";
    else if (line.startsWith("+")) span.className = "diff-add";
    else if (line.startsWith("-")) span.className = "diff-del";
    else if (line.startsWith("@@")) span.className = "diff-hunk";
    code.append(span);
  }
  return code;
}

async function fill(runId, name, file) {
  const box = document.getElementById(`env-${name}`);
  const note = document.getElementById(`env-${name}-note`);
  if (!file) {
    box.hidden = true;
    note.textContent = "Not captured for this run.";
    return;
  }
  const { text, truncated } = await readHead(runId, file.path, file.size, LIMIT);
  const link = document.createElement("a");
  link.href = downloadUrl(runId, file.path);
  link.setAttribute("download", file.path.split("/").pop());
  link.textContent = `Download (${formatBytes(file.size)})`;
  note.replaceChildren(truncated ? `First ${formatBytes(LIMIT)} shown. ` : "", link);
  if (name === "packages") {
    const lines = text.split("\n").filter((line) => line.trim() && !line.startsWith("#"));
    document.getElementById("env-packages-count").textContent = `(${lines.length})`;
  }
  if (name === "diff") box.replaceChildren(diffLines(text));
  else {
    const code = document.createElement("code");
    code.textContent = text;
    box.replaceChildren(code);
  }
  box.hidden = false;
}

export async function loadEnvironment(runId) {
  let files = [];
  try {
    files = (await listFiles(runId)).files;
  } catch (error) {
    document.getElementById("env-packages-note").textContent = `The files could not be listed: ${error.message}`;
    return;
  }
  const byPath = new Map(files.map((file) => [file.path, file]));
  await Promise.all(
    Object.entries(FILES).map(([name, path]) =>
      fill(runId, name, byPath.get(path)).catch((error) => {
        document.getElementById(`env-${name}-note`).textContent = `Could not be read: ${error.message}`;
      }),
    ),
  );
}
