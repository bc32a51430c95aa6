"""The demo's production traffic: two weeks of a served classifier's predictions, drifting in its second week in
one region, with the truth arriving a day late; so the monitor dashboard has a story to show."""

from __future__ import annotations

from typing import Any

MODEL = "wine-classifier"
MONITOR = f"{MODEL}-champion"
DAYS = 14
DRIFT_FROM = 8  # the day the incoming data starts to change
ROWS_PER_DAY = 240
DAY_MS = 86_400_000
RULES = [
    "drift on at least 2 features for 2 consecutive windows",
    "accuracy < 0.85",
    "missing_rate > 0.05 on any feature",
]


def monitor_demo(tracking_uri: str, loaded: tuple[Any, Any, Any, Any]) -> None:
    """A monitor on wine-classifier@champion (reference: its training split), fed day by day, alerts evaluated."""
    import numpy as np
    import pandas as pd

    import ridgeline
    import ridgeline.monitoring as monitoring
    from ridgeline.domain.ids import now_ms

    x_train, x_val, y_train, y_val = loaded
    monitoring.create_monitor(
        f"{MODEL}@champion",
        x_train,
        window="1d",
        segment_by=["region"],
        rules=RULES,
        reference_source="the wine data set's training split",
        tracking_uri=tracking_uri,
    )
    model = ridgeline.load_model(f"models:/{MODEL}@champion", tracking_uri=tracking_uri)
    pool_x = pd.concat([x_train, x_val], ignore_index=True)
    pool_y = np.concatenate([np.asarray(y_train), np.asarray(y_val)])
    generator = np.random.default_rng(7)
    today = now_ms() - now_ms() % DAY_MS
    for day in range(DAYS):
        rows = generator.integers(0, len(pool_x), ROWS_PER_DAY)
        frame = pool_x.iloc[rows].reset_index(drop=True)
        region = generator.choice(["north", "south"], ROWS_PER_DAY)
        if day >= DRIFT_FROM:
            # A new supplier in the south: stronger, more coloured wines than the model was trained on.
            south = region == "south"
            frame.loc[south, "alcohol"] += 1.2 * (day - DRIFT_FROM + 1) / 3
            frame.loc[south, "color_intensity"] *= 1.6
        start = today - (DAYS - day) * DAY_MS
        ids = [f"day{day}-{index}" for index in range(ROWS_PER_DAY)]
        monitoring.log_predictions(
            MONITOR,
            frame,
            model.predict(frame),
            ids=ids,
            timestamps=[start + int(offset) for offset in sorted(generator.integers(0, DAY_MS, ROWS_PER_DAY))],
            tags={"region": region},
            tracking_uri=tracking_uri,
        )
        if day < DAYS - 1:  # the truth of the last day has not arrived yet
            monitoring.log_actuals(MONITOR, ids, pool_y[rows], tracking_uri=tracking_uri)
        monitoring.evaluate_alerts(MONITOR, tracking_uri=tracking_uri)
