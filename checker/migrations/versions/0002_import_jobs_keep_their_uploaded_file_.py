"""Import jobs keep their uploaded file and count their runs (issue 12, imports as tasks).

``payload``: the uploaded file, stored with its job until the job ends, so an import task on any
worker reads it from the database. ``attempts``: runs of the task that started and did not finish their
slice (their worker died); existing rows get 0.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 07:28:04.040152

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the two columns (existing jobs: no file, no run counted)."""
    with op.batch_alter_table("import_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payload", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False))


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("import_jobs", schema=None) as batch_op:
        batch_op.drop_column("attempts")
        batch_op.drop_column("payload")
