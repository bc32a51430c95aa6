"""The docs keep up with the code: every setting and every CLI command is documented."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer.main

from ridgeline.cli.main import app
from ridgeline.config import SETTINGS

ROOT = Path(__file__).resolve().parent.parent


def _commands(group: Any, prefix: str = "ridgeline") -> list[str]:
    names = []
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            names += _commands(command, f"{prefix} {name}")
        else:
            names.append(f"{prefix} {name}")
    return names


def test_every_setting_is_in_the_readme_configuration_table() -> None:
    readme = (ROOT / "README.md").read_text()
    for setting in SETTINGS:
        assert f"`{setting.env}`" in readme, f"{setting.env} is missing from README.md"


def test_every_cli_command_has_a_section_in_docs_cli() -> None:
    cli_doc = (ROOT / "docs" / "cli.md").read_text()
    commands = _commands(typer.main.get_command(app))
    assert "ridgeline runs list" in commands
    for command in commands:
        assert f"## {command}\n" in cli_doc, f"docs/cli.md has no '## {command}' section"


def test_readme_starts_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## Concepts")[0]
    assert "make demo" in quick_start
    assert "make test" in quick_start
