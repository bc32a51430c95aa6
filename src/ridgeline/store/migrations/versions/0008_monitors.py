"""Production monitors: monitors, their periods (one per model version, with its reference), window profiles and
performance per period, window and segment, alerts, and the prediction log files already ingested.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_ID = sa.String(length=32)


def upgrade() -> None:
    op.create_table(
        "monitors",
        sa.Column("id", _ID, nullable=False),
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("model_id", _ID, nullable=False),
        sa.Column("alias", sa.String(length=250), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("features", sa.Text(), nullable=True),
        sa.Column("window_s", sa.Integer(), nullable=False),
        sa.Column("segment_by", sa.Text(), nullable=False),
        sa.Column("task", sa.String(length=32), nullable=True),
        sa.Column("policy", sa.Text(), nullable=False),
        sa.Column("quality", sa.Text(), nullable=False),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.Column("channels", sa.Text(), nullable=False),
        sa.Column("cooldown_s", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], name=op.f("fk_monitors_workspace_id_workspaces")),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["registered_models.id"],
            name=op.f("fk_monitors_model_id_registered_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitors")),
        sa.UniqueConstraint("workspace_id", "name", name=op.f("uq_monitors_workspace_id_name")),
    )
    op.create_index("ix_monitors_model_id", "monitors", ["model_id"], unique=False)
    op.create_table(
        "monitor_periods",
        sa.Column("monitor_id", _ID, nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=True),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("reference_source", sa.Text(), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["monitor_id"], ["monitors.id"], name=op.f("fk_monitor_periods_monitor_id_monitors"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("monitor_id", "number", name=op.f("pk_monitor_periods")),
    )
    op.create_table(
        "monitor_windows",
        sa.Column("monitor_id", _ID, nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("segment", sa.String(length=250), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("profile", sa.Text(), nullable=False),
        sa.Column("labelled", sa.BigInteger(), nullable=False),
        sa.Column("performance", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["monitor_id"], ["monitors.id"], name=op.f("fk_monitor_windows_monitor_id_monitors"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("monitor_id", "period", "window_start", "segment", name=op.f("pk_monitor_windows")),
    )
    op.create_table(
        "monitor_alerts",
        sa.Column("id", _ID, nullable=False),
        sa.Column("monitor_id", _ID, nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("rule_key", sa.String(length=500), nullable=False),
        sa.Column("segment", sa.String(length=250), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("values", sa.Text(), nullable=False),
        sa.Column("deliveries", sa.Text(), nullable=False),
        sa.Column("raised_at", sa.BigInteger(), nullable=False),
        sa.Column("notified_at", sa.BigInteger(), nullable=True),
        sa.Column("resolved_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["monitor_id"], ["monitors.id"], name=op.f("fk_monitor_alerts_monitor_id_monitors"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_alerts")),
    )
    op.create_index("ix_monitor_alerts_monitor_id", "monitor_alerts", ["monitor_id", "raised_at"], unique=False)
    op.create_index("ix_monitor_alerts_rule_key", "monitor_alerts", ["monitor_id", "rule_key", "status"], unique=False)
    op.create_table(
        "monitor_log_files",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("ingested_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_log_files")),
    )


def downgrade() -> None:
    op.drop_table("monitor_log_files")
    op.drop_table("monitor_alerts")
    op.drop_table("monitor_windows")
    op.drop_table("monitor_periods")
    op.drop_table("monitors")
