"""team servers: each machine whose `vwaza serve` uses the store, and where clients reach it

Written by the server as it starts (one row per machine) and stops cleanly; `vwaza doctor`
on another machine that holds the store's URL warns that it bypasses the server.

Revision ID: 0006_team_servers
Revises: 0005_user_email_key
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_team_servers"
down_revision = "0005_user_email_key"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "team_servers",
        sa.Column("machine_id", sa.String(length=255), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("machine_id"),
    )


def downgrade() -> None:
    op.drop_table("team_servers")
