"""Environment capture at run start: what code, command, interpreter, packages and machine produced a run.

Each part is switchable (``RIDGELINE_CAPTURE`` or ``start_run(capture=...)``) and none may hurt the run: a part
that fails is reported on the ``ridgeline`` logger and skipped. Short facts become ``ridgeline.*`` tags (shown
by the UI and used by ``ridgeline runs reproduce``); long ones (the package list, the uncommitted diff, the whole
record as JSON) become text files meant for the artifact store.

Everything heavy (psutil, pynvml, subprocesses) is loaded or started only when a run asks for it, so
``import ridgeline`` pays nothing for this module.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import re
import shlex
import socket
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from ridgeline.domain.errors import InvalidArgument
from ridgeline.domain.ids import now_ms
from ridgeline.domain.validation import MAX_TAG_VALUE_LENGTH

log = logging.getLogger("ridgeline")

PARTS = ("git", "command", "python", "packages", "host", "console", "system")
# A resumed run keeps the environment recorded when it was created (its commit and command are what produced
# it); only what belongs to the new process is captured again.
RESUME_PARTS = frozenset({"console", "system"})

TAG_PREFIX = "ridgeline."
REQUIREMENTS_FILE = "environment/requirements.txt"
DIFF_FILE = "environment/git.diff"
ENVIRONMENT_FILE = "environment/environment.json"
CONSOLE_FILE = "console.log"

# git must never hold up a training script: a repository on a slow network share gets this long per command.
GIT_TIMEOUT_S = 5.0
_GIT_ENV = {
    "GIT_TERMINAL_PROMPT": "0",  # never ask for credentials
    "GIT_OPTIONAL_LOCKS": "0",  # `git status` must not take the index lock a concurrent git command needs
    "LC_ALL": "C",
}

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


@dataclass
class Environment:
    """What capture found: tags for the run, text files for the artifact store, and the details behind both."""

    tags: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def _clip(text: str, limit: int = MAX_TAG_VALUE_LENGTH) -> str:
    """A tag value within the tag limit (a huge command line is kept whole in environment.json)."""
    if len(text) <= limit:
        return text
    marker = "… [truncated]"
    return text[: limit - len(marker)] + marker


# git -----------------------------------------------------------------------------------------------------------


def _git(args: list[str], cwd: Path) -> str:
    """Output of one git command (stripped); raises on failure, a missing git or the timeout."""
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        timeout=GIT_TIMEOUT_S,
        env={**os.environ, **_GIT_ENV},
        stdin=subprocess.DEVNULL,
        check=True,
    )
    return result.stdout.decode("utf-8", "replace").strip()


def _git_limited(args: list[str], cwd: Path, limit: int) -> tuple[bytes, bool]:
    """At most ``limit`` bytes of a git command's output, and whether there was more.

    Reads no further than the cap, so a diff of multi-GB tracked data files costs neither memory nor time.
    """
    with subprocess.Popen(
        ["git", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **_GIT_ENV},
    ) as proc:
        assert proc.stdout is not None
        data = proc.stdout.read(limit + 1)
        truncated = len(data) > limit
        if truncated:
            proc.kill()
        else:
            proc.wait(timeout=GIT_TIMEOUT_S)
    return data[:limit], truncated


def strip_credentials(url: str) -> str:
    """A remote URL safe to record: no password, and no user name over http(s), where it is often a token.

    ``https://user:token@host/repo.git`` -> ``https://host/repo.git``; ``ssh://git:pw@host/r`` ->
    ``ssh://git@host/r``; scp-like ``git@host:org/repo.git`` is kept (``git`` is no secret).
    """
    if "://" not in url:
        return url
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    if parts.scheme not in ("http", "https") and parts.username:
        host = f"{parts.username}@{host}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def _source_dir() -> Path:
    """Where the code lives: the main script's folder when there is one, else the working directory."""
    script = sys.argv[0] if sys.argv else ""
    if script and script not in ("-c", "-m") and Path(script).is_file():
        return Path(script).resolve().parent
    return Path.cwd()


def _capture_git(env: Environment, diff_limit: int) -> None:
    cwd = _source_dir()
    try:
        root = _git(["rev-parse", "--show-toplevel"], cwd)
    except subprocess.CalledProcessError:
        env.skipped["git"] = f"{cwd} is not inside a git repository"
        return
    top = Path(root)
    info: dict[str, Any] = {"root": root}
    try:
        info["commit"] = _git(["rev-parse", "--verify", "HEAD"], top)
    except subprocess.CalledProcessError:
        info["commit"] = None  # a repository with no commit yet
    branch = _git(["rev-parse", "--abbrev-ref", "HEAD"], top) if info["commit"] else ""
    info["branch"] = None if branch in ("", "HEAD") else branch  # "HEAD" means detached
    remotes = _git(["remote"], top).split()
    remote_name = "origin" if "origin" in remotes else (remotes[0] if remotes else None)
    info["remote"] = strip_credentials(_git(["remote", "get-url", remote_name], top)) if remote_name else None
    status = _git(["status", "--porcelain", "--untracked-files=all"], top)
    info["dirty"] = bool(status)
    untracked = [line[3:] for line in status.splitlines() if line.startswith("?? ")]
    info["untracked"] = untracked

    tags = env.tags
    tags[TAG_PREFIX + "git.root"] = _clip(root)
    if info["commit"]:
        tags[TAG_PREFIX + "git.commit"] = info["commit"]
    if info["branch"]:
        tags[TAG_PREFIX + "git.branch"] = _clip(info["branch"])
    if info["remote"]:
        tags[TAG_PREFIX + "git.remote"] = _clip(info["remote"])
    tags[TAG_PREFIX + "git.dirty"] = "true" if info["dirty"] else "false"

    if info["dirty"]:
        header = f"# ridgeline: uncommitted changes against {info['commit'] or 'an empty repository'}\n"
        if untracked:
            header += "# untracked files (contents not included):\n"
            header += "".join(f"#   {path}\n" for path in untracked)
        diff = b""
        truncated = False
        if info["commit"]:
            # --binary keeps changed binary files applicable; no colour or external diff tool whatever the config.
            diff, truncated = _git_limited(["diff", "HEAD", "--binary", "--no-color", "--no-ext-diff"], top, diff_limit)
        text = header + diff.decode("utf-8", "replace")
        if truncated:
            text += f"\n# ridgeline: diff truncated at {diff_limit} bytes (RIDGELINE_GIT_DIFF_LIMIT)\n"
            tags[TAG_PREFIX + "git.diff_truncated"] = "true"
        info["diff_truncated"] = truncated
        env.files[DIFF_FILE] = text
    env.details["git"] = info


# command -------------------------------------------------------------------------------------------------------


def _main_module(script: str) -> str | None:
    """The module run with ``python -m NAME``, if that is how the process started.

    Then ``sys.argv[0]`` is the module's file; a script that rewrote ``sys.argv`` is taken at its word.
    """
    main = sys.modules.get("__main__")
    name = getattr(getattr(main, "__spec__", None), "name", None)
    if not name or not script or os.path.abspath(script) != os.path.abspath(getattr(main, "__file__", "") or ""):
        return None
    # `python -m pkg` runs pkg.__main__; the user typed `pkg`.
    return str(name).removesuffix(".__main__")


def _capture_command(env: Environment) -> None:
    argv = list(sys.argv)
    cwd = os.getcwd()
    script = argv[0] if argv else ""
    module = _main_module(script)
    if module:
        entry = module
        command = ["python", "-m", module, *argv[1:]]
    elif script == "-c":
        entry = "-c"
        command = ["python", "-c", "…", *argv[1:]]  # the code itself is not in sys.argv
    elif script.endswith(".py"):
        root = env.details.get("git", {}).get("root")
        path = Path(script).resolve()
        base = Path(root) if root else Path(cwd)
        entry = path.relative_to(base).as_posix() if path.is_relative_to(base) else str(path)
        command = ["python", *argv]
    else:
        # A console script (torchrun, a notebook kernel, an embedded interpreter): the command as it was typed.
        entry = script
        command = argv
    command_line = shlex.join(command)
    env.tags[TAG_PREFIX + "source.command"] = _clip(command_line)
    env.tags[TAG_PREFIX + "source.entry_point"] = _clip(entry or "<interactive>")
    env.tags[TAG_PREFIX + "source.working_dir"] = _clip(cwd)
    env.details["command"] = {"argv": argv, "command": command_line, "entry_point": entry, "working_dir": cwd}


# python and packages -------------------------------------------------------------------------------------------


def _capture_python(env: Environment) -> None:
    version = platform.python_version()
    implementation = platform.python_implementation()
    env.tags[TAG_PREFIX + "python.version"] = version
    env.tags[TAG_PREFIX + "python.implementation"] = implementation
    env.tags[TAG_PREFIX + "python.executable"] = _clip(sys.executable)
    env.details["python"] = {
        "version": version,
        "implementation": implementation,
        "executable": sys.executable,
        "prefix": sys.prefix,
        "virtualenv": sys.prefix != sys.base_prefix,
    }


def _requirement(dist: Any, name: str, version: str) -> str:
    """One line of requirements.txt for an installed distribution, installable where it can be.

    A package installed from a VCS is pinned to its commit; one installed from a local folder (an editable
    install of the project itself, usually) cannot be fetched elsewhere, so it is listed as a comment.
    """
    pinned = f"{name}=={version}"
    direct = dist.read_text("direct_url.json")
    if not direct:
        return pinned
    try:
        origin = json.loads(direct)
    except ValueError:
        return pinned
    url = strip_credentials(str(origin.get("url", "")))
    vcs = origin.get("vcs_info")
    if isinstance(vcs, dict) and vcs.get("commit_id"):
        return f"{name} @ {vcs.get('vcs', 'git')}+{url}@{vcs['commit_id']}"
    if url.startswith("file:"):
        return f"# {pinned} (installed from {url})"
    return f"{name} @ {url}"


def _capture_packages(env: Environment) -> None:
    from importlib.metadata import distributions

    lines: dict[str, str] = {}
    for dist in distributions():
        metadata = dist.metadata  # parsed once: it is most of this part's cost
        name, version = metadata["Name"], metadata["Version"]
        if not name:
            continue  # a broken leftover of an uninstall: metadata without a name
        key = re.sub(r"[-_.]+", "-", name).lower()
        # The first one on sys.path wins, as for imports.
        if key not in lines:
            lines[key] = _requirement(dist, name, version)
    packages = [lines[key] for key in sorted(lines)]
    env.tags[TAG_PREFIX + "python.packages"] = str(len(packages))
    env.files[REQUIREMENTS_FILE] = "".join(f"{line}\n" for line in packages)
    env.details["packages"] = packages


# host ----------------------------------------------------------------------------------------------------------


def _cpu_model() -> str:
    if sys.platform.startswith("linux"):
        try:
            with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
                for line in cpuinfo:
                    # x86 says "model name"; some ARM kernels only "Model" or "Hardware".
                    key, _, value = line.partition(":")
                    if key.strip() in ("model name", "Model", "Hardware") and value.strip():
                        return value.strip()
        except OSError:
            pass
    elif sys.platform == "darwin":
        try:
            return subprocess.run(
                ["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True, text=True, timeout=2, check=True
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    return platform.processor() or platform.machine()


def _total_memory() -> int | None:
    try:
        import psutil

        return int(psutil.virtual_memory().total)
    except ImportError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def gib(size: float) -> str:
    return f"{size / 1024**3:.1f} GiB"


def gpu_inventory() -> list[dict[str, Any]]:
    """The NVIDIA GPUs, through nvidia-ml-py when it is installed; empty when it or a GPU driver is absent."""
    try:
        import pynvml
    except ImportError:
        return []
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        return []  # no driver, or no GPU: a CPU machine, nothing to report
    try:
        driver = _text(pynvml.nvmlSystemGetDriverVersion())
        gpus = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
            gpus.append(
                {"index": index, "name": _text(pynvml.nvmlDeviceGetName(handle)), "memory": int(memory.total)}
                | {"driver": driver}
            )
        return gpus
    finally:
        pynvml.nvmlShutdown()


def _text(value: str | bytes) -> str:
    """nvidia-ml-py returned bytes before version 11.5 and str since."""
    return value.decode() if isinstance(value, bytes) else value


def _capture_host(env: Environment) -> None:
    tags = env.tags
    info: dict[str, Any] = {
        "name": socket.gethostname(),
        "os": platform.platform(),
        "machine": platform.machine(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "memory": _total_memory(),
    }
    tags[TAG_PREFIX + "host.name"] = _clip(info["name"])
    tags[TAG_PREFIX + "host.os"] = _clip(info["os"])
    tags[TAG_PREFIX + "host.cpu"] = _clip(info["cpu"] or "unknown")
    if info["cpu_count"]:
        tags[TAG_PREFIX + "host.cpu_count"] = str(info["cpu_count"])
    if info["memory"]:
        tags[TAG_PREFIX + "host.memory"] = gib(info["memory"])
    try:
        gpus = gpu_inventory()
    except Exception as exc:  # a broken driver must not cost the host facts gathered above
        log.warning("ridgeline: could not list GPUs: %s", exc)
        gpus = []
    info["gpus"] = gpus
    if gpus:
        tags[TAG_PREFIX + "host.gpu_count"] = str(len(gpus))
        tags[TAG_PREFIX + "host.gpus"] = _clip(", ".join(f"{g['name']} ({gib(g['memory'])})" for g in gpus))
        tags[TAG_PREFIX + "host.gpu_driver"] = gpus[0]["driver"]
    env.details["host"] = info


# the whole capture ---------------------------------------------------------------------------------------------

# Order matters: the entry point is recorded relative to the repository that git found.
_CAPTURES: tuple[tuple[str, Callable[[Environment, int], None]], ...] = (
    ("git", _capture_git),
    ("command", lambda env, _: _capture_command(env)),
    ("python", lambda env, _: _capture_python(env)),
    ("packages", lambda env, _: _capture_packages(env)),
    ("host", lambda env, _: _capture_host(env)),
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


# a run's capture, from start to finish --------------------------------------------------------------------------


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
