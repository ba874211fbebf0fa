"""The first history schema: projects, references, banks, inspections, reviews, chat, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("backbone", sa.String(200), nullable=False),
        sa.Column("settings", sa.JSON, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("archived_at", TIME, nullable=True),
    )
    op.create_table(
        "reference_images",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
        sa.Column("image_key", sa.String(200), nullable=False),
        sa.Column("file_name", sa.String(500), nullable=False),
        sa.Column("added_at", TIME, nullable=False),
        sa.Column("added_by", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.UniqueConstraint("project_id", "image_key", name="uq_reference_project_image"),
    )
    op.create_index("ix_reference_images_project_id", "reference_images", ["project_id"])
    op.create_table(
        "reference_banks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
        sa.Column("bank_key", sa.String(200), nullable=False),
        sa.Column("reference_keys", sa.JSON, nullable=False),
        sa.Column("engine_version", sa.String(50), nullable=False),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("calibration", sa.JSON, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_index("ix_reference_banks_project_id", "reference_banks", ["project_id"])
    op.create_table(
        "inspections",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
        sa.Column("image_key", sa.String(200), nullable=False),
        sa.Column("source_path", sa.Text, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("operator", sa.String(200), nullable=False),
        sa.Column("raw_score", sa.Float, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("verdict", sa.String(20), nullable=False),
        sa.Column("thresholds", sa.JSON, nullable=False),
        sa.Column("map_key", sa.String(200), nullable=False),
        sa.Column("facts", sa.JSON, nullable=False),
        sa.Column("bank_id", sa.Integer, sa.ForeignKey("reference_banks.id", ondelete="SET NULL"), nullable=True),
        sa.Column("engine_version", sa.String(50), nullable=False),
        sa.Column("duration_ms", sa.Float, nullable=False),
    )
    op.create_index("ix_inspections_project_id", "inspections", ["project_id"])
    op.create_index("ix_inspections_image_key", "inspections", ["image_key"])
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("inspection_id", sa.Integer, sa.ForeignKey("inspections.id", ondelete="CASCADE"), nullable=False),
        sa.Column("verdict", sa.String(20), nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("operator", sa.String(200), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_index("ix_reviews_inspection_id", "reviews", ["inspection_id"])
    op.create_table(
        "chat_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("inspection_id", sa.Integer, sa.ForeignKey("inspections.id", ondelete="CASCADE"), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
    )
    op.create_index("ix_chat_messages_inspection_id", "chat_messages", ["inspection_id"])
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("entity", sa.String(100), nullable=False),
        sa.Column("entity_id", sa.Integer, nullable=True),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_audit_events_created_at", "audit_events", ["created_at"])


def downgrade() -> None:
    for table in ("audit_events", "chat_messages", "reviews", "inspections", "reference_banks", "reference_images",
                  "projects"):
        op.drop_table(table)
