"""upload jobs: `bytes_sent`, how far the attempt in progress got

Written by the daemon now and then during a large upload (with the lease it extends), set
to 0 at each claim and to the size when the job completes; `jobs list` shows it for
UPLOADING jobs. Jobs completed before this revision get their size.

Revision ID: 0004_job_bytes_sent
Revises: 0003_job_failure_counter
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_job_bytes_sent"
down_revision = "0003_job_failure_counter"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN with a constant default: no table copy on SQLite nor on PostgreSQL
    op.add_column(
        "upload_jobs",
        sa.Column("bytes_sent", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.execute("UPDATE upload_jobs SET bytes_sent = size WHERE status = 'COMPLETED'")


def downgrade() -> None:
    with op.batch_alter_table("upload_jobs") as batch:
        batch.drop_column("bytes_sent")
