"""A data folder holding monitors, filled through the real services (tests/ui/test_monitor_pages.py serves it).

Model ``churn`` has two versions; its alias ``champion`` moves from 1 to 2 between windows, so monitor
``churn-live`` has two periods. Predictions fill six hourly windows ending with the current hour, with drift in
``income`` and ``plan`` for ``country=IT`` from the fourth window on, and actuals for the first three. Monitor
``churn-quiet`` has no events, and a monitor of ``xss-model`` holds markup in every user-supplied string.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ridgeline.config import Settings
from ridgeline.domain.ids import new_id, now_ms
from ridgeline.domain.monitors import Alert
from ridgeline.monitoring.reference import Reference
from ridgeline.services.monitoring.service import MonitoringService
from ridgeline.services.monitoring.spec import MonitorSpec, PredictionBatch
from ridgeline.services.registry import RegistryService, VersionSpec
from ridgeline.store.artifacts.storage import open_storage
from ridgeline.store.metadata import MetadataStore
from ridgeline.store.monitoring_events import MonitoringEvents

HOUR = 3_600_000
WINDOWS = 6
# churn-live's windows end with the current hour (the pages read a live monitor from its recent end); the hostile
# monitor's lie in the past (read from its whole history).
T0 = now_ms() // HOUR * HOUR - WINDOWS * HOUR
PAST = 1_714_521_600_000  # 2024-05-01T00:00Z
DRIFT_FROM = 3  # the first window with drift in country=IT
LABELLED = 3  # windows whose predictions get actuals
ROWS = 400
XSS_MONITOR = '<b>evil</b> "monitor" & co'
XSS_FEATURE = '<script>alert("f")</script>'
XSS_SEGMENT = "team=<img src=y onerror=alert(2)>"
XSS_MESSAGE = "<script>alert(3)</script> drifted"


def _reference(generator: np.random.Generator, rows: int = 5000) -> dict[str, Any]:
    return Reference.build(
        {
            "age": generator.normal(40, 10, rows),
            "income": generator.normal(50_000, 15_000, rows),
            "plan": generator.choice(["basic", "pro", "team"], rows, p=[0.6, 0.3, 0.1]),
            "prediction": generator.integers(0, 2, rows),
        },
        kinds={"prediction": "categorical"},
    ).to_json()


def _window(generator: np.random.Generator, index: int) -> PredictionBatch:
    country = generator.choice(["IT", "FR"], ROWS)
    shifted = (country == "IT") & (index >= DRIFT_FROM)
    income = generator.normal(50_000, 15_000, ROWS) + np.where(shifted, 60_000, 0)
    plan = np.where(shifted, "team", generator.choice(["basic", "pro", "team"], ROWS, p=[0.6, 0.3, 0.1]))
    scores = generator.random(ROWS)
    return PredictionBatch(
        inputs={"age": generator.normal(40, 10, ROWS).tolist(), "income": income.tolist(), "plan": plan.tolist()},
        predictions=(scores > 0.5).astype(int).tolist(),
        scores=scores.tolist(),
        ids=[f"w{index}-{row}" for row in range(ROWS)],
        timestamps=[T0 + index * HOUR + row * 5_000 for row in range(ROWS)],
        tags={"country": country.tolist()},
    )


def _alert(
    monitoring: MonitoringService, monitor: str, segment: str, message: str, window: int, resolved: bool
) -> None:
    monitoring.store.monitors.save_alert(
        Alert(
            id=new_id(),
            monitor_id=monitoring.get(monitor).id,
            rule="dataset drift",
            rule_key=f"dataset drift|{segment}",
            segment=segment,
            window_start=window,
            status="resolved" if resolved else "raised",
            severity="warning",
            message=message,
            raised_at=window + HOUR,
            resolved_at=window + 2 * HOUR if resolved else None,
        )
    )


def seed(home: Path) -> None:
    """The data folder the server then serves (see the module's docstring)."""
    settings = Settings.load(home=home)
    store = MetadataStore(settings.metadata_uri)
    try:
        registry = RegistryService(store)
        monitoring = MonitoringService(store, MonitoringEvents(open_storage(settings.artifacts_location)))
        generator = np.random.default_rng(7)
        registry.create_model("churn")
        for _ in range(2):
            registry.create_version("churn", VersionSpec(source="s3://bucket/churn"))
        registry.set_alias("churn", "champion", 1)
        spec = MonitorSpec(
            model="churn@champion",
            name="churn-live",
            reference=_reference(generator),
            reference_source="dataset churn-train@2024-04",
            window="1h",
            segment_by=["country"],
            task="classification",
            description="Production traffic of the churn champion",
        )
        monitoring.create(spec)
        monitoring.create(MonitorSpec(model="churn/2", name="churn-quiet", reference=_reference(generator)))
        for index in range(WINDOWS):
            if index == 4:
                registry.set_alias("churn", "champion", 2)
            batch = _window(generator, index)
            monitoring.log_predictions("churn-live", batch)
            if index < LABELLED:
                flips = generator.random(ROWS) < 0.2
                truth = np.where(flips, 1 - np.asarray(batch.predictions), batch.predictions).tolist()
                monitoring.log_actuals("churn-live", list(batch.ids or []), truth)
        latest = T0 + (WINDOWS - 1) * HOUR
        _alert(monitoring, "churn-live", "country=IT", "dataset drift in country=IT: 2 of 3 features", latest, False)
        _alert(monitoring, "churn-live", "", "dataset drift: 2 of 3 features", latest - HOUR, True)
        _seed_hostile(registry, monitoring, generator)
    finally:
        store.close()


def _seed_hostile(registry: RegistryService, monitoring: MonitoringService, generator: np.random.Generator) -> None:
    """A monitor whose every user-supplied string is markup (names, features, segment values, messages)."""
    registry.create_model("xss-model")
    registry.create_version("xss-model", VersionSpec(source="s3://bucket/xss"))
    reference = Reference.build({XSS_FEATURE: generator.normal(0, 1, 500), "plan": generator.choice(["a", "b"], 500)})
    monitoring.create(
        MonitorSpec(
            model="xss-model/1",
            name=XSS_MONITOR,
            reference=reference.to_json(),
            reference_source="<i>hand-made</i>",
            window="1h",
            segment_by=["team"],
            description="<em>described</em>",
        )
    )
    batch = PredictionBatch(
        inputs={
            XSS_FEATURE: generator.normal(3, 1, 200).tolist(),
            "plan": generator.choice(["a", "<b>c</b>"], 200).tolist(),
        },
        predictions=[0] * 200,
        timestamps=[PAST + row * 1000 for row in range(200)],
        tags={"team": ["<img src=y onerror=alert(2)>"] * 200},
    )
    monitoring.log_predictions(XSS_MONITOR, batch)
    _alert(monitoring, XSS_MONITOR, XSS_SEGMENT, XSS_MESSAGE, PAST, False)
