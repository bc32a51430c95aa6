"""Model performance from labels and outputs: classification and regression metrics, pure numpy, no I/O.

The validation gate (services/registry_gate.py through ``ridgeline.registry.evaluate``) scores versions with it;
production monitoring scores windows of labelled predictions with the same functions, so a metric means the
same thing everywhere. Values match scikit-learn's implementations (tests/registry/test_performance.py).

Conventions:
- Classification with two classes is binary: the positive class is the larger label (1 of {0, 1}, True, "yes" of
  {"no", "yes"}); precision, recall and F1 are the positive class's. With more classes they are macro averages
  over the labels seen in the truth or the predictions. A class never predicted has precision 0 (never NaN).
- ``scores`` are what the model says per class: for binary, one column (the positive class's probability or
  score) or two (the classes in sorted order, as ``predict_proba`` gives them); for more classes, one column per
  class in sorted label order. ROC AUC needs scores and at least two classes in the truth; log loss needs
  probabilities (values in [0, 1]).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ridgeline.domain.errors import InvalidArgument

Array = NDArray[Any]


class Task(enum.StrEnum):
    CLASSIFICATION = "classification"
    REGRESSION = "regression"


CLASSIFICATION_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss")
REGRESSION_METRICS = ("mae", "rmse", "mape", "r2")
METRICS = {Task.CLASSIFICATION: CLASSIFICATION_METRICS, Task.REGRESSION: REGRESSION_METRICS}
# Error metrics: a smaller value is better (the promotion rules' "beats" reads them the other way round).
LOWER_IS_BETTER = frozenset({"log_loss", "mae", "rmse", "mape"})
# Integer-valued targets with at most this many distinct values are taken for class labels.
MAX_INFERRED_CLASSES = 20


@dataclass(frozen=True)
class Performance:
    task: Task
    metrics: dict[str, float]
    rows: int


def compute(
    y_true: Any,
    y_pred: Any,
    scores: Any = None,
    *,
    task: Task | str | None = None,
    metrics: Sequence[str] | None = None,
) -> Performance:
    """The task's metrics (``metrics``: a subset of them; None: every one the inputs allow)."""
    truth, predicted = _pair(y_true, y_pred)
    chosen_task = infer_task(truth, predicted) if task is None else _task(task)
    wanted = _wanted(chosen_task, metrics)
    if chosen_task is Task.REGRESSION:
        values = regression_metrics(truth, predicted)
    else:
        values = classification_metrics(truth, predicted, scores)
    missing = [name for name in wanted if name not in values]
    if metrics is not None and missing:
        raise InvalidArgument(
            f"cannot compute {', '.join(missing)}: it needs per-class scores or probabilities "
            "(and roc_auc two classes in the labels)",
            field="metrics",
        )
    return Performance(chosen_task, {name: values[name] for name in wanted if name in values}, len(truth))


def infer_task(y_true: Any, y_pred: Any) -> Task:
    """Classification for text, boolean or few integer-valued labels (and integer predictions); else regression."""
    truth, predicted = _pair(y_true, y_pred)
    if truth.dtype.kind in "bOUS" or predicted.dtype.kind in "bOUS":
        return Task.CLASSIFICATION
    if _integral(truth) and _integral(predicted) and len(np.unique(truth)) <= MAX_INFERRED_CLASSES:
        return Task.CLASSIFICATION
    return Task.REGRESSION


def classification_metrics(y_true: Any, y_pred: Any, scores: Any = None) -> dict[str, float]:
    truth, predicted = _pair(y_true, y_pred)
    classes = np.unique(np.concatenate([truth, predicted]))
    results = {"accuracy": float(np.mean(truth == predicted))}
    chosen = classes[-1:] if len(classes) == 2 else classes
    precision, recall, f1 = [], [], []
    for label in chosen:
        true_positive = float(np.sum((predicted == label) & (truth == label)))
        predicted_count = float(np.sum(predicted == label))
        actual_count = float(np.sum(truth == label))
        precision.append(true_positive / predicted_count if predicted_count else 0.0)
        recall.append(true_positive / actual_count if actual_count else 0.0)
        denominator = predicted_count + actual_count
        f1.append(2 * true_positive / denominator if denominator else 0.0)
    results.update(precision=float(np.mean(precision)), recall=float(np.mean(recall)), f1=float(np.mean(f1)))
    if scores is not None:
        results.update(_score_metrics(truth, classes, _scores(scores, len(truth), len(classes))))
    return results


def regression_metrics(y_true: Any, y_pred: Any) -> dict[str, float]:
    truth, predicted = (
        _numeric(values, name) for values, name in zip(_pair(y_true, y_pred), ("y_true", "y_pred"), strict=True)
    )
    error = truth - predicted
    squares = float(np.sum(error**2))
    spread = float(np.sum((truth - truth.mean()) ** 2))
    # A constant truth: scikit-learn's convention (1 when predicted exactly, else 0) rather than ±inf or NaN.
    r2 = 1.0 - squares / spread if spread else (1.0 if squares == 0 else 0.0)
    eps = np.finfo(np.float64).eps
    return {
        "mae": float(np.mean(np.abs(error))),
        "rmse": float(np.sqrt(squares / len(truth))),
        "mape": float(np.mean(np.abs(error) / np.maximum(np.abs(truth), eps))),
        "r2": float(r2),
    }


def _score_metrics(truth: Array, classes: Array, scores: Array) -> dict[str, float]:
    """ROC AUC (one-vs-rest macro for more than two classes) and log loss, where the scores allow them."""
    results: dict[str, float] = {}
    positives = truth[:, None] == classes[None, :] if scores.shape[1] > 1 else (truth == classes[-1])[:, None]
    present = [column for column in range(positives.shape[1]) if 0 < positives[:, column].sum() < len(truth)]
    if len(present) == positives.shape[1]:
        results["roc_auc"] = float(np.mean([_auc(positives[:, c], scores[:, c]) for c in present]))
    if np.all((scores >= 0) & (scores <= 1)):
        eps = np.finfo(np.float64).eps
        clipped = np.clip(scores, eps, 1 - eps)
        if clipped.shape[1] == 1:
            clipped = np.hstack([1 - clipped, clipped])
            positives = np.hstack([~positives, positives])
        # Rows that do not sum to one are normalised, as scikit-learn does.
        clipped = clipped / clipped.sum(axis=1, keepdims=True)
        results["log_loss"] = float(-np.mean(np.log(clipped[positives])))
    return results


def _auc(positive: Array, score: Array) -> float:
    """The area under the ROC curve as the Mann-Whitney statistic (ties count half)."""
    ranks = _average_ranks(score)
    count = int(positive.sum())
    others = len(positive) - count
    return float((ranks[positive].sum() - count * (count + 1) / 2) / (count * others))


def _average_ranks(values: Array) -> Array:
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], len(values)]
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.repeat((starts + ends + 1) / 2, ends - starts)
    return ranks


def _pair(y_true: Any, y_pred: Any) -> tuple[Array, Array]:
    truth, predicted = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if len(truth) != len(predicted):
        raise InvalidArgument(
            f"y_true has {len(truth)} values and y_pred {len(predicted)}: one prediction per label", field="y_pred"
        )
    return truth, predicted


def _labels(values: Any, field: str) -> Array:
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise InvalidArgument(f"{field} must be one value per row (got shape {array.shape})", field=field)
    if len(array) == 0:
        raise InvalidArgument(f"{field} is empty: metrics need at least one row", field=field)
    if array.dtype.kind == "f" and np.isnan(array).any():
        raise InvalidArgument(f"{field} holds NaN at row {int(np.flatnonzero(np.isnan(array))[0])}", field=field)
    return array


def _numeric(values: Array, field: str) -> Array:
    if values.dtype.kind not in "iuf":
        raise InvalidArgument(f"regression metrics need numbers; {field} holds {values.dtype}", field=field)
    return values.astype(np.float64)


def _integral(values: Array) -> bool:
    return values.dtype.kind in "iu" or bool(values.dtype.kind == "f" and np.all(np.mod(values, 1) == 0))


def _scores(scores: Any, rows: int, classes: int) -> Array:
    array = np.asarray(scores, dtype=np.float64)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or len(array) != rows:
        raise InvalidArgument(f"scores must have one row per label ({rows}), got shape {array.shape}", field="scores")
    if array.shape[1] == 2 and classes == 2:
        array = array[:, 1:]
    elif array.shape[1] != classes and not (array.shape[1] == 1 and classes == 2):
        raise InvalidArgument(
            f"scores have {array.shape[1]} columns for {classes} classes: one column per class, in sorted label order",
            field="scores",
        )
    if not np.isfinite(array).all():
        raise InvalidArgument("scores must be finite numbers", field="scores")
    return array


def _task(task: Task | str) -> Task:
    try:
        return Task(task)
    except ValueError:
        raise InvalidArgument(f"task must be classification or regression, got {task!r}", field="task") from None


def _wanted(task: Task, metrics: Sequence[str] | None) -> tuple[str, ...]:
    if metrics is None:
        return METRICS[task]
    if isinstance(metrics, str):
        metrics = [metrics]
    unknown = [name for name in metrics if name not in METRICS[task]]
    if unknown or not metrics:
        raise InvalidArgument(
            f"unknown {task} metric {', '.join(map(repr, unknown))}: choose from {', '.join(METRICS[task])}"
            if unknown
            else "metrics is empty: name at least one, or pass None for all",
            field="metrics",
        )
    return tuple(dict.fromkeys(metrics))
