"""upload jobs: `attempts` becomes `failures_since_queued`, the retry budget it really was

The old column was incremented on every claim, decremented when a shutdown gave the job
back and reset by `jobs retry`. The new one counts failed attempts since the job was last
queued, and moves only when an attempt fails (or its lease expires) and on `jobs retry`.
So the attempt in progress (UPLOADING) or the one that succeeded (COMPLETED) no longer
counts; every other row already holds the same number under both meanings.

Revision ID: 0003_job_failure_counter
Revises: 0002_storage_deletions
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0003_job_failure_counter"
down_revision = "0002_storage_deletions"
branch_labels = None
depends_on = None

# RENAME COLUMN: PostgreSQL, and SQLite since 3.25; no table copy on either.
_RENAME = "ALTER TABLE upload_jobs RENAME COLUMN {old} TO {new}"


def upgrade() -> None:
    op.execute(_RENAME.format(old="attempts", new="failures_since_queued"))
    op.execute(
        "UPDATE upload_jobs SET failures_since_queued = failures_since_queued - 1"
        " WHERE status IN ('UPLOADING', 'COMPLETED') AND failures_since_queued > 0"
    )


def downgrade() -> None:
    # the old daemon counted the claim of an attempt in progress; COMPLETED rows are never
    # read by it again, so they keep the number they have
    op.execute(
        "UPDATE upload_jobs SET failures_since_queued = failures_since_queued + 1"
        " WHERE status = 'UPLOADING'"
    )
    op.execute(_RENAME.format(old="failures_since_queued", new="attempts"))
