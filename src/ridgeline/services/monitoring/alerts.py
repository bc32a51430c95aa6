"""Alert rules and channels of monitors: checked when a monitor is created or changed, evaluated after each
ingestion over the fresh report rows, deduplicated with a cool-down, delivered, and recorded."""

from __future__ import annotations

from typing import Any

from ridgeline.domain.errors import InvalidArgument
from ridgeline.monitoring.rules import Rule, parse_rule


def check_rules(rules: list[Any]) -> list[dict[str, Any]]:
    """Rules as text (``"psi > 0.2 on at least 3 features for 2 consecutive windows"``) or their JSON form,
    returned in JSON form."""
    checked = []
    for rule in rules:
        if isinstance(rule, str):
            checked.append(parse_rule(rule).to_json())
        elif isinstance(rule, dict):
            checked.append(Rule.from_json(rule).to_json())
        else:
            raise InvalidArgument(f"a rule is a text or an object, not {type(rule).__name__}", field="rules")
    return checked


def check_channels(channels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return channels
