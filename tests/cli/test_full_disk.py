"""A full disk while staging a file or writing the store (cli.md, "Integrity and abuse"):
exit 7, one line naming the full folder and saying to free space, nothing left behind.

The spool is filled two ways: by a fault injected into the copy's writes (any user, both
engines), and for real on a small tmpfs (root only). The store is filled for real: SQLite on
a tmpfs (root only; `test_db_full.py` has a SQLite store full without root), PostgreSQL by the
server's own disk_full error raised from a trigger.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli, Media, spool_files, store_snapshot

FULL_AT = 1_500_000  # past the first 1 MiB block, inside the second: a partial write


def _release(ada: Cli) -> str:
    return ada.ok("release", "create", "Night Drive", "--genre", "Electronic")["id"]


def _assert_one_full_line(outcome: Any, folder: Path | str) -> None:
    assert outcome.exit_code == 7, outcome.stderr
    lines = outcome.stderr.splitlines()
    assert len(lines) == 1, outcome.stderr
    assert lines[0].startswith("error: ")
    assert str(folder) in lines[0]
    assert "free space" in lines[0]
    assert "Traceback" not in outcome.stderr


def _writes_fail_at(limit: int, error: int) -> Callable[[int, Any], int]:
    """os.write that lets ``limit`` bytes into spool temp files, then fails with ``error``,
    as a disk does that fills up in the middle of a write."""
    real_write = os.write
    written = [0]

    def write(fd: int, data: Any) -> int:
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            target = ""
        if not target.endswith(".part"):
            return real_write(fd, data)
        room = limit - written[0]
        if room <= 0:
            raise OSError(error, os.strerror(error))
        count = real_write(fd, bytes(memoryview(data)[:room]))
        written[0] += count
        return count

    return write


@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EDQUOT, errno.EFBIG])
def test_a_spool_that_fills_up_mid_copy_is_unavailable_and_keeps_nothing(
    ada: Cli, media: Media, env: Path, store_url: str, monkeypatch: pytest.MonkeyPatch, error: int
) -> None:
    release = _release(ada)
    song = media.wav(seconds=20)  # about 1.7 MB: two blocks
    before = store_snapshot(store_url)
    monkeypatch.setattr(os, "write", _writes_fail_at(FULL_AT, error))
    outcome = ada("track", "add", release, str(song))
    _assert_one_full_line(outcome, env / "data" / "spool")
    assert spool_files(env) == []
    assert store_snapshot(store_url) == before


def test_a_full_spool_says_so_with_json_too(
    ada: Cli, media: Media, env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = _release(ada)
    monkeypatch.setattr(os, "write", _writes_fail_at(0, errno.ENOSPC))
    outcome = ada("release", "cover", release, str(media.cover()), "--json")
    assert outcome.exit_code == 7
    assert outcome.error()["type"] == "unavailable"
    assert str(env / "data" / "spool") in outcome.error()["message"]
    assert spool_files(env) == []


def test_a_spool_that_cannot_take_the_rename_keeps_nothing(
    ada: Cli, media: Media, env: Path, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = _release(ada)
    before = store_snapshot(store_url)

    def no_room(*_: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("vwaza_cli.services.spool.fsync_dir", no_room)
    outcome = ada("track", "add", release, str(media.wav()))
    _assert_one_full_line(outcome, env / "data" / "spool")
    assert spool_files(env) == []
    assert store_snapshot(store_url) == before


# --- for real, on a small tmpfs -------------------------------------------------------------


@contextmanager
def small_tmpfs(folder: Path, size: str = "2m") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted on ``folder``, or a skip saying why there cannot be one."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root; the injected-fault tests cover the rest")
    folder.mkdir(parents=True, exist_ok=True)
    options = f"size={size},mode=0700"
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "--lazy", str(folder)], check=False)


def fill(folder: Path) -> Path:
    """Write into ``folder`` until its file system says it is full."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        with pytest.raises(OSError, match="No space left"):
            _write_forever(fd)
    finally:
        os.close(fd)
    return filler


def _write_forever(fd: int) -> None:
    while True:
        os.write(fd, b"\0" * 65536)


def test_a_really_full_spool_on_a_small_tmpfs(
    ada: Cli, media: Media, env: Path, store_url: str
) -> None:
    release = _release(ada)
    song = media.wav(seconds=30)  # about 2.6 MB, on a 2 MB file system
    before = store_snapshot(store_url)
    with small_tmpfs(env / "data" / "spool") as spool:
        outcome = ada("track", "add", release, str(song))
        _assert_one_full_line(outcome, spool)
        assert spool_files(env) == []
    assert store_snapshot(store_url) == before


# --- the store -----------------------------------------------------------------------------


@dataclass
class FullStore:
    url: str
    where: str  # what the error line must name
    make_room: Callable[[], None]


@contextmanager
def _sqlite_store_on_a_full_tmpfs(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, held_open: bool
) -> Iterator[FullStore]:
    """The store moved onto a tmpfs that is then filled. ``held_open``: a connection stays
    open meanwhile (as a running daemon's does), so SQLite says SQLITE_FULL when its journal
    cannot grow; otherwise it cannot even size its -shm file, which it calls an I/O error."""
    from vwaza_cli.db.engine import dispose_engines, get_engine

    dispose_engines()  # the journal checkpointed into the file copied below
    with small_tmpfs(tmp_path / "store-disk") as disk:
        shutil.copy2(url.removeprefix("sqlite:///"), disk / "vwaza.db")
        moved = f"sqlite:///{disk / 'vwaza.db'}"
        monkeypatch.setenv("VWAZA_DATABASE_URL", moved)
        if held_open:
            get_engine(moved).connect().close()  # back to the pool, still open
        filler = fill(disk)
        try:
            yield FullStore(moved, str(disk), lambda: filler.unlink(missing_ok=True))
        finally:
            dispose_engines()


@contextmanager
def _pg_store_that_is_full(url: str) -> Iterator[FullStore]:
    """The server's own disk_full error (SQLSTATE 53100) on the first insert of a job."""
    import sqlalchemy as sa

    from vwaza_cli.db.engine import get_engine

    full = """CREATE FUNCTION pretend_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'
        USING ERRCODE = 'disk_full'; END $$"""
    trigger = (
        "CREATE TRIGGER disk_full BEFORE INSERT ON upload_jobs "
        "FOR EACH ROW EXECUTE FUNCTION pretend_disk_full()"
    )
    with get_engine(url).begin() as conn:
        conn.execute(sa.text(full))
        conn.execute(sa.text(trigger))
    try:
        yield FullStore(url, "database server", lambda: None)
    finally:
        with get_engine(url).begin() as conn:
            conn.execute(sa.text("DROP TRIGGER disk_full ON upload_jobs"))
            conn.execute(sa.text("DROP FUNCTION pretend_disk_full()"))


@pytest.mark.parametrize("held_open", [True, False], ids=["in-use", "idle"])
def test_a_full_store_is_unavailable_names_it_and_keeps_nothing(
    ada: Cli,
    media: Media,
    env: Path,
    store_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    held_open: bool,
) -> None:
    release = _release(ada)
    song = media.wav()
    before = store_snapshot(store_url)
    if store_url.startswith("sqlite"):
        full = _sqlite_store_on_a_full_tmpfs(store_url, tmp_path, monkeypatch, held_open)
    elif held_open:
        full = _pg_store_that_is_full(store_url)
    else:
        pytest.skip("PostgreSQL has one disk_full error: the in-use case tests it")
    with full as store:
        outcome = ada("track", "add", release, str(song))
        _assert_one_full_line(outcome, store.where)
        assert spool_files(env) == []
        store.make_room()
        assert store_snapshot(store.url) == before
