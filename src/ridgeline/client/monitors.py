"""``ridgeline.monitoring``'s functions: define monitors, send predictions and actuals, read reports.

The reference profile is built here, where the data is (a DataFrame, or a logged dataset read back): only its
summary (quantile bins, category counts) travels to the server. When the reference has no ``prediction`` column
the model version itself scores it, so prediction drift has a baseline.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ridgeline.domain.errors import InvalidArgument, NotFound, RidgelineError
from ridgeline.domain.monitors import PREDICTION, Monitor, parse_target
from ridgeline.domain.monitors_wire import monitor_from_json

if TYPE_CHECKING:
    import pandas as pd

    from ridgeline.client.monitoring_transport import MonitoringTransport
    from ridgeline.client.reader import Client

log = logging.getLogger("ridgeline.monitoring")

BATCH_ROWS = 50_000


def _client(tracking_uri: str | None) -> Client:
    from ridgeline.client.reader import Client

    return Client(tracking_uri)


def _transport(client: Client) -> MonitoringTransport:
    return client._backend.monitoring


def create_monitor(
    model: str,
    reference: Any = None,
    *,
    features: Sequence[str] | None = None,
    window: str | int = "1d",
    rules: Sequence[Any] | None = None,
    segment_by: Sequence[str] | None = None,
    task: str | None = None,
    channels: Sequence[Mapping[str, Any]] | None = None,
    name: str | None = None,
    cooldown: str | int = "1h",
    policy: Mapping[str, Any] | None = None,
    quality: Mapping[str, Any] | None = None,
    description: str = "",
    reference_source: str | None = None,
    tracking_uri: str | None = None,
) -> Monitor:
    """Watch ``model`` (``"NAME@ALIAS"``, followed as the alias moves, or ``"NAME/VERSION"``).

    ``reference``: a pandas DataFrame, a logged dataset (``"name"`` or ``"name@version"``), or None for the
    version's training data. ``features``: default, the model signature's inputs found in the reference.
    """
    target = parse_target(model)
    with _client(tracking_uri) as client:
        body: dict[str, Any] = {
            "model": str(target),
            "name": name,
            "features": None if features is None else list(features),
            "window": window,
            "segment_by": list(segment_by or []),
            "task": task,
            "policy": None if policy is None else dict(policy),
            "quality": None if quality is None else dict(quality),
            "rules": list(rules or []),
            "channels": [dict(channel) for channel in channels or []],
            "cooldown": cooldown,
            "description": description,
        }
        built = _reference(client, str(target), reference, body["features"])
        if built is not None:
            body["reference"], body["reference_source"], body["features"] = built
            if reference_source:
                body["reference_source"] = reference_source
        return monitor_from_json(_transport(client).create(body))


def _reference(
    client: Client, target: str, data: Any, features: list[str] | None
) -> tuple[dict[str, Any], str, list[str]] | None:
    """(reference JSON, where it came from, features) built here; None leaves it to the server (the version's
    training data where the server can read it)."""
    from ridgeline.client.evaluate import DATAFRAME_NAME, load_data
    from ridgeline.monitoring.reference import Reference

    version = client.resolve_model(f"models:/{target}")
    if data is None:
        frame, source = _training_frame(client, version.model_name, version.version)
        if frame is None:
            return None
    else:
        loaded = load_data(client, data, None)
        frame = loaded.frame
        source = "a DataFrame" if loaded.name == DATAFRAME_NAME else f"dataset {loaded.name}@{loaded.digest[:12]}"
    chosen = _features(version.signature, frame, features)
    columns = {name: frame[name].to_numpy() for name in chosen}
    if PREDICTION in frame.columns:
        columns[PREDICTION] = frame[PREDICTION].to_numpy()
    else:
        # The model takes all of its inputs, whichever of them are monitored.
        scored = _score(client, version.model_name, version.version, frame.drop(columns=[PREDICTION], errors="ignore"))
        if scored is not None:
            columns[PREDICTION] = scored
    return Reference.build(columns).to_json(), source, chosen


def _training_frame(client: Client, model: str, version: int) -> tuple[pd.DataFrame | None, str]:
    from ridgeline.services.dataset_files import read_version

    lineage = client.get_model_version_lineage(model, version)
    for used in sorted(lineage.inputs, key=lambda item: item.context not in ("training", "train", "")):
        label = f"{used.version.dataset_name}@{used.version.digest[:12]}"
        try:
            return read_version(used.version, label), f"dataset {label} ({used.context or 'input'})"
        except InvalidArgument:
            continue
    return None, ""


def _features(signature: Mapping[str, Any] | None, frame: pd.DataFrame, given: list[str] | None) -> list[str]:
    columns = [str(name) for name in frame.columns]
    if given is not None:
        missing = [name for name in given if name not in columns]
        if missing:
            raise InvalidArgument(f"the reference has no column {missing[0]!r}", field="features")
        return given
    inputs = (signature or {}).get("inputs") or {}
    names = [column["name"] for column in inputs.get("columns", [])] if isinstance(inputs, Mapping) else []
    chosen = [name for name in names if name in columns] or [name for name in columns if name != PREDICTION]
    if not chosen:
        raise InvalidArgument("the reference has no columns to monitor", field="reference")
    return chosen


def _score(client: Client, model: str, version: int, frame: pd.DataFrame) -> Any:
    """The version's predictions on the reference, or None (with a warning) when it cannot be loaded here."""
    from ridgeline.client.models import load_model

    try:
        predictions = load_model(f"models:/{model}/{version}", tracking_uri=_uri(client)).predict(frame)
    except (RidgelineError, ImportError, ValueError, TypeError) as why:
        log.warning(
            "no prediction drift baseline: %s version %s could not score the reference: %s", model, version, why
        )
        return None
    import numpy as np

    values = np.asarray(predictions)
    return values if values.ndim == 1 else None


def _uri(client: Client) -> str | None:
    return getattr(client._backend, "base_url", None) or getattr(client._backend, "uri", None)


def log_predictions(
    model: str,
    inputs: Any,
    outputs: Any,
    ids: Sequence[Any] | None = None,
    timestamps: Any = None,
    *,
    scores: Any = None,
    tags: Mapping[str, Sequence[Any]] | None = None,
    versions: Sequence[int | None] | None = None,
    tracking_uri: str | None = None,
) -> dict[str, int]:
    """Send predictions to every monitor of ``model`` (a monitor's name, or the ``NAME@ALIAS`` / ``NAME/VERSION``
    monitors watch). ``inputs``: a DataFrame, a dict of columns or a list of dicts; ``timestamps``: datetimes or
    epoch milliseconds (default: now). Sent in batches of 50,000 rows."""
    columns = _columns(inputs, "inputs")
    predictions = _list(outputs)
    rows = len(predictions)
    extra = {
        "ids": None if ids is None else [str(value) for value in ids],
        "timestamps": None if timestamps is None else _epoch_ms(timestamps),
        "versions": None if versions is None else list(versions),
        "scores": None if scores is None else _list(scores),
        "tags": None if tags is None else {name: _list(values) for name, values in tags.items()},
    }
    with _client(tracking_uri) as client:
        transport = _transport(client)
        sent = {"rows": 0, "windows": 0}
        for name in _monitors_of(transport, model):
            for start in range(0, max(rows, 1), BATCH_ROWS):
                stop = start + BATCH_ROWS
                body = {
                    "inputs": {key: values[start:stop] for key, values in columns.items()},
                    "predictions": predictions[start:stop],
                    **{key: _cut(value, start, stop) for key, value in extra.items()},
                }
                done = transport.log_predictions(name, body)
                sent["rows"] += done["rows"]
                sent["windows"] += done["windows"]
        return sent


def log_actuals(
    model: str, ids: Sequence[Any], values: Any, timestamps: Any = None, *, tracking_uri: str | None = None
) -> dict[str, int]:
    """The true values of earlier predictions, by their ids; the windows they belong to get their performance."""
    truth = _list(values)
    keys = [str(value) for value in ids]
    stamps = None if timestamps is None else _epoch_ms(timestamps)
    with _client(tracking_uri) as client:
        transport = _transport(client)
        total = {"rows": 0, "matched": 0, "windows": 0}
        for name in _monitors_of(transport, model):
            for start in range(0, max(len(keys), 1), BATCH_ROWS):
                stop = start + BATCH_ROWS
                body = {"ids": keys[start:stop], "values": truth[start:stop], "timestamps": _cut(stamps, start, stop)}
                done = transport.log_actuals(name, body)
                for key in total:
                    total[key] += done[key]
        return total


def report(
    monitor: str,
    start: Any = None,
    end: Any = None,
    segment: str | None = None,
    *,
    period: int | None = None,
    tracking_uri: str | None = None,
) -> pd.DataFrame:
    """One row per window x feature (every statistic, the test, its threshold, the verdict) and one dataset row
    per window (``feature == "*"``: the dataset verdict and performance). ``segment``: None for the whole
    population, ``"country=IT"`` for one segment, ``"country"`` for each of its values."""
    import pandas as pd

    params = {
        "start": None if start is None else _epoch_ms([start])[0],
        "end": None if end is None else _epoch_ms([end])[0],
        "segment": segment,
        "period": period,
    }
    with _client(tracking_uri) as client:
        rows = _transport(client).report(monitor, params)
    frame = pd.DataFrame(rows)
    for column in ("window_start", "window_end"):
        if column in frame:
            frame[column] = pd.to_datetime(frame[column], unit="ms", utc=True)
    return frame


def get_monitor(name: str, *, tracking_uri: str | None = None) -> Monitor:
    with _client(tracking_uri) as client:
        return monitor_from_json(_transport(client).get(name))


def list_monitors(model: str | None = None, *, tracking_uri: str | None = None) -> list[Monitor]:
    with _client(tracking_uri) as client:
        return [monitor_from_json(found) for found in _transport(client).find(model)]


def delete_monitor(name: str, *, tracking_uri: str | None = None) -> None:
    with _client(tracking_uri) as client:
        _transport(client).delete(name)


def alerts(monitor: str, status: str | None = None, limit: int = 200, *, tracking_uri: str | None = None) -> Any:
    """The monitor's alerts, newest first, as a list of dicts."""
    with _client(tracking_uri) as client:
        return _transport(client).alerts(monitor, status, limit)


def evaluate_alerts(monitor: str, *, tracking_uri: str | None = None) -> Any:
    """Run the monitor's alert rules now; returns the alerts raised, re-sent, updated or resolved (dicts)."""
    with _client(tracking_uri) as client:
        return _transport(client).evaluate(monitor)


def _monitors_of(transport: MonitoringTransport, model: str) -> list[str]:
    """A monitor's name as given, else every monitor watching that target."""
    try:
        return [transport.get(model)["name"]]
    except NotFound:
        pass
    try:
        target = str(parse_target(model))
    except InvalidArgument:
        raise NotFound(f"no monitor named {model!r}", field="model") from None
    names = [found["name"] for found in transport.find(target.split("@")[0].split("/")[0]) if found["target"] == target]
    if not names:
        raise NotFound(f"no monitor named or watching {model!r}: create one with create_monitor", field="model")
    return names


def _columns(data: Any, field: str) -> dict[str, list[Any]]:
    if hasattr(data, "columns") and hasattr(data, "to_dict"):
        return {str(name): _list(data[name]) for name in data.columns}
    if isinstance(data, Mapping):
        return {str(name): _list(values) for name, values in data.items()}
    if isinstance(data, list) and all(isinstance(row, Mapping) for row in data):
        names = list(dict.fromkeys(str(key) for row in data for key in row))
        return {name: [row.get(name) for row in data] for name in names}
    if hasattr(data, "ndim") and getattr(data, "ndim", 0) == 2:
        return {str(index): _list(data[:, index]) for index in range(data.shape[1])}
    raise InvalidArgument(
        f"{field} is a DataFrame, a dict of columns, a list of dicts or a 2-D array, not {type(data).__name__}",
        field=field,
    )


def _list(values: Any) -> Any:
    """A column ready to send: a numeric or boolean numpy array as it is (both transports take arrays, and JSON
    encodes their NaN as null), anything else as a list of Python values with NaN as None."""
    import math

    import numpy as np

    if hasattr(values, "to_numpy"):
        values = values.to_numpy()
    if isinstance(values, np.ndarray) and values.ndim == 1 and values.dtype.kind in "biuf":
        return values
    items = values.tolist() if hasattr(values, "tolist") else list(values)
    return [None if isinstance(item, float) and math.isnan(item) else item for item in items]


def _epoch_ms(values: Any) -> list[int]:
    """Epoch milliseconds from numbers (taken as milliseconds), datetimes or ISO 8601 texts."""
    import numpy as np
    import pandas as pd

    items = [values] if isinstance(values, str) else values
    array = np.asarray(items)
    if array.ndim == 1 and array.dtype.kind in "iuf":
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise InvalidArgument("timestamps must be finite epoch milliseconds", field="timestamps")
        return [int(value) for value in array.tolist()]
    try:
        stamps = pd.to_datetime(pd.Series(list(items)), utc=True, format="ISO8601")
    except (ValueError, TypeError) as why:
        first = str(why).splitlines()[0]
        raise InvalidArgument(
            f"timestamps are datetimes, ISO 8601 texts or epoch milliseconds: {first}", field="timestamps"
        ) from None
    # The Series' own resolution (ns, us, ms…) varies with the input; milliseconds are asked for by name.
    return [int(value) for value in stamps.dt.as_unit("ms").astype("int64")]


def _cut(values: list[Any] | dict[str, list[Any]] | None, start: int, stop: int) -> Any:
    if values is None:
        return None
    if isinstance(values, dict):
        return {key: column[start:stop] for key, column in values.items()}
    return values[start:stop]
