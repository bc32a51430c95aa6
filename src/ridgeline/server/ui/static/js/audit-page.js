// The audit log's filters: dates are the reader's days, so the form sends the browser's offset from UTC with them.
const tz = document.getElementById("audit-tz");
const form = document.getElementById("audit-filters");
const offset = (form) => {
  // The offset of the chosen start day (it differs across a daylight-saving change), else of today.
  const since = form.elements.since.value;
  return new Date(since ? `${since}T00:00:00` : Date.now()).getTimezoneOffset();
};
tz.value = String(offset(form));
form.addEventListener("submit", () => {
  tz.value = String(offset(form));
  // Empty fields stay out of the address.
  for (const input of form.querySelectorAll("input[name]")) {
    if (!input.value || (input === tz && !form.elements.since.value && !form.elements.until.value)) input.disabled = true;
  }
});
// Back from the next page, the form is shown as it was left: every field usable again.
window.addEventListener("pageshow", () => {
  for (const input of form.querySelectorAll("input[name]")) input.disabled = false;
});
