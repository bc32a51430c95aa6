// The compare page's table of params, metrics and tags: its "only differences" toggle (state.onlyDifferences).

function showOnlyDifferences(table, only) {
  for (const body of table.tBodies) {
    let shown = 0;
    for (const row of body.rows) {
      if (row.classList.contains("group-row")) continue;
      row.hidden = only && !row.classList.contains("differs");
      if (!row.hidden) shown++;
    }
    body.hidden = shown === 0;
  }
}

/** Wire the toggle to `state.onlyDifferences`, calling `save` when it changes. */
export function wireDifferenceTable(state, save) {
  const toggle = document.getElementById("only-differences");
  if (!toggle) return;
  const table = document.getElementById("differences");
  toggle.checked = state.onlyDifferences;
  toggle.addEventListener("change", () => {
    state.onlyDifferences = toggle.checked;
    save();
    showOnlyDifferences(table, state.onlyDifferences);
  });
  showOnlyDifferences(table, state.onlyDifferences);
}
