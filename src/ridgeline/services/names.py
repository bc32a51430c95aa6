"""Readable default run names (``brisk-river-042``), so a table of unnamed runs is still easy to talk about."""

from __future__ import annotations

import secrets

_ADJECTIVES = (
    "amber", "bold", "brisk", "calm", "clever", "crisp", "dapper", "eager", "fancy", "gentle", "glad", "golden",
    "happy", "humble", "jolly", "keen", "lively", "lucid", "merry", "misty", "noble", "polar", "quick", "quiet",
    "rapid", "royal", "rustic", "shy", "silent", "sleek", "snowy", "solar", "steady", "sunny", "swift", "tidy",
    "vivid", "warm", "wild", "witty",
)
_NOUNS = (
    "badger", "brook", "canyon", "cedar", "comet", "crane", "delta", "dune", "falcon", "fern", "fjord", "forest",
    "glacier", "harbor", "heron", "island", "lagoon", "lark", "maple", "meadow", "mesa", "moon", "otter", "pine",
    "plateau", "prairie", "quartz", "raven", "reef", "ridge", "river", "sparrow", "spruce", "summit", "thunder",
    "tundra", "valley", "willow", "wolf", "zephyr",
)


def random_run_name() -> str:
    return f"{secrets.choice(_ADJECTIVES)}-{secrets.choice(_NOUNS)}-{secrets.randbelow(1000):03d}"
