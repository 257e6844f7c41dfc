"""Catalog import writes plain rows (db.bulk), not ORM objects: each row holds exactly the
columns its single command's constructor gives from the same inputs, and db.bulk sends
each value as SQLAlchemy would."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from vwaza_cli.db import bulk
from vwaza_cli.db.models import Track, UploadJob, column_values
from vwaza_cli.media import AudioInfo, ImageInfo
from vwaza_cli.services import catalog_rows, spool, uploads
from vwaza_cli.services.processing import new_processing
from vwaza_cli.services.tracks import TrackFields, new_track
from vwaza_cli.settings import load_settings

SETTINGS = load_settings({"VWAZA_HOME": "/nonexistent-home", "VWAZA_MACHINE_ID": "rows-test"})
STAGED = spool.StagedFile(Path("/spool/job-1.flac"), "ab" * 32, 1234)
AUDIO = uploads.Accepted(
    STAGED, AudioInfo("flac", 3.5, 48_000, 2, False, "audio/flac", "flac", ()), ()
)
COVER = uploads.Accepted(
    spool.StagedFile(Path("/spool/job-0.jpg"), "cd" * 32, 99),
    ImageInfo("jpeg", 1000, 1000, 99, "image/jpeg", "jpg", ()),
    (),
)


def _same(plain: dict[str, Any], built: dict[str, Any]) -> None:
    """Equal, but for the moments (each taken when its row was made)."""
    assert plain.keys() == built.keys()
    for column, value in built.items():
        if isinstance(value, datetime):
            assert isinstance(plain[column], datetime), column
        else:
            assert plain[column] == value, column


def test_a_track_row_is_what_track_add_builds() -> None:
    fields = TrackFields("Intro", 3, "USRC17607839")
    built = column_values(new_track("r-1", fields, AUDIO, track_id="t-1"))
    _same(catalog_rows.track_row("r-1", fields, AUDIO, "t-1"), built)


def test_a_processing_row_is_what_track_add_builds() -> None:
    built = column_values(new_processing(SETTINGS, "t-1", "r-1", STAGED))
    _same(catalog_rows.processing_row(SETTINGS, "t-1", "r-1", STAGED), built)


def test_job_rows_are_what_track_add_and_release_cover_build() -> None:
    audio = column_values(uploads.audio_job(SETTINGS, "j-1", "r-1", "t-1", AUDIO))
    _same(catalog_rows.audio_job_row(SETTINGS, "j-1", "r-1", "t-1", AUDIO), audio)
    cover = column_values(uploads.cover_job(SETTINGS, "j-0", "r-1", COVER))
    _same(catalog_rows.cover_job_row(SETTINGS, "j-0", "r-1", COVER), cover)


def test_a_plain_row_refuses_an_attribute_its_model_lacks() -> None:
    with pytest.raises(TypeError, match="no attribute"):
        bulk.plain_row(Track, id="t-1", colour="red")


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.psycopg.dialect()])
def test_bulk_values_are_converted_as_sqlalchemy_converts_them(dialect: Any) -> None:
    row = catalog_rows.audio_job_row(SETTINGS, "j-1", "r-1", "t-1", AUDIO)
    insert = bulk.table_insert(UploadJob, dialect)
    (values,) = insert.values([row])
    statement = UploadJob.__table__.insert().values(row).compile(dialect=dialect)  # type: ignore[attr-defined]
    expected = statement.construct_params()
    processors = statement._bind_processors
    for column, value in zip(insert.columns, values, strict=True):
        want = expected[column]
        if column in processors and want is not None:
            want = processors[column](want)
        assert value == want, column
