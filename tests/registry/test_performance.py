"""monitoring/performance.py against scikit-learn's implementations on random data, and its refusals."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as sk

from ridgeline.domain.errors import InvalidArgument
from ridgeline.monitoring.performance import (
    Task,
    classification_metrics,
    compute,
    infer_task,
    regression_metrics,
)


def _probabilities(rng: np.random.Generator, rows: int, classes: int) -> np.ndarray:
    raw = rng.random((rows, classes))
    return raw / raw.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("seed", range(5))
def test_binary_classification_matches_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, 300)
    proba = _probabilities(rng, 300, 2)
    # Ties in the scores: ROC AUC counts them half, as scikit-learn does.
    proba[:30] = 0.5
    predicted = (proba[:, 1] > 0.5).astype(int)
    found = classification_metrics(truth, predicted, proba)
    assert found["accuracy"] == pytest.approx(sk.accuracy_score(truth, predicted))
    assert found["precision"] == pytest.approx(sk.precision_score(truth, predicted, zero_division=0))
    assert found["recall"] == pytest.approx(sk.recall_score(truth, predicted, zero_division=0))
    assert found["f1"] == pytest.approx(sk.f1_score(truth, predicted, zero_division=0))
    assert found["roc_auc"] == pytest.approx(sk.roc_auc_score(truth, proba[:, 1]))
    assert found["log_loss"] == pytest.approx(sk.log_loss(truth, proba))
    # One column (the positive class's probability) gives the same.
    assert classification_metrics(truth, predicted, proba[:, 1]) == pytest.approx(found)


@pytest.mark.parametrize("seed", range(5))
def test_multiclass_classification_matches_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = np.array(["ant", "bee", "cat", "dog"])
    truth = labels[rng.integers(0, 4, 400)]
    proba = _probabilities(rng, 400, 4)
    predicted = labels[proba.argmax(axis=1)]
    found = classification_metrics(truth, predicted, proba)
    for name, reference in (
        ("precision", sk.precision_score),
        ("recall", sk.recall_score),
        ("f1", sk.f1_score),
    ):
        assert found[name] == pytest.approx(reference(truth, predicted, average="macro", zero_division=0))
    assert found["accuracy"] == pytest.approx(sk.accuracy_score(truth, predicted))
    assert found["roc_auc"] == pytest.approx(sk.roc_auc_score(truth, proba, multi_class="ovr", average="macro"))
    assert found["log_loss"] == pytest.approx(sk.log_loss(truth, proba, labels=labels))


def test_a_class_never_predicted_counts_zero_precision() -> None:
    truth = np.array([0, 1, 2, 2])
    predicted = np.array([0, 1, 1, 1])
    found = classification_metrics(truth, predicted)
    assert found["precision"] == pytest.approx(sk.precision_score(truth, predicted, average="macro", zero_division=0))
    assert "roc_auc" not in found and "log_loss" not in found


def test_decision_scores_give_auc_but_no_log_loss() -> None:
    rng = np.random.default_rng(3)
    truth = rng.integers(0, 2, 100)
    score = rng.normal(size=100) * 4
    found = classification_metrics(truth, (score > 0).astype(int), score)
    assert found["roc_auc"] == pytest.approx(sk.roc_auc_score(truth, score))
    assert "log_loss" not in found


@pytest.mark.parametrize("seed", range(5))
def test_regression_matches_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    truth = rng.normal(10, 3, 500)
    truth[:3] = 0.0  # MAPE's guard against dividing by zero, as scikit-learn's
    predicted = truth + rng.normal(0, 1, 500)
    found = regression_metrics(truth, predicted)
    assert found["mae"] == pytest.approx(sk.mean_absolute_error(truth, predicted))
    assert found["rmse"] == pytest.approx(math.sqrt(sk.mean_squared_error(truth, predicted)))
    assert found["mape"] == pytest.approx(sk.mean_absolute_percentage_error(truth, predicted))
    assert found["r2"] == pytest.approx(sk.r2_score(truth, predicted))


def test_constant_truth_r2_follows_sklearn() -> None:
    assert regression_metrics([2.0, 2.0], [2.0, 2.0])["r2"] == sk.r2_score([2.0, 2.0], [2.0, 2.0]) == 1.0
    assert regression_metrics([2.0, 2.0], [1.0, 2.0])["r2"] == sk.r2_score([2.0, 2.0], [1.0, 2.0]) == 0.0


def test_task_inferred_from_labels_and_outputs() -> None:
    assert infer_task(["a", "b"], ["a", "a"]) is Task.CLASSIFICATION
    assert infer_task([True, False], [True, True]) is Task.CLASSIFICATION
    assert infer_task([0, 1, 2], [0, 2, 2]) is Task.CLASSIFICATION
    assert infer_task([0.0, 1.0], [0.0, 1.0]) is Task.CLASSIFICATION
    assert infer_task([0, 1, 2], [0.2, 1.7, 2.1]) is Task.REGRESSION
    assert infer_task(np.arange(100), np.arange(100)) is Task.REGRESSION
    assert compute([0.5, 1.5, 2.0], [0.4, 1.6, 2.0]).task is Task.REGRESSION
    assert compute([1, 2, 3], [1, 2, 3], task="regression").metrics["r2"] == 1.0


def test_compute_picks_the_asked_metrics() -> None:
    result = compute([0, 1, 1, 0], [0, 1, 0, 0], metrics=["f1", "accuracy"])
    assert (result.task, list(result.metrics), result.rows) == (Task.CLASSIFICATION, ["f1", "accuracy"], 4)
    assert list(compute([0, 1], [0, 1], [0.2, 0.9]).metrics) == [
        "accuracy",
        "precision",
        "recall",
        "f1",
        "roc_auc",
        "log_loss",
    ]


@pytest.mark.parametrize(
    ("call", "field", "words"),
    [
        (lambda: compute([], []), "y_true", "empty"),
        (lambda: compute([1, 2, 3], [1, 2]), "y_pred", "3 values"),
        (lambda: compute([[1, 2], [3, 4]], [1, 2]), "y_true", "one value per row"),
        (lambda: compute([1.0, float("nan")], [1.0, 2.0]), "y_true", "NaN at row 1"),
        (lambda: compute([1, 0], [1, 0], task="ranking"), "task", "classification or regression"),
        (lambda: compute([1, 0], [1, 0], metrics=["rmse"]), "metrics", "unknown classification metric 'rmse'"),
        (lambda: compute([1, 0], [1, 0], metrics=[]), "metrics", "empty"),
        (lambda: compute([1, 0], [1, 0], metrics=["roc_auc"]), "metrics", "needs per-class scores"),
        (lambda: compute([1, 0], [1, 0], [[0.1, 0.2, 0.7]] * 2), "scores", "3 columns for 2 classes"),
        (lambda: compute([1, 0], [1, 0], [0.5]), "scores", "one row per label"),
        (lambda: compute([1, 0], [1, 0], [0.5, float("inf")]), "scores", "finite"),
        (lambda: compute(["a", "b"], ["a", "b"], task="regression"), "y_true", "need numbers"),
    ],
)
def test_bad_inputs_are_refused_clearly(call: object, field: str, words: str) -> None:
    with pytest.raises(InvalidArgument, match=words) as caught:
        call()  # type: ignore[operator]
    assert caught.value.field == field
