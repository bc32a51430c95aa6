"""Alert rules and channels of monitors: checked when a monitor is created or changed; evaluated over the recent
report rows after each ingestion pass (or on demand); deduplicated with the monitor's cool-down
(monitoring/rule_eval.py decides); delivered to every channel; and recorded, so the alert list shows what fired,
when, what was sent where, and when it resolved.

An alert is keyed by its rule and segment. The stored alert of a key is its state between evaluations: its
status, the newest window seen firing and when it last notified.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ridgeline.domain.errors import InvalidArgument
from ridgeline.domain.ids import new_id, now_ms
from ridgeline.domain.monitors import Alert, Monitor
from ridgeline.monitoring.rule_eval import Action, AlertState, AlertStatus, Firing, decide
from ridgeline.monitoring.rule_eval import evaluate as fired
from ridgeline.monitoring.rules import Rule, parse_rule
from ridgeline.services.alert_channels import AlertMessage, build_channel, check_destination, iso_time

if TYPE_CHECKING:
    from ridgeline.services.monitoring.service import MonitoringService


def check_rules(rules: list[Any]) -> list[dict[str, Any]]:
    """Rules as text (``"psi > 0.2 on at least 3 features for 2 consecutive windows"``) or their JSON form,
    returned in JSON form."""
    checked = []
    for rule in rules:
        if isinstance(rule, str):
            checked.append(parse_rule(rule).to_json())
        elif isinstance(rule, Mapping):
            checked.append(Rule.from_json(rule).to_json())
        else:
            raise InvalidArgument(f"a rule is a text or an object, not {type(rule).__name__}", field="rules")
    ids = [Rule.from_json(rule).id for rule in checked]
    if len(set(ids)) != len(ids):
        raise InvalidArgument("two rules are the same (or share a name)", field="rules")
    return checked


def check_channels(channels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each channel's configuration, refused with the reason when ``build_channel`` cannot build it or its
    destination is known to be forbidden (checked here, where channels are set, not when stored ones are rebuilt:
    a later, narrower allow-list must not break the monitoring pass)."""
    for channel in channels:
        build_channel(channel)
        check_destination(channel)
    return [dict(channel) for channel in channels]


def _key(rule_id: str, segment: str) -> str:
    return f"{rule_id}::{segment}"


def evaluate(service: MonitoringService, monitor: Monitor) -> list[Alert]:
    """Run the monitor's rules over its latest windows; returns the alerts raised, re-sent, moved to a newer
    window or resolved (an open alert that stays as it was is not returned)."""
    rules = {rule.id: rule for rule in (Rule.from_json(item) for item in monitor.rules)}
    stored = service.store.monitors.latest_alerts(monitor.id)
    open_keys = {key for key, alert in stored.items() if alert.status == "raised"}
    if not rules and not open_keys:
        return []
    firings: dict[str, tuple[Rule, Firing]] = {}
    rows = _recent_rows(service, monitor, max((rule.windows for rule in rules.values()), default=1))
    for each in rules.values():
        for holding in fired(each, rows):
            firings[_key(each.id, holding.segment)] = (each, holding)
    channels = [build_channel(config) for config in monitor.channels]
    now = now_ms()
    changed = []
    for key in sorted(set(firings) | open_keys):
        previous = stored.get(key)
        found = firings.get(key)
        chosen: Rule | None = found[0] if found is not None else None
        firing: Firing | None = found[1] if found is not None else None
        if chosen is None and previous is not None:
            chosen = rules.get(previous.rule_key.rsplit("::", 1)[0])
        if chosen is None:
            # The rule was removed from the monitor: its open alert closes without a message.
            assert previous is not None
            changed.append(_save(service, _closed(previous, now, previous.deliveries)))
            continue
        decision = decide(_state(previous), firing, now, monitor.cooldown_s * 1000)
        if decision.action is Action.NONE:
            continue
        alert = _next(monitor, chosen, key, previous, firing, decision.action, now)
        if decision.notify:
            message = _message(monitor, alert)
            deliveries = [_delivery(channel.send(message), now) for channel in channels]
            alert = _with(alert, notified_at=now, deliveries=[*alert.deliveries, *deliveries][-50:])
        if alert != previous:  # an open alert on the same window, quiet: nothing to store or report
            changed.append(_save(service, alert))
    return changed


def _recent_rows(service: MonitoringService, monitor: Monitor, windows: int) -> list[dict[str, Any]]:
    latest = service.store.monitors.latest_window(monitor.id)
    if latest is None:
        return []
    start = latest - (windows - 1) * monitor.window_ms
    return service.report(monitor.name, start=start, segment="*")


def _state(alert: Alert | None) -> AlertState | None:
    if alert is None:
        return None
    rule_id, _, segment = alert.rule_key.rpartition("::")
    return AlertState(
        rule_id=rule_id,
        segment=segment,
        status=AlertStatus.FIRING if alert.status == "raised" else AlertStatus.RESOLVED,
        last_window=alert.window_start,
        last_notified_at=alert.notified_at if alert.notified_at is not None else alert.raised_at,
    )


def _next(
    monitor: Monitor,
    rule: Rule,
    key: str,
    previous: Alert | None,
    firing: Firing | None,
    action: Action,
    now: int,
) -> Alert:
    if action is Action.RESOLVE:
        assert previous is not None
        return _closed(previous, now, previous.deliveries)
    assert firing is not None
    if action is Action.RAISE or previous is None or previous.status != "raised":
        return Alert(
            id=new_id(),
            monitor_id=monitor.id,
            rule=rule.text,
            rule_key=key,
            segment=firing.segment,
            window_start=firing.window_start,
            status="raised",
            severity=rule.severity,
            message=firing.message,
            values=dict(firing.values),
            raised_at=now,
        )
    # Still firing (re-sent after the cool-down, or kept quiet): the alert shows its newest window.
    newer = firing.window_start >= previous.window_start
    return _with(
        previous,
        window_start=max(firing.window_start, previous.window_start),
        message=firing.message if newer else previous.message,
        values=dict(firing.values) if newer else previous.values,
    )


def _closed(alert: Alert, now: int, deliveries: list[dict[str, Any]]) -> Alert:
    return _with(alert, status="resolved", resolved_at=now, deliveries=deliveries)


def _with(alert: Alert, **changes: Any) -> Alert:
    return replace(alert, **changes)


def _message(monitor: Monitor, alert: Alert) -> AlertMessage:
    return AlertMessage(
        monitor=monitor.name,
        model=str(monitor.target),
        rule=alert.rule,
        severity=alert.severity,
        status=alert.status,
        segment=alert.segment,
        window_start=iso_time(alert.window_start),
        window_end=iso_time(alert.window_start + monitor.window_ms),
        message=alert.message,
        values=alert.values,
    )


def _delivery(result: Any, now: int) -> dict[str, Any]:
    return {"channel": result.channel, "ok": result.ok, "detail": result.detail, "at": now}


def _save(service: MonitoringService, alert: Alert) -> Alert:
    service.store.monitors.save_alert(alert)
    return alert
