"""The tables. Constraints live in the database itself, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import enum
import functools
import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from vwaza_cli.clock import now
from vwaza_cli.enums import Explicit, JobStatus, JobType, ProcessingStatus, ReleaseStatus, Role
from vwaza_cli.services.metadata import LINE_LENGTH, NAME_LENGTH

# Lengths of the text people type; the services' text rule checks them before the store does.
TITLE_LENGTH = 300
GENRE_LENGTH = 100


def new_id() -> str:
    return str(uuid.uuid4())


def column_values(row: SQLModel) -> dict[str, Any]:
    """A row's values keyed by column name (Track.order is the column "position"): what a
    Core bulk insert takes, from the same objects that single inserts add to a session.
    Any: the columns hold every type."""
    return {column: getattr(row, attribute) for attribute, column in _columns(type(row))}


@functools.cache
def _columns(model: type[SQLModel]) -> tuple[tuple[str, str], ...]:
    mapper = sa.inspect(model)
    return tuple((prop.key, prop.columns[0].name) for prop in mapper.column_attrs)


def _enum(cls: type[enum.Enum], name: str) -> sa.Enum:
    # VARCHAR + CHECK on both engines: no native PG type to migrate when a value is added.
    return sa.Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda e: [m.value for m in e],
    )


def _fk(target: str) -> sa.ForeignKey:
    return sa.ForeignKey(target, ondelete="CASCADE")


class User(SQLModel, table=True):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(
            "role <> 'ARTIST' OR artist_name IS NOT NULL", name="ck_users_artist_has_name"
        ),
        # One account per email whatever its case or Unicode form, enforced by the database.
        sa.Index("ux_users_email_key", "email_key", unique=True),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    email: str = Field(sa_column=sa.Column(sa.String(320), nullable=False))  # as typed
    # The email as compared (vwaza_cli/emails.py): how every lookup finds the user.
    email_key: str = Field(sa_column=sa.Column(sa.String(320), nullable=False))
    password_hash: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    role: Role = Field(sa_column=sa.Column(_enum(Role, "role"), nullable=False))
    artist_name: str | None = Field(default=None, sa_column=sa.Column(sa.String(200)))
    created_at: datetime = Field(default_factory=now, nullable=False)


class LoginSession(SQLModel, table=True):
    __tablename__ = "sessions"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    user_id: str = Field(
        sa_column=sa.Column(sa.String(36), _fk("users.id"), nullable=False, index=True)
    )
    token_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    created_at: datetime = Field(default_factory=now, nullable=False)
    expires_at: datetime = Field(nullable=False)
    revoked_at: datetime | None = Field(default=None)


class PasswordResetToken(SQLModel, table=True):
    __tablename__ = "password_reset_tokens"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    user_id: str = Field(
        sa_column=sa.Column(sa.String(36), _fk("users.id"), nullable=False, index=True)
    )
    token_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, unique=True))
    created_at: datetime = Field(default_factory=now, nullable=False)
    expires_at: datetime = Field(nullable=False)
    used: bool = Field(default=False, nullable=False)


class ResetRequest(SQLModel, table=True):
    """One reset request per row, keyed by a hash of the email: rate limiting without
    revealing (or storing) whether the email has an account."""

    __tablename__ = "reset_requests"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    email_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False, index=True))
    created_at: datetime = Field(default_factory=now, nullable=False)


class Release(SQLModel, table=True):
    __tablename__ = "releases"
    __table_args__ = (
        sa.UniqueConstraint("artist_id", "external_id", name="uq_releases_artist_external_id"),
        # the listings' filter and order (db/releases.list_releases, db/reads), one each
        sa.Index("ix_releases_artist_listing", "artist_id", "created_at", "id"),
        sa.Index("ix_releases_listing", "created_at", "id"),
        sa.Index("ix_releases_status_listing", "status", "created_at", "id"),
        sa.Index("ix_releases_review", "status", "updated_at", "id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    artist_id: str = Field(
        sa_column=sa.Column(sa.String(36), _fk("users.id"), nullable=False, index=True)
    )
    title: str = Field(sa_column=sa.Column(sa.String(TITLE_LENGTH), nullable=False))
    genre: str = Field(sa_column=sa.Column(sa.String(GENRE_LENGTH), nullable=False))
    cover_art: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    status: ReleaseStatus = Field(
        default=ReleaseStatus.DRAFT,
        sa_column=sa.Column(_enum(ReleaseStatus, "release_status"), nullable=False, index=True),
    )
    external_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(200)))
    rejection_reason: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    created_at: datetime = Field(default_factory=now, nullable=False)
    updated_at: datetime = Field(default_factory=now, nullable=False)
    submitted_at: datetime | None = Field(default=None)
    # What the stores require (spec/distribution.md); all optional until `release check`.
    upc: str | None = Field(default=None, sa_column=sa.Column(sa.String(13)))  # EAN-13 digits
    release_date: date | None = Field(default=None)
    original_release_date: date | None = Field(default=None)
    label: str | None = Field(default=None, sa_column=sa.Column(sa.String(NAME_LENGTH)))
    p_line: str | None = Field(default=None, sa_column=sa.Column(sa.String(LINE_LENGTH)))
    c_line: str | None = Field(default=None, sa_column=sa.Column(sa.String(LINE_LENGTH)))
    language: str | None = Field(default=None, sa_column=sa.Column(sa.String(3)))  # ISO 639-1
    # what the cover is, as staged (unknown for covers staged before migration 0009)
    cover_width: int | None = Field(default=None)
    cover_height: int | None = Field(default=None)
    cover_sha256: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))


class Track(SQLModel, table=True):
    __tablename__ = "tracks"
    __table_args__ = (
        sa.UniqueConstraint("release_id", "position", name="uq_tracks_release_position"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    release_id: str = Field(
        sa_column=sa.Column(sa.String(36), _fk("releases.id"), nullable=False, index=True)
    )
    title: str = Field(sa_column=sa.Column(sa.String(TITLE_LENGTH), nullable=False))
    audio_file: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    duration: float = Field(nullable=False)
    # "order" is an SQL keyword: the column is "position", the field keeps the model's name.
    order: int = Field(sa_column=sa.Column("position", sa.Integer, nullable=False))
    isrc: str | None = Field(default=None, sa_column=sa.Column(sa.String(12)))
    audio_format: str | None = Field(default=None, sa_column=sa.Column(sa.String(10)))
    created_at: datetime = Field(default_factory=now, nullable=False)
    # Processing (spec/processing.md): the measurements once made (the `analysis` object),
    # where the preview starts when the artist chose it, and the renditions' storage URLs
    # once uploaded. Any: a JSON object of numbers, booleans and nulls.
    analysis: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON))
    preview_start: float | None = Field(default=None)
    stream_url: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    preview_url: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    waveform_url: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    # What the stores require (spec/distribution.md): null until the artist answers.
    explicit: Explicit | None = Field(
        default=None, sa_column=sa.Column(_enum(Explicit, "explicit"), nullable=True)
    )
    # Any: JSON lists of names, and of {"name", "role"} objects
    featured_artists: list[Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON))
    contributors: list[Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON))
    # what the master is, as staged (unknown for masters staged before migration 0009)
    sample_rate: int | None = Field(default=None)
    lossy: bool | None = Field(default=None)
    audio_sha256: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))


class UploadJob(SQLModel, table=True):
    __tablename__ = "upload_jobs"
    __table_args__ = (sa.Index("ix_upload_jobs_claim", "machine_id", "status", "next_attempt_at"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    target_id: str = Field(sa_column=sa.Column(sa.String(36), nullable=False, index=True))
    # The owners of the target, so that deleting a release or track deletes its jobs.
    release_id: str = Field(
        sa_column=sa.Column(sa.String(36), _fk("releases.id"), nullable=False, index=True)
    )
    track_id: str | None = Field(
        default=None, sa_column=sa.Column(sa.String(36), _fk("tracks.id"), index=True)
    )
    type: JobType = Field(sa_column=sa.Column(_enum(JobType, "job_type"), nullable=False))
    local_path: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    sha256: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    size: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    content_type: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    object_key: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    machine_id: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    status: JobStatus = Field(
        default=JobStatus.PENDING,
        sa_column=sa.Column(_enum(JobStatus, "job_status"), nullable=False, index=True),
    )
    # Failed attempts over the job's life (the contracted `retry_count`), and since the job
    # was last queued (staged, `jobs retry`, resubmit): the retry budget. See db/jobs.py.
    retry_count: int = Field(default=0, nullable=False)
    failures_since_queued: int = Field(default=0, nullable=False)
    error_log: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    # How far the attempt in progress got (0 at each claim, the size once COMPLETED); the
    # daemon writes it now and then during a large upload, not at every piece.
    bytes_sent: int = Field(
        default=0, sa_column=sa.Column(sa.BigInteger, nullable=False, server_default="0")
    )
    next_attempt_at: datetime = Field(default_factory=now, nullable=False)
    lease_owner: str | None = Field(default=None, sa_column=sa.Column(sa.String(100)))
    lease_expires_at: datetime | None = Field(default=None)
    created_at: datetime = Field(default_factory=now, nullable=False)
    updated_at: datetime = Field(default_factory=now, nullable=False)
    completed_at: datetime | None = Field(default=None)


class TrackProcessing(SQLModel, table=True):
    """The processing a track's master still needs (or had), one row per track: claimed by
    a daemon of the machine whose spool holds the master, under a lease like an upload."""

    __tablename__ = "track_processing"
    __table_args__ = (sa.Index("ix_track_processing_claim", "machine_id", "status"),)

    track_id: str = Field(sa_column=sa.Column(sa.String(36), _fk("tracks.id"), primary_key=True))
    release_id: str = Field(
        sa_column=sa.Column(sa.String(36), _fk("releases.id"), nullable=False, index=True)
    )
    machine_id: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    # The staged master it reads, and what it is: a track whose file was replaced is not
    # recorded from the old file's work.
    master_path: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    master_sha256: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    measure: bool = Field(default=True, nullable=False)  # False: only renditions to remake
    renditions: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))  # "STREAM,..."
    status: ProcessingStatus = Field(
        default=ProcessingStatus.PENDING,
        sa_column=sa.Column(
            _enum(ProcessingStatus, "processing_status"), nullable=False, index=True
        ),
    )
    attempts: int = Field(default=0, nullable=False)
    error_log: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    next_attempt_at: datetime = Field(default_factory=now, nullable=False)
    lease_owner: str | None = Field(default=None, sa_column=sa.Column(sa.String(100)))
    lease_expires_at: datetime | None = Field(default=None)
    created_at: datetime = Field(default_factory=now, nullable=False)
    updated_at: datetime = Field(default_factory=now, nullable=False)


class DaemonHeartbeat(SQLModel, table=True):
    """Written by every running daemon, read by `vwaza daemon status` and `vwaza doctor`."""

    __tablename__ = "daemon_heartbeats"

    id: str = Field(primary_key=True, max_length=100)
    machine_id: str = Field(sa_column=sa.Column(sa.String(255), nullable=False))
    pid: int = Field(nullable=False)
    started_at: datetime = Field(default_factory=now, nullable=False)
    last_seen: datetime = Field(default_factory=now, nullable=False)
    in_flight: int = Field(default=0, nullable=False)
    stopped_at: datetime | None = Field(default=None)


class StorageDeletion(SQLModel, table=True):
    """An uploaded object whose release, track or cover is gone: the daemon removes it."""

    __tablename__ = "storage_deletions"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    object_key: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    machine_id: str = Field(sa_column=sa.Column(sa.String(255), nullable=False, index=True))
    attempts: int = Field(default=0, nullable=False)
    error_log: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    created_at: datetime = Field(default_factory=now, nullable=False)


class TeamServer(SQLModel, table=True):
    """A `vwaza serve` over this store, one row per machine: written as it starts and stops
    cleanly, read by `vwaza doctor` on other machines (their database URL bypasses it)."""

    __tablename__ = "team_servers"

    machine_id: str = Field(sa_column=sa.Column(sa.String(255), primary_key=True))
    # What clients give as VWAZA_SERVER: VWAZA_SERVER_PUBLIC_URL, else where it listens.
    address: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    started_at: datetime = Field(default_factory=now, nullable=False)
    stopped_at: datetime | None = Field(default=None)
