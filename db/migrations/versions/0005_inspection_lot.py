"""The lot (batch, order or shift) an inspected part belongs to, for traceability.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inspections") as batch:
        batch.add_column(sa.Column("lot", sa.String(100), nullable=False, server_default=""))
    op.create_index("ix_inspections_lot", "inspections", ["lot"])


def downgrade() -> None:
    op.drop_index("ix_inspections_lot", "inspections")
    with op.batch_alter_table("inspections") as batch:
        batch.drop_column("lot")
