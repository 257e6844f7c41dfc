"""storage deletions: uploaded objects to remove once their release, track or cover is gone

Revision ID: 0002_storage_deletions
Revises: 0001_initial
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_storage_deletions"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "storage_deletions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("object_key", sa.Text(), nullable=False),
        sa.Column("machine_id", sa.String(length=255), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error_log", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("storage_deletions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_storage_deletions_machine_id"), ["machine_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("storage_deletions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_storage_deletions_machine_id"))
    op.drop_table("storage_deletions")
