"""Stored evaluations of model versions (the validation gate's results) in the metadata store.

One evaluation is one row per version scored on the same data, the rows sharing an ``evaluation_id``; deleting a
version deletes its rows (the foreign key cascades).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Row, select

from ridgeline.domain.ids import new_id, now_ms
from ridgeline.domain.promotion import ModelEvaluation
from ridgeline.domain.wire import decode_value, encode_value
from ridgeline.store.database import Database
from ridgeline.store.schema import model_evaluations, model_versions, registered_models


@dataclass(frozen=True)
class EvaluationRow:
    """What one version scored, to be stored."""

    version_id: str
    metrics: dict[str, float]


@dataclass(frozen=True)
class EvaluationData:
    """What every row of one evaluation shares."""

    dataset_name: str
    dataset_digest: str
    dataset_version_id: str | None
    task: str
    rows: int
    compared_alias: str | None
    created_by: str


class EvaluationStore:
    def __init__(self, database: Database) -> None:
        self.db = database

    def record(self, data: EvaluationData, results: Sequence[EvaluationRow]) -> str:
        """Store one evaluation (one row per version, in one transaction); returns its id."""
        evaluation_id = new_id()
        now = now_ms()
        with self.db.write() as conn:
            conn.execute(
                model_evaluations.insert(),
                [
                    {
                        "evaluation_id": evaluation_id,
                        "version_id": result.version_id,
                        "dataset_version_id": data.dataset_version_id,
                        "dataset_name": data.dataset_name,
                        "dataset_digest": data.dataset_digest,
                        "task": data.task,
                        # Non-finite values as their strings: JSON has no NaN or infinity.
                        "metrics": orjson.dumps({k: encode_value(v) for k, v in result.metrics.items()}).decode(),
                        "rows": data.rows,
                        "compared_alias": data.compared_alias,
                        "created_by": data.created_by,
                        "created_at": now,
                    }
                    for result in results
                ],
            )
        return evaluation_id

    def of_version(self, version_id: str, limit: int) -> list[ModelEvaluation]:
        """The version's evaluations, newest first."""
        return self._select(model_evaluations.c.version_id == version_id, limit=limit)

    def by_id(self, evaluation_id: str) -> list[ModelEvaluation]:
        """Every version's row of one evaluation (the order they were stored in: the candidate first)."""
        return self._select(model_evaluations.c.evaluation_id == evaluation_id, newest_first=False)

    def _select(self, condition: Any, *, limit: int | None = None, newest_first: bool = True) -> list[ModelEvaluation]:
        order = model_evaluations.c.id.desc() if newest_first else model_evaluations.c.id
        query = (
            select(model_evaluations, model_versions.c.version, registered_models.c.name.label("model_name"))
            .join(model_versions, model_versions.c.id == model_evaluations.c.version_id)
            .join(registered_models, registered_models.c.id == model_versions.c.model_id)
            .where(condition)
            .order_by(order)
            .limit(limit)
        )
        with self.db.read() as conn:
            return [_evaluation(row) for row in conn.execute(query)]


def _evaluation(row: Row[Any]) -> ModelEvaluation:
    return ModelEvaluation(
        evaluation_id=row.evaluation_id,
        model_name=row.model_name,
        version=row.version,
        dataset_name=row.dataset_name,
        dataset_digest=row.dataset_digest,
        dataset_version_id=row.dataset_version_id,
        task=row.task,
        metrics={key: decode_value(value) for key, value in orjson.loads(row.metrics).items()},
        rows=row.rows,
        compared_alias=row.compared_alias,
        created_by=row.created_by,
        created_at=row.created_at,
    )
