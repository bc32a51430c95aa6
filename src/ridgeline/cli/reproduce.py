"""``ridgeline runs reproduce RUN_ID``: the steps that recreate a run, as a shell script on standard output.

Built from what the SDK captured at run start: the ``ridgeline.*`` tags (commit, remote, command, Python) and
the run's environment files (``environment/git.diff``, ``environment/requirements.txt``). Each step says so
plainly when its part was not captured, instead of guessing.
"""

from __future__ import annotations

import json
import posixpath
import shlex

import typer

from ridgeline.cli.common import TrackingOption, user_errors
from ridgeline.client.capture.record import DIFF_FILE, REQUIREMENTS_FILE, TAG_PREFIX
from ridgeline.domain.entities import RunRecord


def _tag(run: RunRecord, name: str) -> str | None:
    return run.tags.get(TAG_PREFIX + name) or None


# Downloaded next to the clone (not into it, which would make it dirty), by the Python that has ridgeline.
DIFF_COPY = "ridgeline-run.diff"
REQUIREMENTS_COPY = "ridgeline-requirements.txt"


def _download(run: RunRecord, path: str, dst: str, tracking_uri: str | None) -> str:
    """The command that fetches one of the run's artifacts to ``dst`` (``ridgeline.artifacts.download``)."""
    uri, target = json.dumps(f"runs:/{run.id}/{path}"), json.dumps(dst)
    code = f"import ridgeline.artifacts as a; a.download({uri}, {target})"
    prefix = f"RIDGELINE_TRACKING_URI={shlex.quote(tracking_uri)} " if tracking_uri else ""
    return f"{prefix}python -c {shlex.quote(code)}"


def _download_steps(run: RunRecord, tracking_uri: str | None) -> list[str]:
    files = []
    if _tag(run, "git.commit") and _tag(run, "git.dirty") == "true":
        files.append((DIFF_FILE, DIFF_COPY))
    if _tag(run, "python.packages"):
        files.append((REQUIREMENTS_FILE, REQUIREMENTS_COPY))
    if not files:
        return []
    lines = ["# 0. The run's environment files, fetched with this Python (it has ridgeline)", 'here="$(pwd)"']
    lines += [_download(run, path, copy, tracking_uri) for path, copy in files]
    return [*lines, ""]


def _code_steps(run: RunRecord, folder: str) -> list[str]:
    commit = _tag(run, "git.commit")
    if commit is None:
        return [
            "# 1. Code: not captured (no ridgeline.git.commit tag: git capture was off, git was missing, or the",
            "#    script was not in a git repository with a commit). Start from the code as it was at the run.",
            f"mkdir {folder} && cd {folder}",
        ]
    remote = _tag(run, "git.remote")
    root = _tag(run, "git.root")
    branch = _tag(run, "git.branch")
    on_branch = f" (branch {branch})" if branch else ""
    if remote:
        lines = [f"# 1. Code: commit {commit}{on_branch} of {remote}", f"git clone {shlex.quote(remote)} {folder}"]
    else:
        host = _tag(run, "host.name") or "the machine that ran it"
        lines = [
            f"# 1. Code: commit {commit}{on_branch}. The repository had no remote: clone it from {root} on {host}.",
            f"git clone {shlex.quote(root or 'PATH/TO/REPOSITORY')} {folder}",
        ]
    lines += [f"cd {folder}", f"git checkout --detach {commit}", ""]
    dirty = _tag(run, "git.dirty")
    if dirty == "true":
        lines.append("# 2. Uncommitted changes the run had (untracked files are listed in the diff, not included)")
        if _tag(run, "git.diff_truncated"):
            lines.append("#    WARNING: the diff was cut at RIDGELINE_GIT_DIFF_LIMIT; it will not apply completely.")
        lines.append(f'git apply "$here/{DIFF_COPY}"')
    elif dirty == "false":
        lines.append("# 2. No uncommitted changes: the commit is the code.")
    else:
        lines.append("# 2. Uncommitted changes: not recorded.")
    return lines


def _environment_steps(run: RunRecord) -> list[str]:
    version = _tag(run, "python.version")
    implementation = _tag(run, "python.implementation")
    if version:
        minor = ".".join(version.split(".")[:2])
        note = "" if implementation in (None, "CPython") else f" ({implementation})"
        lines = [f"# 3. Python {version}{note} in a new virtual environment", f"python{minor} -m venv .venv"]
    else:
        lines = ["# 3. Python version: not captured; any interpreter the code supports", "python3 -m venv .venv"]
    lines.append(". .venv/bin/activate")
    if _tag(run, "python.packages"):
        lines += [
            f"#    with the {_tag(run, 'python.packages')} packages the run had installed",
            f'python -m pip install -r "$here/{REQUIREMENTS_COPY}"',
        ]
    else:
        lines.append("#    Installed packages: not captured; install what the code needs.")
    return lines


def _command_steps(run: RunRecord) -> list[str]:
    command = _tag(run, "source.command")
    if command is None:
        lines = ["# 4. Command: not captured."]
    else:
        root = _tag(run, "git.root")
        workdir = _tag(run, "source.working_dir")
        words = shlex.split(command)
        lines = ["# 4. The command"]
        if root and workdir and posixpath.commonpath([root, workdir]) == root and workdir != root:
            # The clone stands where the repository stood: go to the same folder inside it.
            relative = posixpath.relpath(workdir, root)
            lines.append(f"cd {shlex.quote(relative)}")
            start = workdir
        else:
            start = root or workdir or ""
        # A script given by absolute path inside the repository is found again relative to the clone.
        if root and len(words) > 1 and words[0] == "python" and words[1].startswith(root + "/"):
            words[1] = posixpath.relpath(words[1], start)
        if "-c" in words[:2]:
            lines.append("#    (started with python -c: the code itself was not recorded)")
        lines.append(shlex.join(words))
    if run.params:
        lines.append("#    params the run logged: " + ", ".join(f"{k}={v}" for k, v in sorted(run.params.items())))
    return lines


def reproduce(run_id: str, tracking_uri: str = TrackingOption) -> None:
    """Print the steps that recreate a run: checkout, apply diff, install packages, command with params."""
    import ridgeline

    with user_errors(), ridgeline.Client(tracking_uri) as client:
        run = client.get_run(run_id)
    folder = f"ridgeline-repro-{run.id[:8]}"
    if not any(key.startswith(TAG_PREFIX) for key in run.tags):
        typer.echo(
            f"# Run {run.id} recorded no environment (capture was off: RIDGELINE_CAPTURE=none or capture=False),",
            err=True,
        )
        typer.echo("# so each step below is a placeholder.", err=True)
    captured_on = ", ".join(filter(None, (_tag(run, "host.name"), _tag(run, "host.os"))))
    header = [
        "#!/usr/bin/env bash",
        f"# Recreate run {run.name} ({run.id}), status {run.status.value}"
        + (f", on {captured_on}" if captured_on else ""),
        "set -euo pipefail",
        "",
    ]
    steps = [
        *header,
        *_download_steps(run, tracking_uri),
        *_code_steps(run, folder),
        "",
        *_environment_steps(run),
        "",
        *_command_steps(run),
    ]
    typer.echo("\n".join(steps))
