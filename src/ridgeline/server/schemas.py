"""Wire schemas of the native API (requests and, for the docs, responses); kept apart from the entities."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProjectCreate(Strict):
    name: str = Field(description="1-200 characters, no control characters or surrounding blanks")
    description: str = ""


class ProjectUpdate(Strict):
    name: str | None = None
    description: str | None = None


class ProjectOut(BaseModel):
    id: str
    name: str
    description: str
    created_at: int
    updated_at: int
    deleted_at: int | None
    run_count: int
    last_activity: int | None


class ProjectList(BaseModel):
    projects: list[ProjectOut]


class RunCreate(Strict):
    project: str | None = Field(None, description="project name, created when missing")
    project_id: str | None = Field(None, description="project id (instead of project)")
    run_id: str | None = Field(None, description="client-made id (32 hex); creating twice is safe")
    name: str | None = None
    user: str = ""
    start_time: int | None = Field(None, description="epoch milliseconds")
    notes: str = ""
    parent_run_id: str | None = None
    params: dict[str, Any] | None = None
    tags: dict[str, Any] | None = None


class RunUpdate(Strict):
    name: str | None = None
    status: str | None = Field(None, description="RUNNING, FINISHED, FAILED or KILLED")
    notes: str | None = None


class RunFinish(Strict):
    status: str = "FINISHED"
    end_time: int | None = None


class RunIds(Strict):
    run_ids: list[str] = Field(min_length=1, max_length=10_000)


class MoveRuns(RunIds):
    project_id: str


class Changed(BaseModel):
    changed: int


class SearchRequest(Strict):
    projects: list[str] | None = Field(None, description="project names")
    project_ids: list[str] | None = None
    filter: str | None = Field(None, description="e.g. metrics.acc > 0.9 and params.model = 'rf'")
    order_by: list[str] | str | None = Field(None, description="e.g. ['metrics.acc desc', 'params.lr']")
    limit: int = Field(100, ge=1, le=1000)
    cursor: str | None = None
    deleted: bool = False


class CountRequest(Strict):
    projects: list[str] | None = Field(None, description="project names")
    project_ids: list[str] | None = None
    filter: str | None = None
    deleted: bool = False


class HistoriesRequest(Strict):
    run_ids: list[str] = Field(min_length=1, max_length=50)
    keys: list[str] = Field(min_length=1, max_length=200)
    min_step: int | None = None
    max_step: int | None = None
    points: int | None = Field(None, ge=3, le=100_000, description="downsample each series to about this many")
    method: Literal["minmax", "lttb"] = "minmax"


class MetricPointOut(BaseModel):
    value: float | str
    step: int
    timestamp: int


class RunOut(BaseModel):
    id: str
    project_id: str
    name: str
    status: str
    start_time: int
    end_time: int | None
    user: str
    notes: str
    parent_run_id: str | None
    deleted_at: int | None
    params: dict[str, str]
    tags: dict[str, str]
    metrics: dict[str, MetricPointOut]


class RunPageOut(BaseModel):
    runs: list[RunOut]
    next_cursor: str | None


class BatchIn(Strict):
    """Documentation of the batch body; the endpoint reads it itself to name bad fields precisely."""

    batch_id: str = Field(description="client-made id, 8-64 characters; a batch sent twice is applied once")
    params: dict[str, Any] | None = None
    tags: dict[str, Any] | None = None
    metrics: list[dict[str, Any]] | None = Field(
        None,
        description='[{"key": "loss", "steps": [0, 1], "values": [0.9, "NaN"], "timestamps": [1700000000000, …]}]',
    )


class BatchOut(BaseModel):
    applied: bool = Field(description="false when this batch id had been applied before")
    conflicts: list[dict[str, str]]


class HistoryOut(BaseModel):
    run_id: str
    key: str
    steps: list[int]
    values: list[float | str]
    timestamps: list[int]
    total: int
    downsampled: bool


class ErrorDetail(BaseModel):
    code: str = Field(description="INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, CONFLICT, UNAUTHENTICATED, …")
    message: str
    field: str | None = Field(None, description="the request field at fault, when there is one")
    details: Any = Field(None, description="more about the failure, e.g. every rejected field of a batch")


class ErrorBody(BaseModel):
    """Every error of the native API: ``{"error": {"code", "message", "field"?, "details"?}}``."""

    error: ErrorDetail
