"""History of recorded audit runs: the runs, their rule results and their group metrics.

Revision ID: 0003
Revises: 0001 (the lead rechains it after 0002_users at merge)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None

_TIME = 32  # ISO 8601 UTC, as the review tables keep times: sorts as text on every back end


def upgrade() -> None:
    """Create history_runs, history_rules and history_metrics (one row per rule/group/metric)."""
    op.create_table(
        "history_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("report_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("envelope_sha256", sa.String(64)),
        sa.Column("signer", sa.String(128)),
        sa.Column("audit_id", sa.String(128), nullable=False),
        sa.Column("audit_title", sa.String(512)),
        sa.Column("spec_sha256", sa.String(64), nullable=False),
        sa.Column("policy_id", sa.String(128), nullable=False),
        sa.Column("policy_version", sa.String(128), nullable=False),
        sa.Column("policy_sha256", sa.String(64), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("started_at", sa.String(_TIME), nullable=False),
        sa.Column("finished_at", sa.String(_TIME), nullable=False),
        sa.Column("recorded_at", sa.String(_TIME), nullable=False),
        sa.Column("engine", sa.Text, nullable=False),
        sa.Column("ethicsgate_version", sa.String(64), nullable=False),
        sa.Column("report_path", sa.Text),
        sa.Column("rules", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
    )
    op.create_index("ix_history_runs_audit", "history_runs", ["audit_id", "finished_at"])
    op.create_table(
        "history_rules",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("history_runs.id"), primary_key=True),
        sa.Column("rule_id", sa.String(128), primary_key=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("dataset", sa.String(128), nullable=False),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        # JSON list: each assertion's metric, aggregate, op, threshold, observed and status
        sa.Column("assertions", sa.Text, nullable=False),
    )
    op.create_index("ix_history_rules_rule", "history_rules", ["rule_id", "run_id"])
    op.create_table(
        "history_metrics",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("history_runs.id"), nullable=False),
        sa.Column("rule_id", sa.String(128), nullable=False),
        sa.Column("group_key", sa.Text, nullable=False),
        sa.Column("metric", sa.String(128), nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("low", sa.Float),
        sa.Column("high", sa.Float),
        sa.Column("ratio", sa.Float),
        sa.Column("ratio_low", sa.Float),
        sa.Column("ratio_high", sa.Float),
        sa.Column("difference", sa.Float),
        sa.Column("p_value", sa.Float),
        sa.Column("n", sa.BigInteger, nullable=False),
        sa.Column("excluded", sa.Boolean, nullable=False),
    )
    # a trend reads one rule's metric across runs; a run's detail reads one run
    op.create_index("ix_history_metrics_trend", "history_metrics", ["rule_id", "metric", "run_id"])
    op.create_index("ix_history_metrics_run", "history_metrics", ["run_id"])


def downgrade() -> None:
    """Drop the history tables."""
    op.drop_index("ix_history_metrics_run", table_name="history_metrics")
    op.drop_index("ix_history_metrics_trend", table_name="history_metrics")
    op.drop_table("history_metrics")
    op.drop_index("ix_history_rules_rule", table_name="history_rules")
    op.drop_table("history_rules")
    op.drop_index("ix_history_runs_audit", table_name="history_runs")
    op.drop_table("history_runs")
