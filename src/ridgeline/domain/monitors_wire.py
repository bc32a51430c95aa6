"""Monitors, periods and alerts as JSON: the REST API's bodies, and what the SDK's two backends agree on."""

from __future__ import annotations

from typing import Any

from ridgeline.domain.monitors import Alert, Monitor, Period, format_duration


def monitor_to_json(monitor: Monitor, periods: list[Period] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": monitor.id,
        "name": monitor.name,
        "model": monitor.model_name,
        "target": str(monitor.target),
        "alias": monitor.alias,
        "version": monitor.version,
        "features": monitor.features,
        "window": format_duration(monitor.window_s),
        "window_s": monitor.window_s,
        "segment_by": monitor.segment_by,
        "task": monitor.task,
        "policy": monitor.policy,
        "quality": monitor.quality,
        "rules": monitor.rules,
        "channels": [_redacted(channel) for channel in monitor.channels],
        "cooldown_s": monitor.cooldown_s,
        "description": monitor.description,
        "created_by": monitor.created_by,
        "created_at": monitor.created_at,
        "updated_at": monitor.updated_at,
    }
    if periods is not None:
        body["periods"] = [period_to_json(period, reference=False) for period in periods]
    return body


def _redacted(channel: dict[str, Any]) -> dict[str, Any]:
    """Secrets (webhook signing keys, SMTP passwords, and Slack webhook URLs, whose path is the credential) are
    written, never read back."""
    shown = {key: ("***" if key in ("secret", "password") and value else value) for key, value in channel.items()}
    if channel.get("type") == "slack" and isinstance(channel.get("url"), str):
        scheme, _, rest = channel["url"].partition("://")
        shown["url"] = f"{scheme}://{rest.split('/', 1)[0]}/***"
    return shown


def monitor_from_json(data: dict[str, Any]) -> Monitor:
    return Monitor(
        id=data["id"],
        name=data["name"],
        model_name=data["model"],
        alias=data["alias"],
        version=data["version"],
        features=data["features"],
        window_s=data["window_s"],
        segment_by=data["segment_by"],
        task=data["task"],
        policy=data["policy"],
        quality=data["quality"],
        rules=data["rules"],
        channels=data["channels"],
        cooldown_s=data["cooldown_s"],
        description=data["description"],
        created_by=data["created_by"],
        created_at=data["created_at"],
        updated_at=data["updated_at"],
    )


def period_to_json(period: Period, *, reference: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "number": period.number,
        "model_version": period.model_version,
        "reference_source": period.reference_source,
        "started_at": period.started_at,
        "features": sorted(period.reference.get("features", {})),
    }
    if reference:
        body["reference"] = period.reference
    return body


def alert_to_json(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "monitor_id": alert.monitor_id,
        "rule": alert.rule,
        "rule_key": alert.rule_key,
        "segment": alert.segment,
        "window_start": alert.window_start,
        "status": alert.status,
        "severity": alert.severity,
        "message": alert.message,
        "values": alert.values,
        "deliveries": alert.deliveries,
        "raised_at": alert.raised_at,
        "notified_at": alert.notified_at,
        "resolved_at": alert.resolved_at,
    }


def alert_from_json(data: dict[str, Any]) -> Alert:
    return Alert(**{key: data[key] for key in Alert.__dataclass_fields__})
