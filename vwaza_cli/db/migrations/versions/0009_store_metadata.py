"""store metadata: what the stores require of a release and its tracks (spec/distribution.md)

Releases get the UPC, the release and original release dates, the label, the (P) and (C)
lines and the titles' language, and what the cover is (its size and SHA-256); tracks get the
explicit flag, featured artists and contributors, and what their master is (sample rate,
lossy or not, SHA-256), which `release check` and the DDEX export read. The hashes of files
staged before this migration are filled from their upload jobs; their sizes and rates stay
unknown (the checks that need them skip them).

Revision ID: 0009_store_metadata
Revises: 0008_listing_indexes
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_store_metadata"
down_revision = "0008_listing_indexes"
branch_labels = None
depends_on = None

EXPLICIT = ("explicit", "clean", "not_explicit")


def _release_columns() -> tuple[sa.Column[object], ...]:
    return (
        sa.Column("upc", sa.String(length=13), nullable=True),
        sa.Column("release_date", sa.Date(), nullable=True),
        sa.Column("original_release_date", sa.Date(), nullable=True),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("p_line", sa.String(length=300), nullable=True),
        sa.Column("c_line", sa.String(length=300), nullable=True),
        sa.Column("language", sa.String(length=3), nullable=True),
        sa.Column("cover_width", sa.Integer(), nullable=True),
        sa.Column("cover_height", sa.Integer(), nullable=True),
        sa.Column("cover_sha256", sa.String(length=64), nullable=True),
    )


def _track_columns() -> tuple[sa.Column[object], ...]:
    return (
        sa.Column("featured_artists", sa.JSON(), nullable=True),
        sa.Column("contributors", sa.JSON(), nullable=True),
        sa.Column("sample_rate", sa.Integer(), nullable=True),
        sa.Column("lossy", sa.Boolean(), nullable=True),
        sa.Column("audio_sha256", sa.String(length=64), nullable=True),
    )


def upgrade() -> None:
    # ADD COLUMN, no table copy (a copy of a parent table would fire its children's cascades)
    for column in _release_columns():
        op.add_column("releases", column)
    # the flag's CHECK in the column itself: alembic would skip it on SQLite
    allowed = ", ".join(f"'{value}'" for value in EXPLICIT)
    op.execute(
        "ALTER TABLE tracks ADD COLUMN explicit VARCHAR(20) "
        f"CONSTRAINT explicit CHECK (explicit IN ({allowed}))"
    )
    for column in _track_columns():
        op.add_column("tracks", column)
    _fill_hashes()


def _fill_hashes() -> None:
    """The SHA-256 of every master and cover already staged, from its newest upload job."""
    op.execute(
        "UPDATE tracks SET audio_sha256 = (SELECT j.sha256 FROM upload_jobs j "
        "WHERE j.track_id = tracks.id AND j.type = 'AUDIO' ORDER BY j.created_at DESC LIMIT 1)"
    )
    op.execute(
        "UPDATE releases SET cover_sha256 = (SELECT j.sha256 FROM upload_jobs j "
        "WHERE j.release_id = releases.id AND j.track_id IS NULL AND j.type = 'COVER_ART' "
        "ORDER BY j.created_at DESC LIMIT 1) WHERE cover_art IS NOT NULL"
    )


def downgrade() -> None:
    # DROP COLUMN: PostgreSQL, and SQLite since 3.35; no table copy (see upgrade).
    for column in reversed(_track_columns()):
        op.execute(f"ALTER TABLE tracks DROP COLUMN {column.name}")
    op.execute("ALTER TABLE tracks DROP COLUMN explicit")
    for column in reversed(_release_columns()):
        op.execute(f"ALTER TABLE releases DROP COLUMN {column.name}")
