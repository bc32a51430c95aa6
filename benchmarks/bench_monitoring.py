"""10. Production monitoring: drift of 25 columns beside Evidently's DataDriftPreset, the drift of a new window
against a stored reference, ingestion of prediction events, and the monitor dashboard.

The data: seeded synthetic tables of 25 columns, 20 numeric (n00..n19: normal, lognormal, exponential, Poisson,
gamma, beta, Student t, a bimodal mixture, uniform integers, …) and 5 categorical (c0..c4: 4, 6, 3, 30 and 2
categories). Six columns drift between the reference and the current table with clear shifts (n00: mean + 0.5 sd,
n01: sd x 2, n02: lognormal mu + 0.4, n03: exponential scale x 1.5, c0: shares move, c1: a new category takes 20%);
the other 19 are drawn from the same distributions on both sides. The tables are written once as .npy columns
(project venv) and read by both sides into pandas DataFrames (float64 columns, object columns of strings) outside
the clock.

Measured:

1. Drift of 25 columns, N reference rows against N current rows, profiling included. Ridgeline:
   ``Reference.build`` + ``WindowProfile.of`` + ``window_drift`` on the DataFrames' columns (``to_numpy()``, as the
   SDK does). Evidently: ``Report([DataDriftPreset()], include_tests=True).run`` on the two DataFrames (as
   ``Dataset.from_pandas`` with the column types named), and its results read (``snapshot.dict()``). Each side runs
   in its own fresh process, started through a small wrapper that reports the process' peak RSS
   (``getrusage(RUSAGE_CHILDREN)``), so the parent's memory is not counted. The columns each flags are compared
   with the six drifted ones.
2. The same at 1,000 rows against 1,000 over several seeds: false alarms among the 19 clean columns, misses among
   the 6 drifted ones (both tools use a p-value test at this size, effect sizes above 1,000 rows).
3. A new window when the reference profile exists: ``window_drift`` for 25 columns given a ``Reference`` and a
   ``WindowProfile`` (median of 200 calls), and ``WindowProfile.of`` of a 100,000-row window (median of 5).
4. Ingestion (Ridgeline only: Evidently has no ingestion): ``ridgeline.monitoring.log_predictions`` of N events (25
   feature columns, a prediction, epoch-ms timestamps within one daily window) in batches of 50,000 into a data
   folder (embedded) and into a real ``ridgeline server`` (REST, SQLite), events/s over all batches; then the time
   from the last batch's return until ``report`` counts every event.
5. The dashboard of a monitor with 90 daily windows x 25 features (2,000 events a day, drift in the last 30 days):
   ``GET /api/v1/monitors/{name}/report``, then ``GET /monitors/{name}`` from a real server on one keep-alive
   connection, the first request of each and the median of the next ones. The report goes first: its first
   request computes each window's statistics (the server keeps them), which the page's first would otherwise pay.
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from _harness import (
    EVIDENTLY,
    HOST,
    WORK_DIR,
    WORKER,
    Context,
    Figures,
    Outcome,
    Params,
    Report,
    Row,
    error_notes,
    ours_python,
    run_side,
    scaled,
    scratch,
)

NAME = "monitoring"
TITLE = "monitoring: drift beside Evidently's DataDriftPreset, ingestion, dashboard"
PEER = EVIDENTLY

SEED = 11
NUMERIC = [f"n{i:02d}" for i in range(20)]
LABELS: dict[str, list[str]] = {
    "c0": ["north", "south", "east", "west"],
    "c1": ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "new"],  # "new" only in the drifted data
    "c2": ["basic", "pro", "team"],
    "c3": [f"city-{k:02d}" for k in range(30)],
    "c4": ["no", "yes"],
}
CATEGORICAL = list(LABELS)
COLUMNS = NUMERIC + CATEGORICAL
DRIFTED = ["n00", "n01", "n02", "n03", "c0", "c1"]
CLEAN = [name for name in COLUMNS if name not in DRIFTED]
SMALL_ROWS = 1_000
BATCH = 50_000
DAY_MS = 86_400_000
DASHBOARD_DAYS = 90
DASHBOARD_DRIFTED_DAYS = 30
MONITOR = "bench-monitor"
MODEL = "bench"

TARGET_SPEEDUP = 50.0
TARGET_MEMORY_RATIO = 2.0
TARGET_DRIFT_MS = 50.0
TARGET_EVENTS_PER_S = 100_000.0
TARGET_CURRENT_S = 5.0
TARGET_PAGE_MS = 500.0

# Runs a command and prints its peak RSS in KiB (as bench_serving does: the wrapper's own is a few MB, the child's
# starts there; a child started straight from a large process would report that process' peak as its own).
_PEAK_RSS = (
    "import resource, subprocess, sys; code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(code)"
)


# --------------------------------------------------------------------------- data (project venv)


def _numeric(rng: Any, index: int, rows: int, drifted: bool) -> Any:
    """Column n{index}; the first four move when ``drifted``."""
    import numpy as np

    draws: list[Callable[[], Any]] = [
        lambda: rng.normal(0.5 if drifted else 0.0, 1.0, rows),
        lambda: rng.normal(10.0, 4.0 if drifted else 2.0, rows),
        lambda: rng.lognormal(0.4 if drifted else 0.0, 1.0, rows),
        lambda: rng.exponential(1.5 if drifted else 1.0, rows),
        lambda: rng.normal(100.0, 15.0, rows),
        lambda: rng.uniform(0.0, 1.0, rows),
        lambda: rng.exponential(3.0, rows),
        lambda: rng.poisson(3.0, rows).astype(np.float64),
        lambda: rng.gamma(2.0, 2.0, rows),
        lambda: rng.beta(2.0, 5.0, rows),
        lambda: rng.standard_t(5.0, rows),
        lambda: np.where(rng.random(rows) < 0.3, rng.normal(-2.0, 0.5, rows), rng.normal(1.0, 1.0, rows)),
        lambda: rng.normal(1000.0, 50.0, rows),
        lambda: rng.lognormal(3.0, 0.5, rows),
        lambda: rng.integers(0, 101, rows).astype(np.float64),
        lambda: rng.normal(0.0, 0.01, rows),
        lambda: rng.chisquare(4.0, rows),
        lambda: rng.laplace(0.0, 2.0, rows),
        lambda: rng.weibull(1.5, rows),
        lambda: rng.normal(-5.0, 3.0, rows),
    ]
    return draws[index]()


def _shares(name: str, drifted: bool) -> list[float]:
    count = len(LABELS[name])
    if name == "c0":
        return [0.2, 0.3, 0.2, 0.3] if drifted else [0.4, 0.3, 0.2, 0.1]
    if name == "c1":
        return [0.8 / 6] * 6 + [0.2] if drifted else [1 / 6] * 6 + [0.0]
    if name == "c2":
        return [0.6, 0.3, 0.1]
    if name == "c3":
        weights = [1 / (k + 1) for k in range(count)]
        return [w / sum(weights) for w in weights]
    return [0.7, 0.3]


def _table(rows: int, seed: int, side: int, drifted: bool) -> dict[str, Any]:
    """One table's columns: floats, and category codes (indexes into LABELS) for the categorical ones."""
    import numpy as np

    columns: dict[str, Any] = {}
    for index, name in enumerate(COLUMNS):
        rng = np.random.default_rng([seed, side, index])
        if name in LABELS:
            columns[name] = rng.choice(len(LABELS[name]), size=rows, p=_shares(name, drifted)).astype(np.int16)
        else:
            columns[name] = _numeric(rng, index, rows, drifted)
    return columns


def _data_dir(workdir: str, rows: int, seed: int) -> Path:
    return Path(workdir) / f"{rows}-{seed}"


def make_data(p: Params) -> Figures:
    """Write each (rows, seed) pair's reference (clean) and current (drifted) tables as one .npy per column."""
    import numpy as np

    written = 0
    for rows, seed in p["sets"]:
        for side, drifted in (("reference", False), ("current", True)):
            folder = _data_dir(p["workdir"], rows, seed) / side
            folder.mkdir(parents=True, exist_ok=True)
            for name, values in _table(rows, seed, int(drifted), drifted).items():
                np.save(folder / f"{name}.npy", values)
                written += values.nbytes
    return {"bytes": written}


# --------------------------------------------------------------------------- both venvs


def _frames(folder: Path) -> tuple[Any, Any]:
    """The reference and current DataFrames: float64 columns and object columns of strings, one block per column
    (no copy, no consolidation), the same in pandas 2 (Evidently's venv) and 3."""
    import numpy as np
    import pandas as pd

    frames = []
    for side in ("reference", "current"):
        columns: dict[str, Any] = {}
        for name in COLUMNS:
            values = np.load(folder / side / f"{name}.npy")
            if name in LABELS:
                values = pd.Series(np.array(LABELS[name], dtype=object)[values], dtype=object, copy=False)
            columns[name] = values
        frames.append(pd.DataFrame(columns, copy=False))
    return frames[0], frames[1]


def _rss_mb() -> tuple[float, float]:
    """(current RSS, peak RSS so far) of this process in MB."""
    import resource

    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _with_peak_rss(func: str, p: Params) -> Figures:
    """Run ``func`` of this module in a fresh interpreter of this venv, under the peak-RSS wrapper."""
    fd, name = tempfile.mkstemp(prefix="monitoring-", suffix=".json", dir=WORK_DIR)
    os.close(fd)
    out = Path(name)
    argv = [sys.executable, "-c", _PEAK_RSS, sys.executable, str(WORKER), __name__, func, str(out)]
    try:
        done = subprocess.run(argv, input=json.dumps(dict(p)), capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{func} failed: {done.stderr[-1500:]}")
        figures: Figures = json.loads(out.read_text())
    finally:
        out.unlink(missing_ok=True)
    figures["peak_rss_mb"] = int(done.stdout.split()[-1]) / 1024
    return figures


# Ridgeline side


def _ours_flags(reference_frame: Any, current_frame: Any) -> tuple[list[str], dict[str, float]]:
    from ridgeline.monitoring.drift import window_drift
    from ridgeline.monitoring.reference import Reference
    from ridgeline.monitoring.window import WindowProfile

    kinds = {name: "categorical" if name in LABELS else "numeric" for name in COLUMNS}
    started = time.perf_counter()
    reference = Reference.build({name: reference_frame[name].to_numpy() for name in COLUMNS}, kinds=kinds)
    built = time.perf_counter()
    window = WindowProfile.of(reference, {name: current_frame[name].to_numpy() for name in COLUMNS})
    profiled = time.perf_counter()
    result = window_drift(reference, window)
    flagged = sorted(feature.feature for feature in result.features if feature.drift)
    finished = time.perf_counter()
    times = {
        "seconds": finished - started,
        "reference_s": built - started,
        "window_s": profiled - built,
        "drift_s": finished - profiled,
    }
    return flagged, times


def ours_drift(p: Params) -> Figures:
    return _with_peak_rss("ours_drift_child", p)


def ours_drift_child(p: Params) -> Figures:
    import ridgeline.monitoring.drift  # noqa: F401  (imports before the clock, as on Evidently's side)

    reference_frame, current_frame = _frames(_data_dir(p["workdir"], p["rows"], p["seed"]))
    loaded_mb, loaded_peak_mb = _rss_mb()
    flagged, times = _ours_flags(reference_frame, current_frame)
    return {"rows": p["rows"], "flagged": flagged, "loaded_mb": loaded_mb, "loaded_peak_mb": loaded_peak_mb, **times}


# Evidently side


def _evidently_flags(reference_frame: Any, current_frame: Any) -> tuple[list[str], dict[str, Any]]:
    from evidently import DataDefinition, Dataset  # type: ignore[import-not-found]
    from evidently import Report as EvidentlyReport
    from evidently.presets import DataDriftPreset  # type: ignore[import-not-found]

    started = time.perf_counter()
    definition = DataDefinition(numerical_columns=NUMERIC, categorical_columns=CATEGORICAL)
    snapshot = EvidentlyReport([DataDriftPreset()], include_tests=True).run(
        current_data=Dataset.from_pandas(current_frame, data_definition=definition),
        reference_data=Dataset.from_pandas(reference_frame, data_definition=definition),
    )
    ran = time.perf_counter()
    result = snapshot.dict()
    # One "drift" test per ValueDrift metric: FAIL when the column drifted (Evidently's own verdict).
    flagged = sorted(
        test["metric_config"]["params"]["column"]
        for test in result["tests"]
        if test["id"] == "drift" and test["status"] == "FAIL"
    )
    counts = [m["value"]["count"] for m in result["metrics"] if m["config"]["type"].endswith("DriftedColumnsCount")]
    counted = counts[0]
    if int(counted) != len(flagged):
        raise RuntimeError(f"Evidently counts {counted} drifted columns but its tests fail on {flagged}")
    methods = sorted({m["config"]["method"] for m in result["metrics"] if "method" in m["config"]})
    finished = time.perf_counter()
    return flagged, {"seconds": finished - started, "run_s": ran - started, "methods": methods}


def evidently_drift(p: Params) -> Figures:
    return _with_peak_rss("evidently_drift_child", p)


def evidently_drift_child(p: Params) -> Figures:
    import evidently.presets  # noqa: F401  (imports before the clock)

    reference_frame, current_frame = _frames(_data_dir(p["workdir"], p["rows"], p["seed"]))
    loaded_mb, loaded_peak_mb = _rss_mb()
    flagged, times = _evidently_flags(reference_frame, current_frame)
    return {"rows": p["rows"], "flagged": flagged, "loaded_mb": loaded_mb, "loaded_peak_mb": loaded_peak_mb, **times}


def _small(p: Params, flags: Callable[[Any, Any], tuple[list[str], Any]]) -> Figures:
    false_alarms: dict[str, int] = dict.fromkeys(CLEAN, 0)
    misses: dict[str, int] = dict.fromkeys(DRIFTED, 0)
    seconds = 0.0
    for seed in p["seeds"]:
        reference_frame, current_frame = _frames(_data_dir(p["workdir"], SMALL_ROWS, seed))
        started = time.perf_counter()
        flagged, _ = flags(reference_frame, current_frame)
        seconds += time.perf_counter() - started
        for name in CLEAN:
            false_alarms[name] += name in flagged
        for name in DRIFTED:
            misses[name] += name not in flagged
    return {
        "seeds": len(p["seeds"]),
        "false_alarms": sum(false_alarms.values()),
        "misses": sum(misses.values()),
        "false_alarms_by_column": {k: v for k, v in false_alarms.items() if v},
        "misses_by_column": {k: v for k, v in misses.items() if v},
        "mean_s": seconds / len(p["seeds"]),
    }


def ours_small(p: Params) -> Figures:
    return _small(p, _ours_flags)


def evidently_small(p: Params) -> Figures:
    return _small(p, _evidently_flags)


# --------------------------------------------------------------------------- Ridgeline only


def ours_window(p: Params) -> Figures:
    """window_drift given a Reference and a WindowProfile; WindowProfile.of of a window of ``rows`` rows."""
    from ridgeline.monitoring.drift import window_drift
    from ridgeline.monitoring.reference import Reference
    from ridgeline.monitoring.window import WindowProfile

    reference_frame, current_frame = _frames(_data_dir(p["workdir"], p["rows"], p["seed"]))
    reference = Reference.build({name: reference_frame[name].to_numpy() for name in COLUMNS})
    current = {name: current_frame[name].to_numpy() for name in COLUMNS}
    profiles = []
    for _ in range(p["profile_repeats"]):
        started = time.perf_counter()
        window = WindowProfile.of(reference, current)
        profiles.append(time.perf_counter() - started)
    for _ in range(10):
        window_drift(reference, window)
    drifts = []
    for _ in range(p["drift_repeats"]):
        started = time.perf_counter()
        result = window_drift(reference, window)
        drifts.append(time.perf_counter() - started)
    # What a report does per window: both profiles decoded from their stored JSON, then the drift.
    stored_reference, stored_window = reference.to_json(), window.to_json()
    decoded = []
    for _ in range(p["drift_repeats"]):
        started = time.perf_counter()
        window_drift(Reference.from_json(stored_reference), WindowProfile.from_json(stored_window))
        decoded.append(time.perf_counter() - started)
    return {
        "rows": p["rows"],
        "features": len(result.features),
        "flagged": sorted(feature.feature for feature in result.features if feature.drift),
        "drift_median_s": statistics.median(drifts),
        "drift_p95_s": sorted(drifts)[int(0.95 * (len(drifts) - 1))],
        "decoded_drift_median_s": statistics.median(decoded),
        "profile_median_s": statistics.median(profiles),
        "profile_samples_s": profiles,
    }


def _setup_monitor(uri: str, window: str) -> None:
    """A registered model (bench/1) and a monitor of it with a 100,000-row reference of the clean tables."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    import ridgeline
    import ridgeline.monitoring as monitoring

    reference = _dataframe(_table(100_000, SEED, 0, drifted=False))
    training = reference.head(2_000)[NUMERIC]
    estimator = LogisticRegression(max_iter=200).fit(training, (training["n00"] > 0).astype(int))
    with ridgeline.start_run(project="bench", tracking_uri=uri) as run:
        run.log_model(estimator, "model", input_example=training.head(5), register_as=MODEL)
    reference["prediction"] = np.asarray(reference["n00"] > 0, dtype=np.int64)
    monitoring.create_monitor(f"{MODEL}/1", reference, features=COLUMNS, window=window, name=MONITOR, tracking_uri=uri)


def _dataframe(columns: dict[str, Any]) -> Any:
    import numpy as np
    import pandas as pd

    data = {
        name: pd.Series(np.array(LABELS[name], dtype=object)[values], dtype=object) if name in LABELS else values
        for name, values in columns.items()
    }
    return pd.DataFrame(data)


def _counted(uri: str) -> int:
    """Events the monitor's report counts (the whole population's dataset rows)."""
    import ridgeline.monitoring as monitoring

    report = monitoring.report(MONITOR, tracking_uri=uri)
    if report.empty:
        return 0
    return int(report[report["feature"] == "*"]["rows"].sum())


def ours_ingest(p: Params) -> Figures:
    import numpy as np

    import ridgeline.monitoring as monitoring

    uri = p.get("url") or p["home"]
    _setup_monitor(uri, "1d")
    events, batch = p["events"], p["batch"]
    day = 1_793_491_200_000  # 2026-11-01T00:00Z: every event in one daily window
    frames, outputs, stamps = [], [], []
    for number, start in enumerate(range(0, events, batch)):
        rows = min(batch, events - start)
        frames.append(_dataframe(_table(rows, SEED + 1 + number, 1, drifted=number % 2 == 1)))
        outputs.append(np.asarray(frames[-1]["n00"] > 0, dtype=np.int64))
        stamps.append((day + (np.arange(start, start + rows) * (DAY_MS // events))).tolist())
    batches = []
    started = time.perf_counter()
    for frame, output, stamp in zip(frames, outputs, stamps, strict=True):
        began = time.perf_counter()
        monitoring.log_predictions(MONITOR, frame, output, timestamps=stamp, tracking_uri=uri)
        batches.append(time.perf_counter() - began)
    logged = time.perf_counter()
    reports = 0
    counted = 0
    while time.perf_counter() - logged < 60:
        reports += 1
        counted = _counted(uri)
        if counted >= events:
            break
        time.sleep(0.05)
    current = time.perf_counter()
    if counted != events:
        raise RuntimeError(f"the report counts {counted:,} events of {events:,}")
    return {
        "events": events,
        "batch": batch,
        "events_per_s": events / (logged - started),
        "batch_median_s": statistics.median(batches),
        "batch_samples_s": batches,
        "current_s": current - logged,
        "reports": reports,
    }


def ours_dashboard_populate(p: Params) -> Figures:
    """A monitor with ``days`` daily windows ending yesterday, ``per_day`` events each, the last 30 drifted."""
    import numpy as np

    import ridgeline.monitoring as monitoring

    uri = p["home"]
    _setup_monitor(uri, "1d")
    days, per_day = p["days"], p["per_day"]
    today = int(time.time() * 1000) // DAY_MS * DAY_MS
    started = time.perf_counter()
    for drifted in (False, True):
        chosen = range(DASHBOARD_DRIFTED_DAYS) if drifted else range(DASHBOARD_DRIFTED_DAYS, days)
        count = len(chosen) * per_day
        frame = _dataframe(_table(count, SEED + 100, 1, drifted=drifted))
        rng = np.random.default_rng([SEED, 100, int(drifted)])
        ago = np.repeat(np.array(list(chosen), dtype=np.int64) + 1, per_day)  # days ago: 1 = yesterday
        stamps = today - ago * DAY_MS + rng.integers(0, DAY_MS, count)
        output = np.asarray(frame["n00"] > 0, dtype=np.int64)
        monitoring.log_predictions(MONITOR, frame, output, timestamps=stamps.tolist(), tracking_uri=uri)
    return {"days": days, "per_day": per_day, "populate_s": time.perf_counter() - started}


def _get(connection: http.client.HTTPConnection, path: str) -> tuple[float, bytes]:
    started = time.perf_counter()
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - started
    if response.status != 200:
        raise RuntimeError(f"GET {path}: {response.status} {body[:500]!r}")
    return elapsed, body


def ours_dashboard(p: Params) -> Figures:
    url = urllib.parse.urlsplit(p["url"])
    connection = http.client.HTTPConnection(url.hostname or HOST, url.port, timeout=120)
    name = urllib.parse.quote(MONITOR, safe="")
    figures: Figures = {}
    # The report first: its first request computes what the page's would (each window's statistics), so the page's
    # first request then shows the page's own first-render cost.
    for key, path in (("report", f"/api/v1/monitors/{name}/report"), ("page", f"/monitors/{name}")):
        first, body = _get(connection, path)
        samples = [_get(connection, path)[0] for _ in range(p["repeats"])]
        figures.update(
            {
                f"{key}_first_s": first,
                f"{key}_median_s": statistics.median(samples),
                f"{key}_samples_s": samples,
                f"{key}_bytes": len(body),
            }
        )
        if key == "report":
            rows = json.loads(body)["rows"]
            windows = {row["window_start"] for row in rows}
            features = {row["feature"] for row in rows} - {"*", "prediction"}
            figures.update(windows=len(windows), features=len(features), report_rows=len(rows))
            if len(windows) != p["days"] or len(features) != len(COLUMNS):
                raise RuntimeError(f"the report has {len(windows)} windows x {len(features)} features")
        elif MONITOR.encode() not in body:
            raise RuntimeError("the dashboard page does not name the monitor")
    connection.close()
    return figures


# --------------------------------------------------------------------------- orchestration


def _same_flags(ours: Outcome, theirs: Outcome) -> tuple[bool | None, list[str]]:
    """Whether ours flagged exactly the drifted columns, and Evidently (when measured) the same; notes."""
    mine, peer = ours.figures.get("flagged"), theirs.figures.get("flagged")
    if mine is None:
        return None, []
    notes = [f"ours flagged {', '.join(mine) or 'none'}"]
    ok = sorted(mine) == sorted(DRIFTED)
    if peer is not None:
        notes.append(f"Evidently flagged {', '.join(peer) or 'none'}")
        ok = ok and sorted(peer) == sorted(mine)
    return ok, notes


def _drift_rows(rows_n: int, ours: Outcome, theirs: Outcome) -> list[Row]:
    same, flag_notes = _same_flags(ours, theirs)
    split = (
        f"ours: reference {ours.get('reference_s') or 0:.2f} s, window {ours.get('window_s') or 0:.2f} s, "
        f"drift {(ours.get('drift_s') or 0) * 1000:.1f} ms"
    )
    methods = theirs.figures.get("methods")
    peer_note = f"Evidently's methods: {', '.join(methods)}" if methods else ""
    loaded = [
        f"{who} {outcome.get('loaded_mb') or 0:,.0f} MB (peak {outcome.get('peak_rss_mb') or 0:,.0f} MB, "
        f"+{(outcome.get('peak_rss_mb') or 0) - (outcome.get('loaded_mb') or 0):,.0f} MB for the work)"
        for who, outcome in (("ours", ours), ("Evidently", theirs))
        if outcome.error is None
    ]
    memory_notes = [f"RSS with the two DataFrames loaded, before the clock: {', '.join(loaded)}"] if loaded else []
    return [
        Row(
            NAME,
            f"drift of 25 columns, {rows_n:,} vs {rows_n:,} rows, profiling included",
            "s",
            ours.get("seconds"),
            theirs.get("seconds"),
            target_ratio=TARGET_SPEEDUP,
            notes=[split, *([peer_note] if peer_note else []), *error_notes(ours=ours, evidently=theirs)],
        ),
        Row(
            NAME,
            "  peak RSS of the process (data, imports and work)",
            "MB",
            ours.get("peak_rss_mb"),
            theirs.get("peak_rss_mb"),
            target_ratio=TARGET_MEMORY_RATIO,
            notes=memory_notes,
        ),
        Row(
            NAME,
            f"  drifted columns flagged (6 drifted, 19 clean; {rows_n:,} rows)",
            "columns",
            None if ours.figures.get("flagged") is None else float(len(ours.figures["flagged"])),
            None if theirs.figures.get("flagged") is None else float(len(theirs.figures["flagged"])),
            target_text="the 6 drifted, as Evidently",
            target_met=same,
            notes=flag_notes,
        ),
    ]


def run(ctx: Context) -> Report:
    sizes = [scaled(1_000_000, 100_000, ctx.quick), scaled(100_000, 10_000, ctx.quick)]
    window_rows = 100_000
    seeds = list(range(SEED, SEED + scaled(20, 5, ctx.quick)))
    events = scaled(1_000_000, 200_000, ctx.quick)
    per_day = scaled(2_000, 500, ctx.quick)
    params: dict[str, Any] = {
        "sizes": sizes,
        "small_rows": SMALL_ROWS,
        "seeds": len(seeds),
        "window_rows": window_rows,
        "events": events,
        "batch": BATCH,
        "dashboard_days": DASHBOARD_DAYS,
        "dashboard_events_per_day": per_day,
    }
    raw: dict[str, Outcome] = {}
    rows: list[Row] = []
    with scratch("monitoring-data") as workdir:
        sets = [[n, SEED] for n in sorted({*sizes, window_rows})] + [[SMALL_ROWS, seed] for seed in seeds]
        ctx.log("  data   bench_monitoring.make_data")
        made = run_side(ours_python(), __name__, "make_data", {"workdir": str(workdir), "sets": sets}, timeout=900)
        raw["data"] = made
        for rows_n in sizes:
            side = {"workdir": str(workdir), "rows": rows_n, "seed": SEED}
            ours = made.then(partial(ctx.ours, __name__, "ours_drift", side, 1800))
            theirs = made.then(partial(ctx.peer, __name__, "evidently_drift", side, 3600, EVIDENTLY))
            raw[f"ours_{rows_n}"], raw[f"evidently_{rows_n}"] = ours, theirs
            rows += _drift_rows(rows_n, ours, theirs)
        small = {"workdir": str(workdir), "seeds": seeds}
        ours_s = made.then(lambda: ctx.ours(__name__, "ours_small", small, timeout=900))
        theirs_s = made.then(lambda: ctx.peer(__name__, "evidently_small", small, timeout=1800, peer=EVIDENTLY))
        raw["ours_small"], raw["evidently_small"] = ours_s, theirs_s
        window = made.then(
            lambda: ctx.ours(
                __name__,
                "ours_window",
                {"workdir": str(workdir), "rows": window_rows, "seed": SEED, "profile_repeats": 5}
                | {"drift_repeats": 200},
            )
        )
        raw["ours_window"] = window
    checks = len(seeds) * len(CLEAN)
    small_notes = [
        f"{label} by column: {outcome.figures.get(key) or 'none'}"
        for label, outcome, key in (
            ("ours false alarms", ours_s, "false_alarms_by_column"),
            ("Evidently false alarms", theirs_s, "false_alarms_by_column"),
            ("ours misses", ours_s, "misses_by_column"),
            ("Evidently misses", theirs_s, "misses_by_column"),
        )
        if outcome.error is None
    ]
    rows += [
        Row(
            NAME,
            f"false alarms, {SMALL_ROWS:,} vs {SMALL_ROWS:,} rows, {len(seeds)} seeds x 19 clean columns ({checks})",
            "alarms",
            ours_s.get("false_alarms"),
            theirs_s.get("false_alarms"),
            target_value=theirs_s.get("false_alarms"),
            notes=[*small_notes, *error_notes(ours=ours_s, evidently=theirs_s)],
        ),
        Row(
            NAME,
            f"  misses, {len(seeds)} seeds x 6 drifted columns ({len(seeds) * len(DRIFTED)})",
            "misses",
            ours_s.get("misses"),
            theirs_s.get("misses"),
        ),
        Row(
            NAME,
            "window_drift of 25 columns, Reference and WindowProfile given (median of 200)",
            "ms",
            window.ms("drift_median_s"),
            None,
            target_value=TARGET_DRIFT_MS,
            notes=[
                f"the same with both profiles decoded from their stored JSON first (as a report does): "
                f"{window.ms('decoded_drift_median_s') or 0:.1f} ms",
                *error_notes(ours=window),
            ],
        ),
        Row(
            NAME,
            f"  WindowProfile.of, a {window_rows:,}-row window of 25 columns (median of 5)",
            "ms",
            window.ms("profile_median_s"),
            None,
        ),
    ]

    with scratch("monitoring-embedded") as home:
        embedded = ctx.ours(
            __name__, "ours_ingest", {"home": str(home), "events": events, "batch": BATCH}, timeout=1800
        )
    with scratch("monitoring-served") as home:
        served = ctx.ours_served(
            home, __name__, "ours_ingest", {"home": str(home), "events": events, "batch": BATCH}, timeout=1800
        )
    raw["ours_ingest_embedded"], raw["ours_ingest_server"] = embedded, served
    for label, outcome in (("embedded (a data folder)", embedded), ("through ridgeline server (REST)", served)):
        median_batch = outcome.get("batch_median_s")
        batch_notes = (
            [f"median batch {median_batch:.2f} s ({BATCH / median_batch:,.0f} events/s)"] if median_batch else []
        )
        rows += [
            Row(
                NAME,
                f"log_predictions {label}, {events:,} events in batches of {BATCH:,}, 25 features",
                "events/s",
                outcome.get("events_per_s"),
                None,
                better="higher",
                target_value=TARGET_EVENTS_PER_S,
                notes=[*batch_notes, *error_notes(ours=outcome)],
            ),
            Row(
                NAME,
                "  from the last batch until report counts every event",
                "s",
                outcome.get("current_s"),
                None,
                target_value=TARGET_CURRENT_S,
            ),
        ]

    with scratch("monitoring-dashboard") as home:
        populated = ctx.ours(
            __name__, "ours_dashboard_populate", {"home": str(home), "days": DASHBOARD_DAYS, "per_day": per_day}
        )
        board = populated.then(
            lambda: ctx.ours_served(
                home, __name__, "ours_dashboard", {"days": DASHBOARD_DAYS, "repeats": scaled(20, 5, ctx.quick)}
            )
        )
    raw["ours_dashboard_populate"], raw["ours_dashboard"] = populated, board
    repeats = scaled(20, 5, ctx.quick)
    for key, label in (("page", "dashboard /monitors/{name}"), ("report", "GET /api/v1/monitors/{name}/report")):
        rows.append(
            Row(
                NAME,
                f"{label}, {DASHBOARD_DAYS} daily windows x 25 features, median of {repeats}",
                "ms",
                board.ms(f"{key}_median_s"),
                None,
                target_value=TARGET_PAGE_MS,
                notes=[
                    f"{key}: first request {board.ms(f'{key}_first_s') or 0:,.0f} ms, "
                    f"{(board.get(f'{key}_bytes') or 0) / 1024:,.0f} KiB",
                    *error_notes(populate=populated, ours=board),
                ],
            )
        )
    return Report(rows, raw, params)
