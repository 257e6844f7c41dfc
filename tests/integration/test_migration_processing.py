"""Migration 0007: tracks whose master is still staged are queued for processing (their
release then waits for it before review), uploaded ones are not; upload jobs accept the
rendition types, and the downgrade takes it all back out."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from tests.support import db as testdb
from vwaza_cli.db import schema
from vwaza_cli.db.engine import get_engine

BEFORE = "0006_team_servers"


@pytest.fixture
def old_store(own_store: str) -> str:
    """A store of its own at revision 0006, on each engine, with one release of two tracks:
    one uploaded already, one still staged."""
    schema.upgrade(own_store, BEFORE)
    with get_engine(own_store).begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO users (id, email, email_key, password_hash, role, artist_name,"
                " created_at) VALUES ('u1', 'a@x.org', 'a@x.org', 'x', 'ARTIST', 'A',"
                " CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO releases (id, artist_id, title, genre, status, created_at,"
                " updated_at) VALUES ('r1', 'u1', 'T', 'G', 'PROCESSING', CURRENT_TIMESTAMP,"
                " CURRENT_TIMESTAMP)"
            )
        )
        for n, status in ((1, "COMPLETED"), (2, "PENDING")):
            conn.execute(
                sa.text(
                    "INSERT INTO tracks (id, release_id, title, audio_file, duration, position,"
                    " created_at) VALUES (:id, 'r1', 'T', :file, 1.0, :n, CURRENT_TIMESTAMP)"
                ),
                {"id": f"t{n}", "file": f"/spool/j{n}.wav", "n": n},
            )
            conn.execute(_job_insert(), _job(f"j{n}", f"t{n}", "AUDIO", status))
    return own_store


def _job_insert() -> sa.TextClause:
    return sa.text(
        "INSERT INTO upload_jobs (id, target_id, release_id, track_id, type, local_path, sha256,"
        " size, content_type, object_key, machine_id, status, retry_count,"
        " failures_since_queued, bytes_sent, next_attempt_at, created_at, updated_at)"
        " VALUES (:id, :track, 'r1', :track, :type, :path, :sha, 10, 'audio/wav', :key, 'm1',"
        " :status, 0, 0, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    )


def _job(job_id: str, track: str, kind: str, status: str) -> dict[str, str]:
    return {
        "id": job_id,
        "track": track,
        "type": kind,
        "path": f"/spool/{job_id}.wav",
        "sha": "a" * 64,
        "key": f"k/{job_id}",
        "status": status,
    }


def _rows(url: str, sql: str) -> list[tuple]:
    with get_engine(url).connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(sql))]


def test_staged_masters_are_queued_and_uploaded_ones_are_not(old_store: str) -> None:
    assert schema.upgrade(old_store) == schema.HEAD_REVISION
    queued = _rows(
        old_store,
        "SELECT track_id, release_id, machine_id, master_path, status, renditions"
        " FROM track_processing",
    )
    assert queued == [("t2", "r1", "m1", "/spool/j2.wav", "PENDING", "STREAM,PREVIEW,WAVEFORM")]
    # the job table was copied on SQLite: every row is still there, and every track
    assert _rows(old_store, "SELECT id, type FROM upload_jobs ORDER BY id") == [
        ("j1", "AUDIO"),
        ("j2", "AUDIO"),
    ]
    assert _rows(old_store, "SELECT id FROM tracks ORDER BY id") == [("t1",), ("t2",)]
    assert _rows(old_store, "SELECT analysis, stream_url FROM tracks WHERE id = 't1'") == [
        (None, None)
    ]


def test_upload_jobs_take_the_rendition_types_and_still_refuse_others(old_store: str) -> None:
    schema.upgrade(old_store)
    with get_engine(old_store).begin() as conn:
        for n, kind in enumerate(("STREAM", "PREVIEW", "WAVEFORM")):
            conn.execute(_job_insert(), _job(f"r{n}", "t1", kind, "PENDING"))
    with pytest.raises(IntegrityError), get_engine(old_store).begin() as conn:
        conn.execute(_job_insert(), _job("bad", "t1", "VIDEO", "PENDING"))


def test_the_downgrade_takes_processing_back_out(old_store: str) -> None:
    schema.upgrade(old_store)
    with get_engine(old_store).begin() as conn:
        conn.execute(_job_insert(), _job("s1", "t1", "STREAM", "PENDING"))
    testdb.downgrade(old_store, BEFORE)
    assert _rows(old_store, "SELECT id FROM upload_jobs ORDER BY id") == [("j1",), ("j2",)]
    with get_engine(old_store).connect() as conn:
        assert "track_processing" not in sa.inspect(conn).get_table_names()
        columns = {c["name"] for c in sa.inspect(conn).get_columns("tracks")}
    assert "analysis" not in columns
    with pytest.raises(IntegrityError), get_engine(old_store).begin() as conn:
        conn.execute(_job_insert(), _job("s2", "t1", "STREAM", "PENDING"))
