"""Alerts end to end in the service: rules evaluated over stored windows raise once, stay quiet while they keep
holding (deduplication), re-send after the cool-down, resolve when the data recovers, and every notification
reaches a real webhook receiver, signed."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ridgeline.domain.errors import InvalidArgument
from ridgeline.monitoring.reference import Reference
from ridgeline.services.monitoring.service import MonitoringService
from ridgeline.services.monitoring.spec import MonitorSpec, PredictionBatch
from ridgeline.services.registry import RegistryService, VersionSpec
from ridgeline.store.artifacts.storage import open_storage
from ridgeline.store.metadata import MetadataStore
from ridgeline.store.monitoring_events import MonitoringEvents

HOUR = 3_600_000
T0 = 1_790_000_000_000 - 1_790_000_000_000 % HOUR
SECRET = "s3cret"


@pytest.fixture(autouse=True)
def _loopback_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The receivers here listen on loopback, which outbound requests reach only when the allow-list names it
    (tests/security/test_outbound.py checks the refusal)."""
    monkeypatch.setenv("RIDGELINE_OUTBOUND_ALLOW", "127.0.0.1")


@pytest.fixture
def receiver() -> Iterator[list[dict[str, Any]]]:
    """A webhook endpoint on loopback that keeps every body whose signature checks out."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            stamp = self.headers["X-Ridgeline-Timestamp"]
            signed = hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
            assert hmac.compare_digest(self.headers["X-Ridgeline-Signature"], f"sha256={signed}")
            received.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    received.append({"url": f"http://127.0.0.1:{server.server_port}/hook"})
    yield received
    server.shutdown()
    server.server_close()


@pytest.fixture
def monitoring(store: MetadataStore, tmp_path: Path) -> MonitoringService:
    registry = RegistryService(store)
    registry.create_model("churn")
    registry.create_version("churn", VersionSpec(source="s3://bucket/model"))
    registry.set_alias("churn", "champion", 1)
    return MonitoringService(store, MonitoringEvents(open_storage(str(tmp_path / "artifacts"))))


def _window(monitoring: MonitoringService, name: str, hour: int, shift: float, rows: int = 2000) -> None:
    generator = np.random.default_rng(hour)
    batch = PredictionBatch(
        inputs={
            "age": generator.normal(40 + shift, 10, rows).tolist(),
            "tenure": generator.normal(5, 2, rows).tolist(),
        },
        predictions=generator.integers(0, 2, rows).tolist(),
        ids=[f"h{hour}-{index}" for index in range(rows)],
        timestamps=[T0 + hour * HOUR + index for index in range(rows)],
    )
    monitoring.log_predictions(name, batch)


def _webhook_monitor(
    monitoring: MonitoringService, receiver: list[dict[str, Any]], rule: str, cooldown: str | int
) -> str:
    """A monitor of age and tenure (hourly windows) with ``rule``, alerting the receiver's webhook."""
    url = receiver.pop(0)["url"]
    generator = np.random.default_rng(0)
    reference = Reference.build({"age": generator.normal(40, 10, 5000), "tenure": generator.normal(5, 2, 5000)})
    spec = MonitorSpec(
        model="churn@champion",
        reference=reference.to_json(),
        window="1h",
        rules=[rule],
        channels=[{"type": "webhook", "url": url, "secret": SECRET}],
        cooldown=cooldown,
    )
    return monitoring.create(spec).name


def test_a_rule_raises_once_stays_quiet_renotifies_and_resolves(
    monitoring: MonitoringService, receiver: list[dict[str, Any]]
) -> None:
    name = _webhook_monitor(
        monitoring, receiver, "wasserstein >= 0.1 on at least 1 features for 2 consecutive windows", cooldown=0
    )
    _window(monitoring, name, 0, shift=0)
    _window(monitoring, name, 1, shift=5)
    assert monitoring.evaluate_alerts(name) == []  # one drifting window is not two in a row
    _window(monitoring, name, 2, shift=5)
    [raised] = monitoring.evaluate_alerts(name)
    assert (raised.status, raised.window_start, raised.segment) == ("raised", T0 + 2 * HOUR, "")
    assert "age" in raised.message and raised.deliveries[-1]["ok"] is True
    assert [(body["status"], body["segment"]) for body in receiver] == [("raised", "")]
    assert receiver[0]["model"] == "churn@champion" and receiver[0]["monitor"] == name

    monitoring.evaluate_alerts(name)  # the same window again: deduplicated
    assert len(receiver) == 1
    _window(monitoring, name, 3, shift=5)
    monitoring.evaluate_alerts(name)  # a newer window still firing, cool-down 0: sent again
    assert [body["status"] for body in receiver] == ["raised", "raised"]
    assert receiver[1]["window_start"].startswith("2026")

    _window(monitoring, name, 4, shift=0)
    [resolved] = monitoring.evaluate_alerts(name)
    assert resolved.status == "resolved" and resolved.resolved_at is not None
    assert [body["status"] for body in receiver] == ["raised", "raised", "resolved"]
    assert [alert.status for alert in monitoring.alerts(name)] == ["resolved"]
    monitoring.evaluate_alerts(name)
    assert len(receiver) == 3


def test_the_cool_down_holds_back_a_newer_window(monitoring: MonitoringService, receiver: list[dict[str, Any]]) -> None:
    name = _webhook_monitor(monitoring, receiver, "drift on feature age in whole population", cooldown="1h")
    _window(monitoring, name, 0, shift=5)
    [raised] = monitoring.evaluate_alerts(name)
    _window(monitoring, name, 1, shift=5)
    [moved] = monitoring.evaluate_alerts(name)  # still firing on a newer window, within the hour: not sent
    assert (moved.id, moved.window_start, moved.notified_at) == (raised.id, T0 + HOUR, raised.notified_at)
    assert len(receiver) == 1
    _window(monitoring, name, 2, shift=0)
    [resolved] = monitoring.evaluate_alerts(name)  # resolving is always sent
    assert resolved.status == "resolved" and [body["status"] for body in receiver] == ["raised", "resolved"]


def test_performance_rules_and_failing_channels_are_recorded(monitoring: MonitoringService) -> None:
    generator = np.random.default_rng(1)
    reference = Reference.build({"age": generator.normal(40, 10, 1000)})
    spec = MonitorSpec(
        model="churn@champion",
        reference=reference.to_json(),
        window="1h",
        rules=["accuracy < 0.8"],
        channels=[{"type": "slack", "url": "http://127.0.0.1:9/closed"}],
    )
    name = monitoring.create(spec).name
    batch = PredictionBatch(
        inputs={"age": generator.normal(40, 10, 100).tolist()},
        predictions=[1] * 100,
        ids=[f"r{index}" for index in range(100)],
        timestamps=[T0] * 100,
    )
    monitoring.log_predictions(name, batch)
    assert monitoring.evaluate_alerts(name) == []  # no actuals yet: no accuracy, nothing fires
    monitoring.log_actuals(name, batch.ids or [], [1] * 50 + [0] * 50)
    [alert] = monitoring.evaluate_alerts(name)
    assert alert.status == "raised" and "accuracy" in alert.message
    [delivery] = alert.deliveries
    assert delivery["ok"] is False and "127.0.0.1" in delivery["detail"]


def test_bad_rules_and_channels_are_refused(monitoring: MonitoringService) -> None:
    reference = Reference.build({"age": np.arange(100.0)}).to_json()
    for extra in (
        {"rules": ["psi >> 0.2"]},
        {"rules": ["nonsense > 1"]},
        {"rules": [42]},
        {"rules": ["psi > 0.2", "psi > 0.2"]},
        {"channels": [{"type": "pager"}]},
        {"channels": [{"type": "webhook"}]},
        {"channels": [{"type": "email", "host": "smtp.example.com"}]},
    ):
        with pytest.raises(InvalidArgument):
            monitoring.create(MonitorSpec(model="churn@champion", reference=reference, **extra))
    assert monitoring.find() == []
