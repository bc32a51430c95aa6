"""Shared machinery for the benchmarks: peer venv, servers, timing, side runners.

This module is imported both by the orchestrator (project venv) and by the side workers
(project venv for Ridgeline, a peer's own venv for the peer: `benchmarks/.venv-mlflow` for MLflow,
`benchmarks/.venv-evidently` for Evidently), so it uses the standard library only. Benchmark modules import it
as `_harness` (the `benchmarks/` folder is on sys.path).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
WORK_DIR = BENCH_DIR / ".work"
CACHE_DIR = WORK_DIR / "cache"
WORKER = BENCH_DIR / "_worker.py"
HOST = "127.0.0.1"
TIMES = "\u00d7"  # the multiplication sign, for ratios

# Keep both sides quiet and offline: no telemetry, no git probing, no colour codes in logs.
QUIET_ENV = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "GIT_PYTHON_REFRESH": "quiet",
    "PYTHONWARNINGS": "ignore",
    "NO_COLOR": "1",
}

Params = Mapping[str, Any]
Figures = dict[str, Any]


# --------------------------------------------------------------------------- environments


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


@dataclass(frozen=True)
class Peer:
    """A package measured beside Ridgeline, installed with pip into its own venv under benchmarks/."""

    name: str  # as printed: "MLflow"
    dist: str  # the distribution whose version identifies it: "mlflow"
    venv: Path
    requirements: tuple[str, ...]

    @property
    def python(self) -> Path:
        return venv_python(self.venv)


MLFLOW = Peer("MLflow", "mlflow", BENCH_DIR / ".venv-mlflow", ("mlflow>=3,<4",))
# Evidently 0.7 needs pandas < 3.
EVIDENTLY = Peer("Evidently", "evidently", BENCH_DIR / ".venv-evidently", ("evidently>=0.7,<0.8", "pandas<3"))
PEER_VENV = MLFLOW.venv
PEER_REQUIREMENT = MLFLOW.requirements[0]


def ours_python() -> Path:
    """The interpreter running the orchestrator: the project venv."""
    return Path(sys.executable)


def ours_cli() -> Path:
    return ours_python().parent / "ridgeline"


def peer_cli() -> Path:
    return PEER_VENV / "bin" / "mlflow"


def side_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "RIDGELINE_"))}
    env.pop("PYTHONPATH", None)
    env.update(QUIET_ENV)
    if extra:
        env.update(extra)
    return env


def ensure_peer_venv(upgrade: bool = False, log: Callable[[str], None] = print, peer: Peer = MLFLOW) -> str:
    """Create the peer's venv (`benchmarks/.venv-mlflow`: the latest MLflow 3.x) with `python3.11 -m venv` and
    pip-install its requirements on first use; return the installed version."""
    py = peer.python
    if not py.exists():
        base = shutil.which("python3.11") or sys.executable
        log(f"creating {peer.venv.relative_to(ROOT)} with {base}")
        subprocess.run([base, "-m", "venv", str(peer.venv)], check=True)
        upgrade = True
    if upgrade or peer_version(peer) is None:
        log(f"installing {' '.join(peer.requirements)} into {peer.venv.relative_to(ROOT)} (pip)")
        pip = [str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "--upgrade", "pip"], check=True)
        subprocess.run([*pip, "--upgrade", *peer.requirements], check=True)
    version = peer_version(peer)
    if version is None:
        raise RuntimeError(f"{peer.name} is not importable in {peer.venv}")
    return version


def installed_version(python: Path, dist: str) -> str | None:
    """A distribution's version as seen by `python`, without importing the package itself."""
    code = f"import importlib.metadata as m; print(m.version({dist!r}))"
    proc = subprocess.run([str(python), "-c", code], capture_output=True, text=True, env=side_env())
    if proc.returncode != 0:
        return None
    return proc.stdout.strip() or None


def peer_version(peer: Peer = MLFLOW) -> str | None:
    return installed_version(peer.python, peer.dist) if peer.python.exists() else None


def machine_info() -> dict[str, Any]:
    model = platform.processor() or "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_gib = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gib = round(int(line.split()[1]) / 1024**2, 1)
    return {
        "loadavg_1m": load_average(),
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": mem_gib,
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def load_average() -> float | None:
    """The 1-minute load average: other work on the machine skews every figure."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


# --------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def http_status(url: str, timeout: float = 2.0) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


def _tail(path: Path, chars: int = 2000) -> str:
    try:
        return path.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


class Server:
    """A server subprocess on 127.0.0.1 in its own process group; always stop it (context manager)."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str | Path],
        health_url: str,
        cwd: Path,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.argv = [str(a) for a in argv]
        self.health_url = health_url
        self.cwd = cwd
        self.env = side_env(env)
        self.log_path = cwd / f"{name}.log"
        self.base_url = health_url.rsplit("/", 1)[0]
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90.0) -> float:
        """Start the process and wait until the health URL answers 200; return seconds taken."""
        self.cwd.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = t0 + timeout
        while time.perf_counter() < deadline:
            if http_status(self.health_url, timeout=1.0) == 200:
                return time.perf_counter() - t0
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.proc.returncode} before it was healthy:\n" + _tail(self.log_path)
                )
            time.sleep(0.01)
        self.stop()
        raise TimeoutError(f"{self.name} not healthy after {timeout:.0f}s:\n{_tail(self.log_path)}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        pgid = proc.pid  # start_new_session=True: the group id is our child's pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            proc.wait(timeout=10)
        # workers left behind in the group (uvicorn/gunicorn children) go too
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)

    def __enter__(self) -> Server:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def ours_server(home: Path, port: int, cwd: Path) -> Server:
    return Server(
        "ridgeline-server",
        [ours_cli(), "server", "--host", HOST, "--port", str(port), "--home", home],
        f"http://{HOST}:{port}/healthz",
        cwd,
    )


def peer_server(db: Path, port: int, cwd: Path) -> Server:
    return Server(
        "mlflow-server",
        [
            peer_cli(),
            "server",
            "--backend-store-uri",
            f"sqlite:///{db}",
            "--artifacts-destination",
            cwd / "mlartifacts",
            "--host",
            HOST,
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        f"http://{HOST}:{port}/health",
        cwd,
    )


@contextlib.contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    """A temporary folder under benchmarks/.work, removed afterwards."""
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=f"{prefix}-", dir=WORK_DIR))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# --------------------------------------------------------------------------- timing


def median(xs: Sequence[float]) -> float:
    return float(statistics.median(xs))


def percentile(xs: Sequence[float], q: float) -> float:
    ordered = sorted(xs)
    idx = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return float(ordered[idx])


def time_loop(call: Callable[[int], object], n: int, batch: int) -> Figures:
    """Call `call(i)` for i in range(n), timing batches of `batch` calls; per-call figures in µs."""
    per_call_us: list[float] = []
    i = 0
    t_start = time.perf_counter_ns()
    while i < n:
        end = min(n, i + batch)
        t0 = time.perf_counter_ns()
        for j in range(i, end):
            call(j)
        per_call_us.append((time.perf_counter_ns() - t0) / (end - i) / 1000)
        i = end
    total_s = (time.perf_counter_ns() - t_start) / 1e9
    return {
        "calls": n,
        "batch": batch,
        "median_us": median(per_call_us),
        "p95_us": percentile(per_call_us, 95),
        "max_us": max(per_call_us),
        "mean_us": total_s / n * 1e6,
        "loop_s": total_s,
    }


def repeat(
    fn: Callable[[], object],
    repeats: int,
    budget_s: float | None = None,
    warmup: int = 0,
) -> Figures:
    """Time `fn()` `repeats` times (at least once; stop early once `budget_s` is spent)."""
    for _ in range(warmup):
        fn()
    samples: list[float] = []
    spent = 0.0
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
        spent += samples[-1]
        if budget_s is not None and spent >= budget_s:
            break
    return {"median_s": median(samples), "min_s": min(samples), "repeats": len(samples), "samples_s": samples}


# --------------------------------------------------------------------------- shared side helpers
# These run inside a worker; they receive the package's objects and import nothing at module level.

SERIES_KEY = "loss"
MLFLOW_BATCH = 1000  # MLflow's limit of metrics per log_batch call


def log_series_ours(run: Any, n: int, key: str = SERIES_KEY) -> None:
    """Log steps 0..n-1 of one metric with Ridgeline's `run.log_metric`."""
    log = run.log_metric
    for i in range(n):
        log(key, float(i), step=i)


def log_series_mlflow(client: Any, run_id: str, n: int, key: str = SERIES_KEY) -> None:
    """Log steps 0..n-1 of one metric with MLflow's `MlflowClient.log_batch`, 1000 points per call."""
    from mlflow.entities import Metric

    ts = int(time.time() * 1000)
    for start in range(0, n, MLFLOW_BATCH):
        batch = [Metric(key, float(i), ts, i) for i in range(start, min(n, start + MLFLOW_BATCH))]
        client.log_batch(run_id, metrics=batch)


def check_len(value: Any, expected: int, what: str) -> int:
    got = len(value)
    if got != expected:
        raise AssertionError(f"{what}: expected {expected:,} items, got {got:,}")
    return got


# --------------------------------------------------------------------------- side runners


@dataclass
class Outcome:
    """What one side (ours or MLflow) produced: figures, or the error that stopped it."""

    figures: Figures = field(default_factory=dict)
    error: str | None = None
    cached: bool = False

    def get(self, key: str) -> float | None:
        value = self.figures.get(key)
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

    def ms(self, key: str = "median_s") -> float | None:
        """A figure in seconds, as milliseconds."""
        value = self.get(key)
        return None if value is None else value * 1000

    def then(self, step: Callable[[], Outcome]) -> Outcome:
        """Run the next step only if this one (a populate step, say) succeeded."""
        if self.error is not None:
            skipped = self.error.startswith("skipped")
            return Outcome(error=self.error if skipped else f"setup failed: {self.error}")
        return step()


def run_side(
    python: Path,
    module: str,
    func: str,
    params: Params,
    timeout: float,
    env: Mapping[str, str] | None = None,
) -> Outcome:
    """Run `module.func(params)` (a benchmark module's side function) in a fresh `python`.

    The function returns a JSON-able dict of figures; the worker writes it to a file so
    library chatter on stdout cannot corrupt it.
    """
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    fd, out_name = tempfile.mkstemp(prefix="side-", suffix=".json", dir=WORK_DIR)
    os.close(fd)
    out = Path(out_name)
    argv = [str(python), str(WORKER), module, func, str(out)]
    try:
        proc = subprocess.run(
            argv,
            input=json.dumps(dict(params)),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=side_env(env),
            cwd=WORK_DIR,
        )
        if proc.returncode != 0:
            return Outcome(error=(proc.stderr or proc.stdout).strip()[-1500:] or f"exit {proc.returncode}")
        return Outcome(figures=json.loads(out.read_text()))
    except subprocess.TimeoutExpired:
        return Outcome(error=f"{module}.{func} timed out after {timeout:.0f}s")
    except (OSError, ValueError) as exc:
        return Outcome(error=f"{module}.{func}: {exc}")
    finally:
        out.unlink(missing_ok=True)


def _peer_cache_path() -> Path:
    return WORK_DIR / "peer-cache.json"


def _peer_cache_key(module: str, func: str, params: Params, peer: Peer = MLFLOW) -> str:
    blob = json.dumps([peer_version(peer), module, func, dict(params)], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def _portable(params: Params) -> dict[str, Any]:
    """Params minus per-invocation values (ports, temp paths) for the cache key."""
    return {k: v for k, v in params.items() if k not in {"url", "db", "home", "workdir"}}


@dataclass
class Context:
    """What a benchmark needs from the orchestrator."""

    quick: bool
    reuse_peer: bool = False
    skip_ours: bool = False
    skip_peer: bool = False
    log: Callable[[str], None] = print
    versions: dict[str, str | None] = field(default_factory=dict)  # peer dist -> installed version (None: no venv)

    def ensure(self, peer: Peer) -> str | None:
        """The peer's installed version, its venv created on first use; None (logged) when that fails."""
        if peer.dist not in self.versions:
            try:
                self.versions[peer.dist] = ensure_peer_venv(log=self.log, peer=peer)
            except Exception as exc:
                self.log(f"{peer.name} venv unavailable ({exc}); measuring Ridgeline only")
                self.versions[peer.dist] = None
        return self.versions[peer.dist]

    def ours(self, module: str, func: str, params: Params, timeout: float = 600) -> Outcome:
        if self.skip_ours:
            return Outcome(error="skipped (--skip-ours)")
        self.log(f"  ours   {module}.{func}")
        outcome = run_side(ours_python(), module, func, params, timeout)
        self._report(outcome)
        return outcome

    def peer(self, module: str, func: str, params: Params, timeout: float = 900, peer: Peer = MLFLOW) -> Outcome:
        """Run a peer's side function in the peer's venv (optionally reusing an earlier result)."""
        if self.skip_peer:
            return Outcome(error="skipped (--skip-mlflow)")
        if self.ensure(peer) is None:
            return Outcome(error=f"skipped ({peer.name} venv unavailable)")
        key = _peer_cache_key(module, func, _portable(params), peer)
        cache = load_json(_peer_cache_path())
        if self.reuse_peer and key in cache:
            self.log(f"  {peer.dist} {module}.{func} (reused from an earlier run)")
            return Outcome(figures=cache[key], cached=True)
        self.log(f"  {peer.dist} {module}.{func}")
        outcome = run_side(peer.python, module, func, params, timeout)
        self._report(outcome)
        if outcome.error is None:
            cache[key] = outcome.figures
            save_json(_peer_cache_path(), cache)
        return outcome

    def wants_ours(self) -> bool:
        return not self.skip_ours

    def wants_peer(self, module: str, func: str, params: Params, peer: Peer = MLFLOW) -> bool:
        """False when the peer is skipped or its result will come from the cache (no server needed)."""
        if self.skip_peer:
            return False
        key = _peer_cache_key(module, func, _portable(params), peer)
        return not (self.reuse_peer and key in load_json(_peer_cache_path()))

    def ours_served(self, home: Path, module: str, func: str, params: Params, timeout: float = 600) -> Outcome:
        """Start `ridgeline server` on `home`, run an ours side function with `url` added, stop it."""
        if self.skip_ours:
            return Outcome(error="skipped (--skip-ours)")
        with scratch("ours-server") as cwd:
            try:
                with ours_server(home, free_port(), cwd) as server:
                    return self.ours(module, func, {**params, "url": server.base_url}, timeout)
            except (RuntimeError, OSError) as exc:
                self.log(f"    failed: {str(exc).splitlines()[0]}")
                return Outcome(error=f"ridgeline server: {exc}")

    def peer_served(self, db: Path | None, module: str, func: str, params: Params, timeout: float = 900) -> Outcome:
        """Start `mlflow server` on sqlite `db` (a fresh one when None), run a side function, stop it."""
        if not self.wants_peer(module, func, params):
            return self.peer(module, func, params, timeout)  # skipped or cached: no server needed
        with scratch("mlflow-server") as cwd:
            served_db = cwd / "mlflow.db"
            if db is not None:
                shutil.copyfile(db, served_db)  # the server may touch it; the cached original stays clean
            try:
                with peer_server(served_db, free_port(), cwd) as server:
                    return self.peer(module, func, {**params, "url": server.base_url}, timeout)
            except (RuntimeError, OSError) as exc:
                self.log(f"    failed: {str(exc).splitlines()[0]}")
                return Outcome(error=f"mlflow server: {exc}")

    def peer_fixture(self, name: str, module: str, func: str, params: Params, timeout: float = 1800) -> Outcome:
        """Build an MLflow sqlite db with a side function, once per MLflow version and params.

        Populating MLflow is slow and is not what we measure, so the db is kept under
        `.work/cache/`; the side function gets its path as `db`. The outcome's figures (for
        instance a run id) are kept beside it, and `figures["db"]` is the cached path.
        """
        if self.skip_peer:
            return Outcome(error="skipped (--skip-mlflow)")
        key = _peer_cache_key(module, func, _portable(params))
        db = CACHE_DIR / f"{name}-{key}.db"
        meta = db.with_suffix(".json")
        if db.exists() and meta.exists():
            self.log(f"  mlflow {module}.{func} (cached {db.relative_to(ROOT)})")
            return Outcome(figures={**load_json(meta), "db": str(db)}, cached=True)
        building = db.with_suffix(".building")
        building.unlink(missing_ok=True)
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        self.log(f"  mlflow {module}.{func} (building {db.relative_to(ROOT)}; cached for later runs)")
        outcome = run_side(venv_python(PEER_VENV), module, func, {**params, "db": str(building)}, timeout)
        self._report(outcome)
        if outcome.error is not None:
            building.unlink(missing_ok=True)
            return outcome
        building.replace(db)
        save_json(meta, outcome.figures)
        outcome.figures["db"] = str(db)
        return outcome

    def _report(self, outcome: Outcome) -> None:
        if outcome.error:
            first = outcome.error.strip().splitlines()[-1] if outcome.error.strip() else "error"
            self.log(f"    failed: {first}")


def load_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_json(path: Path, data: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
    tmp.replace(path)


# --------------------------------------------------------------------------- result rows


@dataclass
class Row:
    """One line of the results table.

    `better` says which direction wins; `ratio` is always "times better for us" (>1 = we win).
    `target_value` is an absolute bound on ours (≤ for lower-is-better, ≥ for higher-is-better);
    `target_ratio` a bound on the ratio. A target that is not a bound on a number (the same columns found as
    the peer, say) is checked by the benchmark itself: `target_text` says what it is, `target_met` whether
    ours meets it (None: not measured); `met` is then `target_met` alone.
    """

    benchmark: str
    label: str
    unit: str
    ours: float | None
    theirs: float | None
    better: str = "lower"
    target_value: float | None = None
    target_ratio: float | None = None
    ours_label: str = ""
    theirs_label: str = ""
    notes: list[str] = field(default_factory=list)
    target_text: str = ""
    target_met: bool | None = None

    @property
    def ratio(self) -> float | None:
        if self.ours is None or self.theirs is None or self.ours <= 0 or self.theirs <= 0:
            return None
        return self.theirs / self.ours if self.better == "lower" else self.ours / self.theirs

    @property
    def target(self) -> str:
        parts = []
        if self.target_value is not None:
            sign = "≤" if self.better == "lower" else "≥"
            parts.append(f"{sign} {self.target_value:,g} {self.unit}")
        if self.target_ratio is not None:
            parts.append(f"≥ {self.target_ratio:,g}{TIMES}")
        if self.target_text:
            parts.append(self.target_text)
        return ", ".join(parts)

    @property
    def met(self) -> bool | None:
        if self.target_text:
            return self.target_met
        if self.target_value is None and self.target_ratio is None:
            return None
        if self.ours is None:
            return None  # not measured (skipped or failed: see the notes)
        ok = True
        if self.target_value is not None:
            ok &= self.ours <= self.target_value if self.better == "lower" else self.ours >= self.target_value
        if self.target_ratio is not None:
            ok &= self.ratio is not None and self.ratio >= self.target_ratio
        return ok

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(ratio=self.ratio, target=self.target, met=self.met)
        return data


def fmt_number(x: float | None) -> str:
    if x is None:
        return "—"
    ax = abs(x)
    if ax >= 100_000:
        return f"{x:,.0f}"
    if ax >= 100:
        return f"{x:.0f}"
    if ax >= 10:
        return f"{x:.1f}"
    if ax >= 1:
        return f"{x:.2f}"
    return f"{x:.3g}"


def error_notes(**outcomes: Outcome) -> list[str]:
    """One short note per failed side, for the table and the JSON."""
    notes = []
    for who, outcome in outcomes.items():
        if outcome.error:
            last = outcome.error.strip().splitlines()[-1] if outcome.error.strip() else "error"
            notes.append(f"{who}: {last[:200]}")
        if outcome.cached:
            notes.append(f"{who}: reused earlier result")
    return notes


def scaled(n_full: int, n_quick: int, quick: bool) -> int:
    return n_quick if quick else n_full


@dataclass
class Report:
    """A benchmark's table rows plus the raw figures of every side it ran."""

    rows: list[Row]
    raw: dict[str, Outcome]
    params: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "params": self.params,
            "rows": [row.to_json() for row in self.rows],
            "raw": {k: asdict(v) for k, v in self.raw.items()},
        }
