"""The validation gate from the SDK: ``ridgeline.registry.evaluate``, ``promote`` and ``rollback``.

Evaluate a registered version beside the current holder of an alias on the same data, store the metrics on both
versions, then move the alias only if rules on those stored metrics pass::

    result = ridgeline.registry.evaluate("models:/churn/4", test_frame, target="churned")
    ridgeline.registry.promote("churn", 4, require=["accuracy >= 0.9", "f1 > champion + 0.01"])
    ridgeline.registry.rollback("churn")  # the alias goes back to the version it held before

Embedded (a data folder) and over HTTP alike: ``tracking_uri`` > ``RIDGELINE_TRACKING_URI`` > the local folder.
See docs/registry.md for the rules' grammar and what a logged dataset must be to serve as evaluation data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ridgeline.domain.promotion import EvaluationResult, PromotionResult

__all__ = ["evaluate", "promote", "rollback"]


def evaluate(
    model_uri: str,
    dataset: Any,
    metrics: list[str] | None = None,
    *,
    target: str,
    alias: str | None = "champion",
    task: str | None = None,
    dataset_name: str | None = None,
    tracking_uri: str | None = None,
) -> EvaluationResult:
    """Score ``model_uri`` (``models:/NAME/VERSION`` or ``@ALIAS``) and the holder of ``alias`` on ``dataset``.

    ``dataset``: a pandas DataFrame holding the ``target`` column (named ``dataset_name``, default "dataframe"),
    or a logged dataset as ``"name"`` / ``"name@version"`` whose version is one CSV or Parquet file.
    ``metrics``: names from monitoring/performance.py (None: every one the task and outputs allow); ``task``:
    classification or regression (None: inferred from the labels and predictions); ``alias=None``: no
    comparison. The results are stored on both versions under one evaluation id and returned, with deltas.
    """
    from ridgeline.client.evaluate import evaluate as run
    from ridgeline.client.reader import Client

    with Client(tracking_uri) as client:
        chosen = None if metrics is None else list(metrics)
        return run(
            client,
            model_uri,
            dataset,
            chosen,
            target=target,
            alias=alias,
            task=task,
            dataset_name=dataset_name,
            tracking_uri=tracking_uri,
        )


def promote(
    name: str,
    version: int | str,
    alias: str = "champion",
    require: list[str] | None = None,
    *,
    tracking_uri: str | None = None,
) -> PromotionResult:
    """Point ``alias`` at ``version`` if every rule in ``require`` passes on the version's stored evaluation:
    ``"accuracy >= 0.9"``, ``"f1 > champion + 0.01"``, ``"rmse < champion - 0.5"``. A failed rule raises
    ``ridgeline.domain.errors.PromotionRefused`` (its message and ``details`` name the rule and the values) and
    the alias stays where it was."""
    from ridgeline.client.reader import Client

    with Client(tracking_uri) as client:
        return client.promote_model(name, version, alias, require)


def rollback(name: str, alias: str = "champion", *, tracking_uri: str | None = None) -> PromotionResult:
    """Point ``alias`` back at the version it held before its last move (twice: two steps back)."""
    from ridgeline.client.reader import Client

    with Client(tracking_uri) as client:
        return client.rollback_model(name, alias)
