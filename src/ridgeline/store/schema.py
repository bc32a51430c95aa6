"""Tables of the metadata store (SQLAlchemy Core). Every change here ships with an Alembic migration.

Metric points are not stored a row per point: each (run, key) keeps its points in columnar blocks of
little-endian int64 steps, float64 values and int64 timestamps, beside ``latest_metrics``, a one-row-per-key
summary that search and tables read. docs/architecture.md explains the choice.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

# SQLite only makes an auto-incrementing rowid of a column declared exactly INTEGER PRIMARY KEY.
AutoId = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(32)
VALUE_PREFIX_LENGTH = 100

workspaces = Table(
    "workspaces",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
)

projects = Table(
    "projects",
    metadata,
    Column("id", ID, primary_key=True),
    Column("workspace_id", ID, ForeignKey("workspaces.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("deleted_at", BigInteger, nullable=True),
    UniqueConstraint("workspace_id", "name"),
)

# Key → text labels of a project (MLflow's experiment tags).
project_tags = Table(
    "project_tags",
    metadata,
    Column("project_id", ID, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", ID, primary_key=True),
    Column("project_id", ID, ForeignKey("projects.id"), nullable=False),
    Column("name", String(250), nullable=False),
    Column("status", String(16), nullable=False),
    Column("start_time", BigInteger, nullable=False),
    Column("end_time", BigInteger, nullable=True),
    Column("user_name", String(200), nullable=False, default=""),
    Column("notes", Text, nullable=False, default=""),
    Column("parent_run_id", ID, nullable=True),
    Column("updated_at", BigInteger, nullable=False),
    Column("deleted_at", BigInteger, nullable=True),
    Index("ix_runs_project_start", "project_id", "start_time"),
    Index("ix_runs_parent", "parent_run_id"),
)


def _key_text_table(name: str) -> Table:
    """A run's key → text table (params, tags), with the derived columns search relies on."""
    return Table(
        name,
        metadata,
        Column("run_id", ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        Column("key", String(250), primary_key=True),
        Column("value", Text, nullable=False),
        # The value's first characters, indexed: PostgreSQL cannot index a whole 6,000-character value.
        Column("value_prefix", String(VALUE_PREFIX_LENGTH), nullable=False),
        # The value read as a number (None when it is not one), so numeric filters need no cast in SQL.
        Column("num_value", Float, nullable=True),
        Index(f"ix_{name}_key_prefix", "key", "value_prefix", "run_id"),
        Index(f"ix_{name}_key_num", "key", "num_value", "run_id"),
    )


params = _key_text_table("params")
tags = _key_text_table("tags")

latest_metrics = Table(
    "latest_metrics",
    metadata,
    Column("run_id", ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    # NULL stands for NaN: SQLite cannot store NaN, and PostgreSQL would sort it above every number.
    Column("value", Float, nullable=True),
    Column("step", BigInteger, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("point_count", BigInteger, nullable=False),
    # Filters and orderings on a metric read this index instead of probing every run.
    Index("ix_latest_metrics_key_value", "key", "value", "run_id"),
)

metric_blocks = Table(
    "metric_blocks",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("run_id", ID, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(250), nullable=False),
    Column("point_count", Integer, nullable=False),
    Column("step_min", BigInteger, nullable=False),
    Column("step_max", BigInteger, nullable=False),
    # True when the block's own steps never decrease, so reads can skip sorting.
    Column("sorted", Boolean, nullable=False),
    Column("steps", LargeBinary, nullable=False),
    Column("values", LargeBinary, nullable=False),
    Column("timestamps", LargeBinary, nullable=False),
    Index("ix_metric_blocks_run_key", "run_id", "key", "id"),
)

applied_batches = Table(
    "applied_batches",
    metadata,
    # Batch ids are unique per run: a client's id can never swallow another run's batch.
    Column("run_id", ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("batch_id", String(64), primary_key=True),
    Column("applied_at", BigInteger, nullable=False),
    Column("point_count", BigInteger, nullable=False),
)

artifacts = Table(
    "artifacts",
    metadata,
    Column("run_id", ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    # A relative POSIX path that store/artifacts/paths.py accepted.
    Column("path", String(1024), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

datasets = Table(
    "datasets",
    metadata,
    Column("id", ID, primary_key=True),
    Column("workspace_id", ID, ForeignKey("workspaces.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("workspace_id", "name"),
)

dataset_versions = Table(
    "dataset_versions",
    metadata,
    Column("id", ID, primary_key=True),
    Column("dataset_id", ID, ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
    # sha256 of the content (services/dataset_description.py): the same content is the same version, whoever logs it.
    Column("digest", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("rows", BigInteger, nullable=True),
    Column("size_bytes", BigInteger, nullable=True),
    Column("schema", Text, nullable=False),  # JSON
    Column("profile", Text, nullable=True),  # JSON
    Column("source", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(200), nullable=False),
    # Set when someone declares the version ready for modelling (the value metrics of a later release use it).
    Column("ready_at", BigInteger, nullable=True),
    Column("ready_by", String(200), nullable=True),
    UniqueConstraint("dataset_id", "digest"),
)

run_inputs = Table(
    "run_inputs",
    metadata,
    Column("run_id", ID, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("dataset_version_id", ID, ForeignKey("dataset_versions.id", ondelete="CASCADE"), primary_key=True),
    # What the run used the data for: training, validation, test or the caller's own word.
    Column("context", String(50), primary_key=True),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_run_inputs_version", "dataset_version_id", "run_id"),
)

retention_policies = Table(
    "retention_policies",
    metadata,
    Column("project_id", ID, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    # Either rule may be absent (NULL), never both: services/retention.py checks that.
    Column("max_age_days", Integer, nullable=True),
    Column("keep_last", Integer, nullable=True),
    Column("updated_at", BigInteger, nullable=False),
    Column("updated_by", String(200), nullable=False),
)

# The model registry (services/registry.py). Names are unique per workspace, versions numbered per model from 1.
registered_models = Table(
    "registered_models",
    metadata,
    Column("id", ID, primary_key=True),
    Column("workspace_id", ID, ForeignKey("workspaces.id"), nullable=False),
    Column("name", String(250), nullable=False),
    Column("description", Text, nullable=False),
    Column("owner", String(200), nullable=False),
    # The highest version number ever given: numbers of deleted versions are never reused.
    Column("last_version", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    UniqueConstraint("workspace_id", "name"),
)

registered_model_tags = Table(
    "registered_model_tags",
    metadata,
    Column("model_id", ID, ForeignKey("registered_models.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("id", ID, primary_key=True),
    Column("model_id", ID, ForeignKey("registered_models.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    # The URI the version was registered from, as given (runs:/…, models:/m-…, mlflow-artifacts:/…).
    Column("source", Text, nullable=False),
    # The run that trained it; no foreign key, so a version outlives an imported or purged run's row.
    Column("run_id", ID, nullable=True),
    # Where its files are: a folder of a run's artifacts (NULL when the source is outside Ridgeline's store).
    Column("artifact_run_id", ID, nullable=True),
    Column("artifact_path", String(1024), nullable=False),
    Column("logged_model_id", String(64), nullable=True),
    Column("status", String(16), nullable=False),
    Column("status_message", Text, nullable=False),
    Column("stage", String(16), nullable=False),
    Column("description", Text, nullable=False),
    Column("flavor", String(64), nullable=True),
    Column("signature", Text, nullable=True),  # JSON
    Column("metrics", Text, nullable=False),  # JSON: the source run's latest metrics when registered
    Column("git_commit", String(64), nullable=True),
    Column("created_by", String(200), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    UniqueConstraint("model_id", "version"),
    Index("ix_model_versions_run_id", "run_id"),
    Index("ix_model_versions_artifact_run_id", "artifact_run_id"),
)

model_version_tags = Table(
    "model_version_tags",
    metadata,
    Column("version_id", ID, ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
)

model_aliases = Table(
    "model_aliases",
    metadata,
    Column("model_id", ID, ForeignKey("registered_models.id", ondelete="CASCADE"), primary_key=True),
    Column("alias", String(250), primary_key=True),
    Column("version", Integer, nullable=False),
)

# Every set, move and deletion of an alias, kept for good: moving an alias is a deployment.
alias_events = Table(
    "alias_events",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("model_id", ID, ForeignKey("registered_models.id", ondelete="CASCADE"), nullable=False),
    Column("alias", String(250), nullable=False),
    Column("from_version", Integer, nullable=True),
    Column("to_version", Integer, nullable=True),
    Column("actor", String(200), nullable=False),
    Column("at", BigInteger, nullable=False),
    Index("ix_alias_events_model_id", "model_id", "id"),
)

# A model package saved by a run (MLflow 3's "logged model"): files under models/<id>/ in the run's artifacts.
logged_models = Table(
    "logged_models",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("project_id", ID, ForeignKey("projects.id"), nullable=False),
    Column("run_id", ID, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(250), nullable=False),
    Column("artifact_path", String(1024), nullable=False),
    Column("status", String(16), nullable=False),
    Column("status_message", Text, nullable=False),
    Column("model_type", String(250), nullable=False),
    Column("params", Text, nullable=False),  # JSON
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_logged_models_project_id", "project_id", "name"),
    Index("ix_logged_models_run_id", "run_id"),
)

logged_model_tags = Table(
    "logged_model_tags",
    metadata,
    Column("model_id", String(64), ForeignKey("logged_models.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
)

# Evaluations of model versions on evaluation data (services/registry evaluate): one row per version evaluated;
# the candidate and the alias holder evaluated together share an evaluation id.
model_evaluations = Table(
    "model_evaluations",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("evaluation_id", ID, nullable=False),
    Column("version_id", ID, ForeignKey("model_versions.id", ondelete="CASCADE"), nullable=False),
    # The data it was evaluated on: a dataset version when known, and always a readable name and digest.
    Column("dataset_version_id", ID, nullable=True),
    Column("dataset_name", String(200), nullable=False),
    Column("dataset_digest", String(64), nullable=False),
    Column("task", String(32), nullable=False),  # classification | regression
    Column("metrics", Text, nullable=False),  # JSON
    Column("rows", BigInteger, nullable=False),
    # Which alias holder the candidate was compared with, if any (the alias, and the version that held it).
    Column("compared_alias", String(250), nullable=True),
    Column("created_by", String(200), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_model_evaluations_version_id", "version_id", "id"),
    Index("ix_model_evaluations_evaluation_id", "evaluation_id"),
)

# Model servers (`ridgeline serve`) that report to the tracking server: what each one serves, seen when.
model_servers = Table(
    "model_servers",
    metadata,
    Column("id", ID, primary_key=True),
    Column("model_id", ID, ForeignKey("registered_models.id", ondelete="CASCADE"), nullable=False),
    Column("uri", Text, nullable=False),  # models:/NAME@ALIAS or models:/NAME/VERSION as started
    Column("url", Text, nullable=False),  # where it answers
    Column("version", Integer, nullable=True),  # the version it serves now
    Column("canary", Text, nullable=True),  # JSON: {"alias": …, "share": …, "version": …}
    Column("shadow", Text, nullable=True),  # JSON: {"alias": …, "version": …}
    Column("started_at", BigInteger, nullable=False),
    Column("last_seen_at", BigInteger, nullable=False),
    Index("ix_model_servers_model_id", "model_id", "last_seen_at"),
)

# Production monitors (services/monitoring): one per watched alias or version of a registered model. The JSON
# columns hold the monitoring/ layer's own forms (drift policy, quality thresholds, alert rules, channels).
monitors = Table(
    "monitors",
    metadata,
    Column("id", ID, primary_key=True),
    Column("workspace_id", ID, ForeignKey("workspaces.id"), nullable=False),
    Column("name", String(250), nullable=False),
    Column("model_id", ID, ForeignKey("registered_models.id", ondelete="CASCADE"), nullable=False),
    Column("alias", String(250), nullable=True),
    Column("version", Integer, nullable=True),
    Column("features", Text, nullable=True),  # JSON list; null: the signature's inputs
    Column("window_s", Integer, nullable=False),
    Column("segment_by", Text, nullable=False),  # JSON list
    Column("task", String(32), nullable=True),
    Column("policy", Text, nullable=False),
    Column("quality", Text, nullable=False),
    Column("rules", Text, nullable=False),
    Column("channels", Text, nullable=False),
    Column("cooldown_s", Integer, nullable=False),
    Column("description", Text, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    UniqueConstraint("workspace_id", "name"),
    Index("ix_monitors_model_id", "model_id"),
)

# A monitor's history per model version: each version it sees starts a period with its own reference profile.
monitor_periods = Table(
    "monitor_periods",
    metadata,
    Column("monitor_id", ID, ForeignKey("monitors.id", ondelete="CASCADE"), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("model_version", Integer, nullable=True),
    Column("reference", Text, nullable=False),  # monitoring.reference.Reference JSON
    Column("reference_source", Text, nullable=False),
    Column("started_at", BigInteger, nullable=False),
)

# One row per period x window x segment: the mergeable window profile (updated as events arrive, so reports never
# rescan raw events) and, once actuals arrive, the window's performance.
monitor_windows = Table(
    "monitor_windows",
    metadata,
    Column("monitor_id", ID, ForeignKey("monitors.id", ondelete="CASCADE"), primary_key=True),
    Column("period", Integer, primary_key=True),
    Column("window_start", BigInteger, primary_key=True),
    Column("segment", String(250), primary_key=True),  # "" is the whole population
    Column("rows", BigInteger, nullable=False),
    Column("profile", Text, nullable=False),  # monitoring.window.WindowProfile JSON
    Column("labelled", BigInteger, nullable=False),
    Column("performance", Text, nullable=True),  # JSON metrics
    Column("updated_at", BigInteger, nullable=False),
)

# Alerts raised by a monitor's rules; kept after they resolve (the record automation reacts to).
monitor_alerts = Table(
    "monitor_alerts",
    metadata,
    Column("id", ID, primary_key=True),
    Column("monitor_id", ID, ForeignKey("monitors.id", ondelete="CASCADE"), nullable=False),
    Column("rule", Text, nullable=False),
    Column("rule_key", String(500), nullable=False),
    Column("segment", String(250), nullable=False),
    Column("window_start", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),  # raised | resolved
    Column("severity", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("values", Text, nullable=False),  # JSON
    Column("deliveries", Text, nullable=False),  # JSON list
    Column("raised_at", BigInteger, nullable=False),
    Column("notified_at", BigInteger, nullable=True),
    Column("resolved_at", BigInteger, nullable=True),
    Index("ix_monitor_alerts_monitor_id", "monitor_id", "raised_at"),
    Index("ix_monitor_alerts_rule_key", "monitor_id", "rule_key", "status"),
)

# Prediction log files (ridgeline serve's Parquet) already ingested: files are written whole and never change.
monitor_log_files = Table(
    "monitor_log_files",
    metadata,
    Column("id", String(64), primary_key=True),  # sha256 of the path
    Column("path", Text, nullable=False),
    Column("rows", BigInteger, nullable=False),
    Column("ingested_at", BigInteger, nullable=False),
)

# Accounts (services/accounts): people and service accounts, their API tokens and web sessions, who belongs to
# which workspace with which role, per-project overrides, invitations, and the append-only audit log.
users = Table(
    "users",
    metadata,
    Column("id", ID, primary_key=True),
    # The login: lower-case, unique.
    Column("name", String(100), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("email", String(320), nullable=True),
    # argon2id; NULL for service accounts, which only ever present tokens.
    Column("password_hash", String(200), nullable=True),
    Column("kind", String(16), nullable=False),  # user | service
    Column("system_role", String(16), nullable=False),  # admin | user
    Column("default_workspace_id", ID, ForeignKey("workspaces.id", ondelete="SET NULL"), nullable=True),
    Column("disabled_at", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("last_login_at", BigInteger, nullable=True),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", ID, primary_key=True),
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    # sha256 of the token: the token itself is shown once and never stored.
    Column("token_hash", String(64), nullable=False, unique=True),
    # The token's first characters, so a list can say which one is which.
    Column("prefix", String(16), nullable=False),
    Column("scope", String(8), nullable=False),  # read | write | admin
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=True),
    Column("revoked_at", BigInteger, nullable=True),
    Column("last_used_at", BigInteger, nullable=True),
    Index("ix_api_tokens_user_id", "user_id"),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("last_seen_at", BigInteger, nullable=False),
    Column("remote_addr", String(64), nullable=False),
    Index("ix_web_sessions_user_id", "user_id"),
)

workspace_members = Table(
    "workspace_members",
    metadata,
    Column("workspace_id", ID, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(16), nullable=False),  # owner | maintainer | editor | viewer
    Column("created_at", BigInteger, nullable=False),
    Index("ix_workspace_members_user_id", "user_id"),
)

# A role on one project that replaces the member's workspace role there (raising or lowering it).
project_members = Table(
    "project_members",
    metadata,
    Column("project_id", ID, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

invitations = Table(
    "invitations",
    metadata,
    Column("id", ID, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("workspace_id", ID, ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=True),
    Column("role", String(16), nullable=True),
    Column("system_role", String(16), nullable=False),
    Column("note", String(200), nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("used_at", BigInteger, nullable=True),
    Column("used_by", String(100), nullable=True),
)

# Append-only: the migration adds triggers that refuse UPDATE and DELETE on both backends.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("at", BigInteger, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("action", String(100), nullable=False),
    Column("method", String(8), nullable=False),
    Column("path", String(1000), nullable=False),
    Column("object", String(1000), nullable=False),
    Column("workspace_id", ID, nullable=True),
    Column("remote_addr", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Index("ix_audit_log_at", "at"),
    Index("ix_audit_log_actor", "actor", "at"),
    Index("ix_audit_log_workspace", "workspace_id", "at"),
)
