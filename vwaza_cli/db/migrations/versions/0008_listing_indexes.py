"""listing indexes: a page of `release list` and `review list` read in index order

Each listing's filter and order (newest first for an artist or everyone, oldest first for
review) has its index, so a page costs the same on 100,000 releases as on 10.

Revision ID: 0008_listing_indexes
Revises: 0007_processing
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0008_listing_indexes"
down_revision = "0007_processing"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_releases_artist_listing": ["artist_id", "created_at", "id"],
    "ix_releases_listing": ["created_at", "id"],
    "ix_releases_status_listing": ["status", "created_at", "id"],
    "ix_releases_review": ["status", "updated_at", "id"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "releases", columns, unique=False)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="releases")
