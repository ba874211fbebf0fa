"""An index for searches of the history (file name, operator, lot) in a long history.

A search matches a part of a text, which no index can seek, so it reads every inspection of the
project; with this index it reads the index's entries instead of the rows, which carry their fact
sheets.  Measured on a history of 200 000 inspections of one project (SQLite, 2-core CPU), the
history table's read of a search (trend, first page, and the count when 500 or more match): a
serial number found 100 times 619 ms and now 188 ms, one found nowhere 357 and now 179 ms, one
found 10 000 times 630 and now 377 ms; a text in every file name, which no one searches for,
253 and now 345 ms.  The migration took under a second on that 330 MB file.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_inspections_project_search", "inspections", ["project_id", "source_path", "operator", "lot"])


def downgrade() -> None:
    op.drop_index("ix_inspections_project_search", "inspections")
