"""The git part of capture: commit, branch, remote, dirtiness and the uncommitted diff of the run's code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ridgeline.client.capture.record import DIFF_FILE, TAG_PREFIX, Environment, clip

# git must never hold up a training script: a repository on a slow network share gets this long per command.
GIT_TIMEOUT_S = 5.0
_GIT_ENV = {
    "GIT_TERMINAL_PROMPT": "0",  # never ask for credentials
    "GIT_OPTIONAL_LOCKS": "0",  # `git status` must not take the index lock a concurrent git command needs
    "LC_ALL": "C",
}


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


def capture_git(env: Environment, diff_limit: int) -> None:
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
    tags[TAG_PREFIX + "git.root"] = clip(root)
    if info["commit"]:
        tags[TAG_PREFIX + "git.commit"] = info["commit"]
    if info["branch"]:
        tags[TAG_PREFIX + "git.branch"] = clip(info["branch"])
    if info["remote"]:
        tags[TAG_PREFIX + "git.remote"] = clip(info["remote"])
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
