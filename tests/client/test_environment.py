"""Environment capture at run start: git state, command, Python, packages, host and console, each switchable,
none able to fail a run. Checked on real runs in a data folder, from a real git repository with a dirty change.

Tags are read back through ``ridgeline.Client`` and the files through ``ridgeline.artifacts``, as a user would.
"""

from __future__ import annotations

import json
import logging
import platform
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import ridgeline
import ridgeline.artifacts
from ridgeline.client.capture.git import strip_credentials
from ridgeline.client.console import ConsoleCapture
from ridgeline.domain.errors import InvalidArgument, NotFound

REMOTE = "https://alice:s3cret-token@git.example.com/team/churn.git"


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with one commit on `main`, a remote with credentials, a modified file and an untracked one."""
    root = tmp_path / "churn"
    (root / "src").mkdir(parents=True)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "user.email", "dev@example.com")
    _git(root, "config", "user.name", "Dev")
    (root / "src" / "train.py").write_text("print('training')\n")
    (root / "README.md").write_text("churn model\n")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "first")
    _git(root, "remote", "add", "origin", REMOTE)
    (root / "README.md").write_text("churn model\nwith a local change\n")
    (root / "notes.txt").write_text("not committed\n")
    return root


@pytest.fixture
def in_script(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The process looks like `cd churn/src && python train.py --lr 0.1`."""
    monkeypatch.chdir(repo / "src")
    monkeypatch.setattr(sys, "argv", ["train.py", "--lr", "0.1", "--name", "two words"])
    return repo


def _tags(home: Path, run_id: str) -> dict[str, str]:
    with ridgeline.Client(str(home)) as client:
        return client.get_run(run_id).tags


def _files(home: Path, run_id: str, tmp_path: Path) -> dict[str, str]:
    """Every artifact of the run, as text."""
    folder = tmp_path / f"artifacts-{run_id}"
    if not folder.exists():
        try:
            ridgeline.artifacts.download(f"runs:/{run_id}", folder, tracking_uri=str(home))
        except NotFound:
            return {}
    return {path.relative_to(folder).as_posix(): path.read_text() for path in folder.rglob("*") if path.is_file()}


def test_git_and_command_of_a_dirty_repository(home: Path, in_script: Path, tmp_path: Path) -> None:
    repo = in_script
    with ridgeline.start_run(project="env", capture="git,command", tracking_uri=str(home)) as run:
        pass
    tags = _tags(home, run.id)
    assert tags["ridgeline.git.commit"] == _git(repo, "rev-parse", "HEAD")
    assert tags["ridgeline.git.branch"] == "main"
    assert tags["ridgeline.git.remote"] == "https://git.example.com/team/churn.git"  # no user, no token
    files = _files(home, run.id, tmp_path)
    assert set(files) == {"environment/git.diff", "environment/environment.json"}
    assert "s3cret" not in json.dumps(tags) + json.dumps(files)
    assert tags["ridgeline.git.dirty"] == "true"
    assert tags["ridgeline.git.root"] == str(repo.resolve())
    assert tags["ridgeline.source.entry_point"] == "src/train.py"  # relative to the repository
    assert tags["ridgeline.source.command"] == "python train.py --lr 0.1 --name 'two words'"
    assert tags["ridgeline.source.working_dir"] == str((repo / "src").resolve())
    assert not any(key.startswith(("ridgeline.python.", "ridgeline.host.")) for key in tags)

    diff = files["environment/git.diff"]
    assert "+with a local change" in diff
    assert "#   notes.txt" in diff  # the untracked file is listed
    # The recorded diff applies to the commit and gives back the working tree.
    clone = repo.parent / "clone"
    _git(repo.parent, "clone", "-q", str(repo), str(clone))
    subprocess.run(["git", "apply"], cwd=clone, input=diff, text=True, check=True)
    assert (clone / "README.md").read_text() == (repo / "README.md").read_text()
    record = json.loads(files["environment/environment.json"])
    assert record["git"]["untracked"] == ["notes.txt"]
    assert record["command"]["argv"] == ["train.py", "--lr", "0.1", "--name", "two words"]
    assert record["parts"] == ["command", "git"]


def test_a_clean_checkout_has_no_diff(home: Path, in_script: Path, tmp_path: Path) -> None:
    _git(in_script, "add", ".")
    _git(in_script, "commit", "-q", "-m", "second")
    with ridgeline.start_run(project="env", capture="git", tracking_uri=str(home)) as run:
        pass
    assert _tags(home, run.id)["ridgeline.git.dirty"] == "false"
    assert set(_files(home, run.id, tmp_path)) == {"environment/environment.json"}


def test_a_large_diff_is_cut_at_the_limit(
    home: Path, in_script: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (in_script / "README.md").write_text("x" * 50_000 + "\n")
    monkeypatch.setenv("RIDGELINE_GIT_DIFF_LIMIT", "2000")
    with ridgeline.start_run(project="env", capture="git", tracking_uri=str(home)) as run:
        pass
    assert _tags(home, run.id)["ridgeline.git.diff_truncated"] == "true"
    diff = _files(home, run.id, tmp_path)["environment/git.diff"]
    assert diff.endswith("# ridgeline: diff truncated at 2000 bytes (RIDGELINE_GIT_DIFF_LIMIT)\n")
    assert len(diff.encode()) < 2000 + 500


def test_outside_a_repository_git_is_skipped_quietly(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    monkeypatch.chdir(plain)
    monkeypatch.setattr(sys, "argv", ["-c"])
    with (
        caplog.at_level(logging.WARNING, logger="ridgeline"),
        ridgeline.start_run(project="env", capture="git,command", tracking_uri=str(home)) as run,
    ):
        pass
    tags = _tags(home, run.id)
    assert not any(key.startswith("ridgeline.git.") for key in tags)
    assert tags["ridgeline.source.command"] == "python -c '…'"  # the code itself is not in sys.argv
    assert tags["ridgeline.source.working_dir"] == str(plain.resolve())
    assert caplog.records == []  # not being in a repository is normal, not a warning
    record = json.loads(_files(home, run.id, tmp_path)["environment/environment.json"])
    assert "not inside a git repository" in record["skipped"]["git"]


def test_git_missing_from_path_is_logged_and_the_run_goes_on(
    home: Path, in_script: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    empty = tmp_path / "no-tools"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with caplog.at_level(logging.WARNING, logger="ridgeline"):
        run = ridgeline.start_run(project="env", capture="git,python", tracking_uri=str(home))
        run.log_metric("loss", 0.5)
        run.finish()
    tags = _tags(home, run.id)
    assert not any(key.startswith("ridgeline.git.") for key in tags)
    assert tags["ridgeline.python.version"] == platform.python_version()
    assert any("environment capture skipped git" in record.getMessage() for record in caplog.records)
    with ridgeline.Client(str(home)) as client:
        assert client.get_run(run.id).status is ridgeline.RunStatus.FINISHED


def test_python_packages_and_host(home: Path, tmp_path: Path) -> None:
    with ridgeline.start_run(project="env", capture="python,packages,host", tracking_uri=str(home)) as run:
        pass
    tags = _tags(home, run.id)
    assert tags["ridgeline.python.version"] == platform.python_version()
    assert tags["ridgeline.python.implementation"] == platform.python_implementation()
    assert tags["ridgeline.python.executable"] == sys.executable
    assert tags["ridgeline.host.name"] == socket.gethostname()
    assert tags["ridgeline.host.os"] == platform.platform()
    assert tags["ridgeline.host.cpu"]
    assert int(tags["ridgeline.host.cpu_count"]) >= 1
    assert tags["ridgeline.host.memory"].endswith(" GiB")
    files = _files(home, run.id, tmp_path)
    requirements = files["environment/requirements.txt"].splitlines()
    assert f"pytest=={pytest.__version__}" in requirements
    assert len(requirements) == int(tags["ridgeline.python.packages"])
    names = [re.sub(r"[-_.]+", "-", line.lstrip("# ").split("==")[0].split(" @ ")[0]).lower() for line in requirements]
    assert names == sorted(names)  # by normalised name, as pip compares them
    # The project itself is an editable install: listed, but as a comment pip skips.
    assert any(line.startswith("# ridgeline==") and "installed from file:" in line for line in requirements)
    host = json.loads(files["environment/environment.json"])["host"]
    assert host["gpus"] == [] or all({"name", "memory", "driver"} <= set(gpu) for gpu in host["gpus"])


def test_module_entry_point(home: Path, tmp_path: Path) -> None:
    """`python -m pkg.job` is recorded as such, in a real process."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "job.py").write_text(
        "import sys, ridgeline\n"
        "with ridgeline.start_run(project='env', capture='command', tracking_uri=sys.argv[1]) as run:\n"
        "    print(run.id)\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "pkg.job", str(home)], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    tags = _tags(home, result.stdout.strip())
    assert tags["ridgeline.source.entry_point"] == "pkg.job"
    assert tags["ridgeline.source.command"] == f"python -m pkg.job {home}"


@pytest.mark.parametrize("choice", ["none", False, "", []])
def test_capture_off(home: Path, in_script: Path, tmp_path: Path, choice: object) -> None:
    with ridgeline.start_run(project="env", capture=choice, tracking_uri=str(home)) as run:  # type: ignore[arg-type]
        print("not captured")
    assert not any(key.startswith("ridgeline.") for key in _tags(home, run.id))
    assert _files(home, run.id, tmp_path) == {}


def test_setting_chooses_parts_and_the_argument_wins(
    home: Path, in_script: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RIDGELINE_CAPTURE", "python, host")
    with ridgeline.start_run(project="env", tracking_uri=str(home)) as by_setting:
        pass
    with ridgeline.start_run(project="env", capture=["command"], tracking_uri=str(home)) as by_argument:
        pass
    prefixes = {key.split(".")[1] for key in _tags(home, by_setting.id) if key.startswith("ridgeline.")}
    assert prefixes == {"python", "host"}
    prefixes = {key.split(".")[1] for key in _tags(home, by_argument.id) if key.startswith("ridgeline.")}
    assert prefixes == {"source"}


def test_unknown_part_is_refused(home: Path) -> None:
    with pytest.raises(InvalidArgument) as caught:
        ridgeline.start_run(project="env", capture="git,gpus", tracking_uri=str(home))
    assert caught.value.field == "capture"
    assert "gpus" in str(caught.value)


def test_console_output_is_kept_and_the_terminal_unchanged(
    home: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    stdout, stderr = sys.stdout, sys.stderr
    with ridgeline.start_run(project="env", capture="console", tracking_uri=str(home)) as run:
        print("epoch 1: loss 0.5")
        print("warning: slow", file=sys.stderr)
        sys.stdout.write("no newline")
        sys.stdout.flush()
    print("after the run")
    assert sys.stdout is stdout and sys.stderr is stderr
    seen = capfd.readouterr()
    assert seen.out == "epoch 1: loss 0.5\nno newlineafter the run\n"
    assert seen.err == "warning: slow\n"
    assert _files(home, run.id, tmp_path) == {"console.log": "epoch 1: loss 0.5\nwarning: slow\nno newline"}


def test_console_log_keeps_the_start_and_the_end_of_a_long_output() -> None:
    capture = ConsoleCapture(head_limit=20, tail_limit=15)
    capture.start()
    try:
        print("first line is kept")
        for number in range(1000):
            print(f"middle {number}")
        print("Traceback: boom")
    finally:
        text = capture.stop()
    head, _, rest = text.partition("\n[ridgeline: ")
    assert head == "first line is kept\nm"
    assert rest.endswith("bytes of console output left out here]\n" + "Traceback: boom\n"[-15:])


def test_resumed_run_keeps_its_recorded_environment(home: Path, in_script: Path, tmp_path: Path) -> None:
    with ridgeline.start_run(project="env", capture="git,command,console", tracking_uri=str(home)) as run:
        pass
    first = _tags(home, run.id)
    _git(in_script, "add", ".")
    _git(in_script, "commit", "-q", "-m", "later")
    with ridgeline.start_run(run_id=run.id, capture="git,command,console", tracking_uri=str(home)):
        print("resumed")
    assert _tags(home, run.id) == first  # still the commit that produced the run
    files = _files(home, run.id, tmp_path)
    assert files["console.log"] == "resumed\n"  # the new process's output
    assert json.loads(files["environment/environment.json"])["parts"] == ["command", "console", "git"]  # from the start


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://user:token@github.com/org/repo.git", "https://github.com/org/repo.git"),
        ("https://ghp_abcdef@github.com/org/repo.git", "https://github.com/org/repo.git"),
        ("http://u:p@[::1]:8080/r.git", "http://[::1]:8080/r.git"),
        ("ssh://git:pw@host.example/r.git", "ssh://git@host.example/r.git"),
        ("ssh://git@host.example/r.git", "ssh://git@host.example/r.git"),
        ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),
        ("/srv/git/repo.git", "/srv/git/repo.git"),
    ],
)
def test_remote_credentials_are_stripped(url: str, safe: str) -> None:
    assert strip_credentials(url) == safe
