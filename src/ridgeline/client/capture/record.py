"""What capture produces: the :class:`Environment` record, the tag prefix and the names of its files.

``ridgeline runs reproduce`` reads the tags and files back by these names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ridgeline.domain.validation import MAX_TAG_VALUE_LENGTH

TAG_PREFIX = "ridgeline."
REQUIREMENTS_FILE = "environment/requirements.txt"
DIFF_FILE = "environment/git.diff"
ENVIRONMENT_FILE = "environment/environment.json"
CONSOLE_FILE = "console.log"


@dataclass
class Environment:
    """What capture found: tags for the run, text files for the artifact store, and the details behind both."""

    tags: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def clip(text: str, limit: int = MAX_TAG_VALUE_LENGTH) -> str:
    """A tag value within the tag limit (a huge command line is kept whole in environment.json)."""
    if len(text) <= limit:
        return text
    marker = "… [truncated]"
    return text[: limit - len(marker)] + marker
