"""A run's capture from start to finish: which parts to take, the static parts at start, then the console tee
and the system-metrics sampler until the run ends."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from ridgeline.client.capture.command import capture_command
from ridgeline.client.capture.git import capture_git
from ridgeline.client.capture.host import capture_host
from ridgeline.client.capture.python import capture_packages, capture_python
from ridgeline.client.capture.record import CONSOLE_FILE, ENVIRONMENT_FILE, Environment
from ridgeline.domain.errors import InvalidArgument
from ridgeline.domain.ids import now_ms

log = logging.getLogger("ridgeline")

PARTS = ("git", "command", "python", "packages", "host", "console", "system")
# A resumed run keeps the environment recorded when it was created (its commit and command are what produced
# it); only what belongs to the new process is captured again.
RESUME_PARTS = frozenset({"console", "system"})

CaptureChoice = str | Iterable[str] | bool | None


class RunLike(Protocol):
    """What capture needs of a run (``ridgeline.Run`` satisfies it)."""

    id: str

    def set_tags(self, tags: Mapping[str, Any]) -> None: ...

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None: ...

    def log_text(self, text: str, name: str) -> None: ...


def parse_parts(choice: CaptureChoice, setting: str) -> frozenset[str]:
    """The parts to capture: ``choice`` (start_run's argument) when given, else the ``capture`` setting.

    Accepts a comma-separated string or an iterable of part names, ``"none"``/``False`` for nothing and
    ``"all"``/``True`` for everything; an unknown name raises ``InvalidArgument`` (a typo must not silently turn
    capture off).
    """
    if choice is None:
        choice = setting
    if choice is True:
        return frozenset(PARTS)
    if choice is False:
        return frozenset()
    names = choice.split(",") if isinstance(choice, str) else list(choice)
    parts = {str(name).strip().lower() for name in names} - {""}
    if parts == {"none"}:
        return frozenset()
    if parts == {"all"}:
        return frozenset(PARTS)
    unknown = sorted(parts - set(PARTS))
    if unknown:
        raise InvalidArgument(
            f"unknown capture part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}, or none",
            field="capture",
        )
    return frozenset(parts)


# Order matters: the entry point is recorded relative to the repository that git found.
_CAPTURES: tuple[tuple[str, Callable[[Environment, int], None]], ...] = (
    ("git", capture_git),
    ("command", lambda env, _: capture_command(env)),
    ("python", lambda env, _: capture_python(env)),
    ("packages", lambda env, _: capture_packages(env)),
    ("host", lambda env, _: capture_host(env)),
)


def capture_environment(parts: Iterable[str], git_diff_limit: int) -> Environment:
    """Capture the chosen static parts; a part that fails is logged and skipped, never raised."""
    chosen = set(parts)
    env = Environment()
    for name, capture in _CAPTURES:
        if name not in chosen:
            continue
        try:
            capture(env, git_diff_limit)
        except Exception as exc:
            # git missing from PATH, a timeout, an unreadable /proc: the run goes on without this part.
            reason = f"{type(exc).__name__}: {exc}"
            log.warning("ridgeline: environment capture skipped %s (%s)", name, reason)
            env.skipped[name] = reason
    if env.details or env.skipped:
        record = {"captured_at": now_ms(), "parts": sorted(chosen), **env.details, "skipped": env.skipped}
        env.files[ENVIRONMENT_FILE] = json.dumps(record, indent=2, default=str) + "\n"
    return env


class RunCapture:
    """Everything one run captures: the static environment at start, then the console tee and the sampler.

    The environment files are logged as artifacts at start, ``console.log`` at :meth:`stop`; both upload in
    the background like any artifact.
    """

    def __init__(self, run: RunLike, parts: frozenset[str], *, git_diff_limit: int, interval: float) -> None:
        from ridgeline.client.console import ConsoleCapture
        from ridgeline.client.system_metrics import SamplerThread

        self._run = run
        self._console: ConsoleCapture | None = None
        self._sampler: SamplerThread | None = None
        self._stopped = False
        static = capture_environment(parts, git_diff_limit)
        if static.tags:
            run.set_tags(static.tags)
        self._save(static.files)
        if "console" in parts:
            try:
                self._console = ConsoleCapture()
                self._console.start()
            except Exception as exc:
                log.warning("ridgeline: console capture skipped (%s: %s)", type(exc).__name__, exc)
                self._console = None
        if "system" in parts and interval > 0:
            try:
                self._sampler = SamplerThread(
                    lambda values, step: run.log_metrics(values, step=step),
                    interval,
                    first_step=_next_system_step(run),
                    name=f"ridgeline-system-{run.id[:8]}",
                )
            except Exception as exc:  # psutil missing or refused (a locked-down container)
                log.warning("ridgeline: system metrics skipped (%s: %s)", type(exc).__name__, exc)

    def stop(self) -> None:
        """Stop the sampler and the console tee (while the run still takes data) and save console.log."""
        if self._stopped:
            return
        self._stopped = True
        if self._sampler is not None:
            self._sampler.stop()
        if self._console is not None:
            text = self._console.stop()
            if text:
                self._save({CONSOLE_FILE: text})

    def _save(self, files: dict[str, str]) -> None:
        for name, text in files.items():
            try:
                self._run.log_text(text, name)
            except Exception as exc:  # a refused artifact costs its file, never the run
                log.warning("ridgeline: could not save %s: %s", name, exc)


def _next_system_step(run: RunLike) -> int:
    """A resumed run's samples continue after the ones it already has, so no step is logged twice."""
    series = getattr(getattr(run, "_sender", None), "series", {})
    return max((buf.next_step for key, buf in series.items() if key.startswith("system/")), default=0)
