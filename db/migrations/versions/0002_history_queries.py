"""Indexes for history queries by date and verdict; which backend wrote each chat answer.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chat_messages") as batch:
        batch.add_column(sa.Column("backend", sa.String(200), nullable=False, server_default=""))
    op.create_index("ix_inspections_created_at", "inspections", ["created_at"])
    op.create_index("ix_inspections_verdict", "inspections", ["verdict"])


def downgrade() -> None:
    op.drop_index("ix_inspections_verdict", "inspections")
    op.drop_index("ix_inspections_created_at", "inspections")
    with op.batch_alter_table("chat_messages") as batch:
        batch.drop_column("backend")
