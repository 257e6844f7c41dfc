"""How catalog import stages files (issue 12): checked in place (a dry run writes nothing),
each distinct file copied once, each release committed as soon as its files are in, Ctrl-C
keeping what finished and nothing half-made, and a daemon's sweep that leaves an import's
staged files alone. On both engines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Cli, spool_files, store_snapshot
from tests.support.media_factory import make_cover, make_wav

REPO = Path(__file__).resolve().parents[2]
CHUNK = 1024 * 1024  # spool.CHUNK: the first block of a copy


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "label"
    path.mkdir()
    make_wav(path / "01.wav", seconds=0.3, channels=1)
    make_wav(path / "02.wav", seconds=0.4, channels=1)
    make_wav(path / "slow.wav", seconds=15)  # 2.6 MB: more than one block to copy
    make_cover(path / "one.jpg", size=1000)
    make_cover(path / "shared.jpg", size=1000)
    return path


def catalog(folder: Path, releases: list[dict], name: str = "c.json") -> Path:
    path = folder / name
    path.write_text(json.dumps({"releases": releases}), encoding="utf-8")
    return path


def release(external_id: str, cover: str, *files: str) -> dict:
    return {
        "external_id": external_id,
        "title": f"Title {external_id}",
        "genre": "Pop",
        "cover_art": cover,
        "tracks": [{"title": f"Song {n}", "file": f} for n, f in enumerate(files, start=1)],
    }


def everything_under(folder: Path) -> list[str]:
    if not folder.exists():
        return []
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def staged_paths(store_url: str) -> set[str]:
    import sqlalchemy as sa

    from vwaza_cli.db.engine import get_engine

    with get_engine(store_url).connect() as conn:
        return {row[0] for row in conn.execute(sa.text("SELECT local_path FROM upload_jobs"))}


def test_a_dry_run_writes_nothing_at_all(ada: Cli, folder: Path, env: Path, store_url: str) -> None:
    path = catalog(folder, [release("A-1", "one.jpg", "01.wav", "slow.wav")])
    data, before = env / "data", store_snapshot(store_url)
    files_before = everything_under(data)
    report = ada.ok("catalog", "import", str(path), "--dry-run")
    assert report["would_create"] == 1
    assert everything_under(data) == files_before  # no spool folder, temp file or lock
    assert store_snapshot(store_url) == before


def test_a_file_named_many_times_is_copied_once(
    ada: Cli, folder: Path, env: Path, store_url: str
) -> None:
    releases = [release(f"A-{n}", "shared.jpg", "01.wav", "01.wav") for n in range(1, 6)]
    report = ada.ok("catalog", "import", str(catalog(folder, releases)))
    assert report["created"] == 5
    paths = staged_paths(store_url)
    assert len(paths) == 15  # a spool file per job, named by the job
    inodes = {os.stat(p).st_ino for p in paths}
    assert len(inodes) == 2  # but the bytes of two files: one cover, one audio file
    assert {os.stat(p).st_nlink for p in paths} == {5, 10}
    assert everything_under(env / "data" / "spool" / ".incoming") == []


def test_a_file_named_in_two_ways_is_one_file(ada: Cli, folder: Path, store_url: str) -> None:
    absolute = str(folder / "01.wav")
    releases = [release("A-1", "one.jpg", "01.wav", absolute, f"file://{absolute}")]
    assert ada.ok("catalog", "import", str(catalog(folder, releases)))["created"] == 1
    paths = staged_paths(store_url)
    assert len(paths) == 4
    assert len({os.stat(p).st_ino for p in paths}) == 2


def test_a_file_changed_after_its_check_is_refused_and_what_was_written_stays(
    ada: Cli, folder: Path, env: Path, store_url: str, mocker
) -> None:
    """The bytes staged are the bytes checked: a file rewritten between the two passes
    stops the import at that release, whose files are removed."""
    from vwaza_cli.services import catalog as service

    path = catalog(
        folder, [release("A-1", "one.jpg", "01.wav"), release("A-2", "one.jpg", "02.wav")]
    )
    real = service._write_all

    def rewrite_then_write(*args, **kwargs):
        make_wav(folder / "02.wav", seconds=0.2, channels=1)  # other bytes, same name
        return real(*args, **kwargs)

    mocker.patch.object(service, "_write_all", side_effect=rewrite_then_write)
    outcome = ada("catalog", "import", str(path))
    mocker.stopall()
    assert outcome.exit_code == 6
    assert "02.wav: changed since it was checked: run the import again" in outcome.stderr
    assert [r["title"] for r in ada.ok("release", "list")] == ["Title A-1"]
    assert set(spool_files(env)) == {Path(p).name for p in staged_paths(store_url)}
    assert ada.ok("catalog", "import", str(path))["created"] == 1


# --- a real import, interrupted -----------------------------------------------------------

# The import, with the copy of any file named slow* held after its first block: the test
# sees the half-copied .part appear, then sends SIGINT (signal.pause returns on it).
HELD_IMPORT = """
import signal, sys
from vwaza_cli.services import spool
real = spool._read_blocks

def held(reader, label):
    for block in real(reader, label):
        yield block
        if "slow" in label:
            signal.pause()

spool._read_blocks = held
sys.argv = ["vwaza", "catalog", "import", sys.argv[1]]
from vwaza_cli.cli.main import run
run()
"""


def wait_for(condition, what: str, deadline: float = 60.0):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        found = condition()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def held_import(
    folder: Path, env: Path, people: dict[str, str]
) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """An import of three releases, held half-way through copying release 2's slow.wav:
    release 1 is committed; release 2's cover (shared with release 3) is staged, its copy
    kept in the spool's incoming folder for release 3."""
    path = catalog(
        folder,
        [
            release("A-1", "one.jpg", "01.wav"),
            release("A-2", "shared.jpg", "02.wav", "slow.wav"),
            release("A-3", "shared.jpg", "01.wav"),
        ],
    )
    process = subprocess.Popen(
        [sys.executable, "-c", HELD_IMPORT, str(path)],
        cwd=REPO,
        env={**os.environ, "VWAZA_TOKEN": people["ada"], "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    incoming = env / "data" / "spool" / ".incoming"

    def held() -> bool:
        return any(p.stat().st_size == CHUNK for p in incoming.glob("*.part"))

    try:
        wait_for(lambda: held() or process.poll() is not None, "the copy of slow.wav")
        assert process.poll() is None, process.communicate()
        yield process, path
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


def interrupt(process: subprocess.Popen[str]) -> tuple[int, str]:
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    return process.returncode, stderr


def test_ctrl_c_keeps_the_releases_done_and_no_partial_file(
    held_import, ada: Cli, env: Path, store_url: str
) -> None:
    process, path = held_import
    code, stderr = interrupt(process)
    assert code == 130
    assert stderr.strip().splitlines()[-1] == (
        "interrupted: 1 release(s) imported, kept; run the same import again for the rest"
    )
    assert everything_under(env / "data" / "spool" / ".incoming") == []
    # release 1 and its two files; nothing of release 2 (its cover link, its first track)
    assert [r["title"] for r in ada.ok("release", "list")] == ["Title A-1"]
    assert set(spool_files(env)) == {Path(p).name for p in staged_paths(store_url)}
    assert len(spool_files(env)) == 2
    again = ada.ok("catalog", "import", str(path))
    assert [r["result"] for r in again["releases"]] == ["skipped", "created", "created"]
    assert len(spool_files(env)) == 2 + 3 + 2


def test_the_sweep_leaves_an_import_s_staged_files_alone(
    held_import, env: Path, store_url: str
) -> None:
    from vwaza_cli.services.context import Context
    from vwaza_cli.services.sweep import sweep

    process, _ = held_import
    spool = env / "data" / "spool"
    orphan = spool / "0f0f0f0f-an-old-orphan.wav"
    orphan.write_bytes(b"a file whose row never came")
    staged = everything_under(spool)
    unreferenced = [
        p for p in spool.iterdir() if p.is_file() and str(p) not in staged_paths(store_url)
    ]
    assert len(unreferenced) == 3  # release 2's cover and first track (no row yet), the orphan
    report = sweep(Context.from_environment(), grace_seconds=0)  # everything counts as old
    assert (report.stale_temp_files, report.orphan_files) == (0, 0)
    assert everything_under(spool) == staged
    code, _ = interrupt(process)
    assert code == 130
    report = sweep(Context.from_environment(), grace_seconds=0)  # no import: it sweeps
    assert report.orphan_files == 1
    assert not orphan.exists()


def test_a_release_another_import_created_meanwhile_is_skipped_and_its_files_removed(
    ada: Cli, folder: Path, env: Path, store_url: str, mocker
) -> None:
    """Between validation and writing, another import creates A-1: this one skips it (its
    external_id is taken), keeps no file of it, and writes the rest."""
    from vwaza_cli.db import catalog as db_catalog
    from vwaza_cli.db.models import column_values
    from vwaza_cli.services import catalog as service
    from vwaza_cli.services.context import Context
    from vwaza_cli.services.releases import new_release

    path = catalog(
        folder, [release("A-1", "one.jpg", "01.wav"), release("A-2", "shared.jpg", "02.wav")]
    )
    real = service._validate

    def validate_then_someone_imports(*args, **kwargs):
        summaries, problems = real(*args, **kwargs)
        theirs = new_release(summaries[0].artist_id, "Theirs", "Pop", "A-1")
        with Context.from_environment().tx() as session:
            assert db_catalog.insert_release(session, db_catalog.ReleaseRows(column_values(theirs)))
        return summaries, problems

    mocker.patch.object(service, "_validate", side_effect=validate_then_someone_imports)
    report = ada.ok("catalog", "import", str(path))
    assert [r["result"] for r in report["releases"]] == ["skipped", "created"]
    assert sorted(r["title"] for r in ada.ok("release", "list")) == ["Theirs", "Title A-2"]
    assert set(spool_files(env)) == {Path(p).name for p in staged_paths(store_url)}
    assert len(spool_files(env)) == 2  # A-2's cover and track
