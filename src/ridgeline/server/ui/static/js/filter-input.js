// Key completion in the filter box: as you type a field, the keys this project's runs use are offered.

const ATTRIBUTES = ["name", "status", "start_time", "end_time", "user", "id", "parent_run_id"];
// The grammar's bare keys (domain/filters/nodes.py _BARE_KEY); others go in backticks.
const BARE = /^[A-Za-z0-9_\-./:]+$/;
const MAX_SHOWN = 10;

function quoted(key) {
  return BARE.test(key) ? key : `\`${key.replaceAll("`", "``")}\``;
}

function fields(keys) {
  return [
    ...keys.metrics.map((key) => `metrics.${quoted(key)}`),
    ...keys.params.map((key) => `params.${quoted(key)}`),
    ...keys.tags.map((key) => `tags.${quoted(key)}`),
    ...ATTRIBUTES.map((name) => `attributes.${name}`),
  ];
}

/** The word being typed: from the last blank or bracket before the cursor. */
function currentToken(input) {
  const before = input.value.slice(0, input.selectionStart);
  const match = before.match(/[^\s(),]*$/);
  return { text: match[0], start: before.length - match[0].length };
}

export function attachCompletion(input, list, keys) {
  const candidates = fields(keys);
  let shown = [];
  let active = -1;

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    shown = [];
    active = -1;
  }

  function render() {
    list.replaceChildren(
      ...shown.map((text, index) => {
        const item = document.createElement("li");
        item.id = `filter-suggestion-${index}`;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", String(index === active));
        item.textContent = text;
        item.addEventListener("mousedown", (event) => {
          event.preventDefault();
          accept(index);
        });
        return item;
      }),
    );
    list.hidden = shown.length === 0;
    input.setAttribute("aria-expanded", String(!list.hidden));
    if (active >= 0) input.setAttribute("aria-activedescendant", `filter-suggestion-${active}`);
  }

  function update() {
    const { text } = currentToken(input);
    if (text.length < 1 || /^['"\d<>=!]/.test(text)) return close();
    const needle = text.toLowerCase();
    shown = candidates.filter((field) => field.toLowerCase().includes(needle) && field !== text).slice(0, MAX_SHOWN);
    active = shown.length ? 0 : -1;
    render();
  }

  function accept(index) {
    const { start } = currentToken(input);
    const after = input.value.slice(input.selectionStart);
    const inserted = `${shown[index]} `;
    input.value = input.value.slice(0, start) + inserted + after.replace(/^[^\s(),]*/, "");
    const cursor = start + inserted.length;
    input.setSelectionRange(cursor, cursor);
    close();
    input.focus();
  }

  input.addEventListener("input", update);
  input.addEventListener("blur", close);
  input.addEventListener("keydown", (event) => {
    if (list.hidden) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      active = (active + step + shown.length) % shown.length;
      render();
    } else if ((event.key === "Enter" || event.key === "Tab") && active >= 0) {
      event.preventDefault();
      accept(active);
    } else if (event.key === "Escape") {
      close();
    }
  });
}
