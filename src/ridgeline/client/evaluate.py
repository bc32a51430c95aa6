"""``ridgeline.registry.evaluate``'s work in the caller's process: read the evaluation data, score the candidate and
the alias holder with ``ridgeline.load_model``, compute metrics (monitoring/performance.py) and store them through
``ridgeline.Client`` (embedded or over HTTP alike).

A logged dataset can be evaluation data when its content can be read back (services/dataset_files.py); pass a
DataFrame otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ridgeline.domain.errors import InvalidArgument, NotFound
from ridgeline.domain.promotion import EvaluationResult, EvaluationSpec
from ridgeline.domain.registry import ModelVersion, parse_model_uri
from ridgeline.services.dataset_files import read_version

if TYPE_CHECKING:
    import pandas as pd

    from ridgeline.client.reader import Client

DATAFRAME_NAME = "dataframe"


@dataclass(frozen=True)
class EvaluationData:
    frame: pd.DataFrame
    name: str
    digest: str
    version_id: str | None


def evaluate(
    client: Client,
    model_uri: str,
    dataset: Any,
    metrics: list[str] | None,
    *,
    target: str,
    alias: str | None,
    task: str | None,
    dataset_name: str | None,
    tracking_uri: str | None,
) -> EvaluationResult:
    candidate = _registered(client, model_uri)
    data = load_data(client, dataset, dataset_name)
    labels, features = split_target(data.frame, target)
    champion = _holder(client, candidate, alias)
    mine = score(candidate, features, labels, metrics, task, tracking_uri)
    theirs = None if champion is None else score(champion, features, labels, metrics, mine.task, tracking_uri)
    spec = EvaluationSpec(
        version=candidate.version,
        metrics=mine.metrics,
        dataset_name=data.name,
        dataset_digest=data.digest,
        dataset_version_id=data.version_id,
        task=mine.task.value,
        rows=mine.rows,
        alias=alias,
        champion_version=None if champion is None else champion.version,
        champion_metrics=None if theirs is None else theirs.metrics,
    )
    return client.record_model_evaluation(candidate.model_name, spec)


def _registered(client: Client, model_uri: str) -> ModelVersion:
    if not isinstance(model_uri, str) or not model_uri.startswith("models:/"):
        raise InvalidArgument(
            f"evaluate needs a registered version (models:/NAME/VERSION, models:/NAME@ALIAS), got {model_uri!r}: "
            "results are stored on the version",
            field="model_uri",
        )
    if parse_model_uri(model_uri).name is None:
        raise InvalidArgument(f"{model_uri!r} is a logged model; register it to evaluate it", field="model_uri")
    return client.resolve_model(model_uri)


def _holder(client: Client, candidate: ModelVersion, alias: str | None) -> ModelVersion | None:
    """The alias's current holder to compare with, unless there is none or it is the candidate itself."""
    if alias is None:
        return None
    try:
        holder = client.get_model_version_by_alias(candidate.model_name, alias)
    except NotFound:
        return None
    return None if holder.version == candidate.version else holder


def score(
    version: ModelVersion,
    features: pd.DataFrame,
    labels: Any,
    metrics: list[str] | None,
    task: Any,
    tracking_uri: str | None,
) -> Any:
    """The version's performance on the data (a monitoring.performance.Performance)."""
    import ridgeline
    from ridgeline.monitoring.performance import compute

    loaded = ridgeline.load_model(f"models:/{version.model_name}/{version.version}", tracking_uri=tracking_uri)
    predicted = _column(loaded.predict(features))
    return compute(labels, predicted, _scores(loaded, features, labels, predicted), task=task, metrics=metrics)


def _scores(loaded: Any, features: pd.DataFrame, labels: Any, predicted: Any) -> Any:
    """Class probabilities when the framework's model gives them for exactly the classes in play (their columns
    are then in sorted class order, as monitoring/performance.py reads them); else None (no ROC AUC, log loss)."""
    import numpy as np

    model = getattr(loaded, "model", None)
    classes = getattr(model, "classes_", None)
    if model is None or classes is None or not hasattr(model, "predict_proba"):
        return None
    seen = np.unique(np.concatenate([np.asarray(labels), np.asarray(predicted)]))
    if not np.array_equal(np.asarray(classes), seen):
        return None
    return model.predict_proba(features)


def _column(output: Any) -> Any:
    import numpy as np

    values = output.to_numpy() if hasattr(output, "to_numpy") else np.asarray(output)
    return values[:, 0] if values.ndim == 2 and values.shape[1] == 1 else values


def split_target(frame: pd.DataFrame, target: str) -> tuple[Any, pd.DataFrame]:
    if not isinstance(target, str) or target not in frame.columns:
        columns = ", ".join(map(str, frame.columns[:20]))
        raise InvalidArgument(f"the data has no target column {target!r} (columns: {columns})", field="target")
    if len(frame) == 0:
        raise InvalidArgument("the evaluation data has no rows", field="dataset")
    return frame[target].to_numpy(), frame.drop(columns=[target])


def load_data(client: Client, dataset: Any, name: str | None) -> EvaluationData:
    """A DataFrame as it is, or a logged dataset (``name`` or ``name@version``) read from its file."""
    from ridgeline.services.dataset_description import _is_dataframe, describe

    if _is_dataframe(dataset):
        return EvaluationData(dataset, name or DATAFRAME_NAME, describe(dataset).digest, None)
    if not isinstance(dataset, str) or not dataset:
        raise InvalidArgument(
            f"dataset is a pandas DataFrame or a logged dataset's name (name or name@version), "
            f"not {type(dataset).__name__}",
            field="dataset",
        )
    dataset_name, _, version = dataset.partition("@")
    found = client.resolve_dataset_version(dataset_name, version or None)
    return EvaluationData(read_version(found, dataset), found.dataset_name, found.digest, found.id)
