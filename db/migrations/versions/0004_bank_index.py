"""Index inspections by bank: the score-drift check reads the first and latest parts of a bank.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_inspections_bank_id", "inspections", ["bank_id"])


def downgrade() -> None:
    op.drop_index("ix_inspections_bank_id", "inspections")
