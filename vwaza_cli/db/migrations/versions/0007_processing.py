"""processing: each track's measurements and renditions, and the work still to do

Tracks get the `analysis` object, the artist's preview start and the renditions' URLs;
`track_processing` holds one row per track for the daemon to claim; upload jobs may now
carry the renditions (STREAM, PREVIEW, WAVEFORM). Tracks staged before this migration are
queued for processing only where their master is still in the spool (see upgrade).

Revision ID: 0007_processing
Revises: 0006_team_servers
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_processing"
down_revision = "0006_team_servers"
branch_labels = None
depends_on = None

OLD_TYPES = ("AUDIO", "COVER_ART")
NEW_TYPES = (*OLD_TYPES, "STREAM", "PREVIEW", "WAVEFORM")
TRACK_URLS = ("stream_url", "preview_url", "waveform_url")


def _job_type(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name="job_type", native_enum=False, create_constraint=True, length=20)


def upgrade() -> None:
    # ADD COLUMN, no table copy: on SQLite, copying `tracks` (a parent) would fire the
    # cascades of its children's foreign keys when the old table is dropped.
    op.add_column("tracks", sa.Column("analysis", sa.JSON(), nullable=True))
    op.add_column("tracks", sa.Column("preview_start", sa.Float(), nullable=True))
    for column in TRACK_URLS:
        op.add_column("tracks", sa.Column(column, sa.Text(), nullable=True))
    _change_job_types(OLD_TYPES, NEW_TYPES)
    op.create_table(
        "track_processing",
        sa.Column("track_id", sa.String(length=36), nullable=False),
        sa.Column("release_id", sa.String(length=36), nullable=False),
        sa.Column("machine_id", sa.String(length=255), nullable=False),
        sa.Column("master_path", sa.Text(), nullable=False),
        sa.Column("master_sha256", sa.String(length=64), nullable=False),
        sa.Column("measure", sa.Boolean(), nullable=False),
        sa.Column("renditions", sa.String(length=100), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "PENDING",
                "RUNNING",
                "DONE",
                "FAILED",
                name="processing_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error_log", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["release_id"], ["releases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["track_id"], ["tracks.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("track_id"),
    )
    op.create_index("ix_track_processing_claim", "track_processing", ["machine_id", "status"])
    op.create_index("ix_track_processing_release_id", "track_processing", ["release_id"])
    op.create_index("ix_track_processing_status", "track_processing", ["status"])
    _queue_staged_tracks()


def _change_job_types(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    """The CHECK constraint of upload_jobs.type, rebuilt for the new list of types (on
    SQLite by a table copy: no table refers to upload_jobs, so no cascade fires)."""
    with op.batch_alter_table("upload_jobs", recreate="always") as batch:
        batch.alter_column("type", existing_type=_job_type(old), type_=_job_type(new))


def _queue_staged_tracks() -> None:
    """Tracks whose master is still staged (upload not COMPLETED) get their processing row,
    so releases on their way keep the new rule (measured before review). Tracks already
    uploaded keep `analysis` null: their masters left the spool."""
    op.execute(
        """
        INSERT INTO track_processing (track_id, release_id, machine_id, master_path,
            master_sha256, measure, renditions, status, attempts, next_attempt_at,
            created_at, updated_at)
        SELECT j.track_id, j.release_id, j.machine_id, j.local_path, j.sha256, TRUE,
            'STREAM,PREVIEW,WAVEFORM', 'PENDING', 0, j.created_at, j.created_at, j.created_at
        FROM upload_jobs j
        WHERE j.type = 'AUDIO' AND j.status <> 'COMPLETED' AND j.track_id IS NOT NULL
        """
    )


def downgrade() -> None:
    op.drop_index("ix_track_processing_status", table_name="track_processing")
    op.drop_index("ix_track_processing_release_id", table_name="track_processing")
    op.drop_index("ix_track_processing_claim", table_name="track_processing")
    op.drop_table("track_processing")
    op.execute("DELETE FROM upload_jobs WHERE type IN ('STREAM', 'PREVIEW', 'WAVEFORM')")
    _change_job_types(NEW_TYPES, OLD_TYPES)
    # DROP COLUMN: PostgreSQL, and SQLite since 3.35; no table copy (see upgrade).
    for column in (*TRACK_URLS, "preview_start", "analysis"):
        op.execute(f"ALTER TABLE tracks DROP COLUMN {column}")
