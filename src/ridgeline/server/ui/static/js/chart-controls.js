// The x axis, smoothing and log-scale controls above the run and compare pages' charts, their place in the URL,
// and the redraw they trigger. Names and leniency are those of views/run.py's chart_view, which draws the controls
// on both pages, so links read alike.

const X_MODES = ["step", "wall", "relative"];

/** The view a query asks for, {x, smooth, log}: a hand-edited link with a bad value gets the default. */
export function readChartView(query) {
  const weight = Number(query.get("smooth"));
  return {
    x: X_MODES.includes(query.get("x")) ? query.get("x") : "step",
    smooth: weight >= 0 && weight <= 0.99 ? Math.round(weight * 100) / 100 : 0,
    log: ["1", "true", "on"].includes(query.get("log")),
  };
}

/** Put `view` into `query`, defaults left out so that short links stay short. */
export function writeChartView(query, view) {
  const set = (name, value, isDefault) => (isDefault ? query.delete(name) : query.set(name, value));
  set("x", view.x, view.x === "step");
  set("smooth", String(view.smooth), view.smooth === 0);
  set("log", "1", !view.log);
}

/**
 * Keep `view` in step with the controls of `form`; `onChange(name)` hears which control moved ("x", "smooth" or
 * "log") once `view` holds its value. The slider reports as it is dragged, so the charts follow it.
 */
export function wireChartControls(form, view, onChange) {
  const weight = document.getElementById("smooth-value");
  // The server drew the controls from the same URL; set from the parsed view, they show exactly what is drawn.
  for (const radio of form.elements.x) radio.checked = radio.value === view.x;
  form.elements.smooth.value = String(view.smooth);
  form.elements.log.checked = view.log;
  weight.textContent = view.smooth.toFixed(2);
  form.addEventListener("submit", (event) => event.preventDefault());
  form.addEventListener("input", (event) => {
    view.x = form.elements.x.value;
    view.smooth = Number(form.elements.smooth.value);
    view.log = form.elements.log.checked;
    weight.textContent = view.smooth.toFixed(2);
    onChange(event.target.name);
  });
}

/**
 * `redraw` made safe to call at any rate: one run at a time, and calls that arrive meanwhile fold into one more run
 * at the end. A dragged slider asks faster than a page of charts redraws.
 */
export function coalesced(redraw) {
  let running = null;
  let again = false;
  return async () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await redraw();
      } while (again);
    })();
    try {
      await running;
    } finally {
      running = null;
    }
  };
}
