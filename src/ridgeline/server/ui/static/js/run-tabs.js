// The run page's tabs (WAI-ARIA tabs pattern): arrow keys, Home and End move between tabs, and the chosen tab
// is the URL's `tab` parameter, so a shared link or a reload opens the same tab. The server renders the tab
// named in the URL already selected; this module only switches between them.

/**
 * Wire the tablist `list`. `onShow(name)` runs when a tab is shown (also for the first one); it may return a
 * promise (a tab that loads its content on first show), which the returned promise waits for on first show.
 */
export function wireTabs(list, onShow) {
  const tabs = [...list.querySelectorAll('[role="tab"]')];
  const panelOf = (tab) => document.getElementById(tab.getAttribute("aria-controls"));

  function select(tab, { focus = false } = {}) {
    for (const other of tabs) {
      const chosen = other === tab;
      other.setAttribute("aria-selected", String(chosen));
      other.tabIndex = chosen ? 0 : -1;
      panelOf(other).hidden = !chosen;
    }
    if (focus) tab.focus();
    const query = new URLSearchParams(window.location.search);
    if (tab.dataset.tab === "overview") query.delete("tab");
    else query.set("tab", tab.dataset.tab);
    if (tab.dataset.tab !== "artifacts") query.delete("file");
    const search = query.toString();
    window.history.replaceState(window.history.state, "", `${window.location.pathname}${search ? `?${search}` : ""}`);
    // Plotly sizes charts to their container; one drawn while hidden must be resized once it can be seen.
    window.dispatchEvent(new Event("resize"));
    return onShow(tab.dataset.tab);
  }

  for (const tab of tabs) {
    tab.addEventListener("click", () => select(tab));
    tab.addEventListener("keydown", (event) => {
      const index = tabs.indexOf(tab);
      const next = {
        ArrowRight: tabs[(index + 1) % tabs.length],
        ArrowLeft: tabs[(index - 1 + tabs.length) % tabs.length],
        Home: tabs[0],
        End: tabs[tabs.length - 1],
      }[event.key];
      if (!next) return;
      event.preventDefault();
      select(next, { focus: true });
    });
  }
  const current = tabs.find((tab) => tab.getAttribute("aria-selected") === "true") ?? tabs[0];
  return Promise.resolve(onShow(current.dataset.tab));
}
