"""The command part of capture: the command line that started the run, its entry point and working directory."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from ridgeline.client.capture.record import TAG_PREFIX, Environment, clip


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


def capture_command(env: Environment) -> None:
    """Record the command; a script's entry point is relative to the repository git found, so run git first."""
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
    env.tags[TAG_PREFIX + "source.command"] = clip(command_line)
    env.tags[TAG_PREFIX + "source.entry_point"] = clip(entry or "<interactive>")
    env.tags[TAG_PREFIX + "source.working_dir"] = clip(cwd)
    env.details["command"] = {"argv": argv, "command": command_line, "entry_point": entry, "working_dir": cwd}
