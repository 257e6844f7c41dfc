"""The moment between a processing thread renaming renditions into the spool and its one
recording transaction committing: a daemon dying there (or its record raising, the commit
unknown) leaves files no row may name yet. The next daemon settles them: it fences the dead
owner out of the task, then removes only what no job names. Both engines; the daemon's own
functions run in the test's process, with the death simulated where it falls."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from daemon.processing import INTENT, own_folder, record_outcome, sweep_abandoned
from tests.conftest import Cli, Media, spool_files
from tests.daemon.conftest import job_rows, stage_release, wait_for
from tests.support.daemon_work import LEASE
from vwaza_cli.processing.render import process_master
from vwaza_cli.processing.work import Outcome, Request
from vwaza_cli.services import processing
from vwaza_cli.services.context import Context
from vwaza_cli.services.processing import Task

DEAD = "dead-host:1:cafe0001"  # the daemon that dies
THREAD = f"{DEAD}/p0"


class Died(BaseException):
    """Where the simulated daemon stops: nothing after this line of it runs."""


@pytest.fixture
def ctx(env: Path) -> Context:
    return Context.from_environment()


@pytest.fixture
def claimed(ada: Cli, media: Media, ctx: Context) -> tuple[Task, Outcome, Path]:
    """One track claimed by the dead daemon's thread, its renditions made in that daemon's
    folder (unlocked: its process is gone), ready to be recorded."""
    stage_release(ada, media, tracks=1, seconds=2)
    task = processing.claim(ctx, THREAD, LEASE)
    assert task is not None
    folder = own_folder(ctx, DEAD)
    folder.mkdir(parents=True)
    request = Request(
        task.master_path, str(folder), task.track_id, task.measure, task.make, task.preview_start
    )
    return task, process_master(request), folder


def _processing_row(ctx: Context, track_id: str) -> dict[str, Any]:
    with ctx.tx() as session:
        row = session.execute(
            sa.text("SELECT * FROM track_processing WHERE track_id = :t"), {"t": track_id}
        ).mappings()
        return dict(row.one())


def _renditions_in_spool(home: Path) -> list[str]:
    return [name for name in spool_files(home) if name.endswith((".m4a", ".json"))]


def test_renditions_put_down_by_a_daemon_that_died_before_recording_are_removed_next_start(
    claimed: tuple[Task, Outcome, Path], ctx: Context, env: Path, mocker: Any
) -> None:
    task, outcome, folder = claimed
    mocker.patch("vwaza_cli.services.processing.record", side_effect=Died)
    with pytest.raises(Died):
        record_outcome(ctx, task, THREAD, outcome, folder)
    mocker.stopall()
    assert len(_renditions_in_spool(env)) == 3  # renamed in, no row names them
    assert len(list(folder.glob(f"*{INTENT}"))) == 1
    jobs_before = job_rows()

    assert sweep_abandoned(ctx) >= 3  # the next daemon's start

    assert _renditions_in_spool(env) == []
    assert not folder.exists()
    assert job_rows() == jobs_before  # nothing recorded, nothing else touched
    row = _processing_row(ctx, task.track_id)
    assert (row["status"], row["lease_owner"], row["attempts"]) == ("PENDING", None, 1)
    again = processing.claim(ctx, "next-daemon/p0", LEASE)  # due at once, for a new attempt
    assert again is not None
    assert again.track_id == task.track_id


def test_renditions_recorded_just_before_the_daemon_died_are_kept(
    claimed: tuple[Task, Outcome, Path], ctx: Context, env: Path, mocker: Any
) -> None:
    task, outcome, folder = claimed
    real_record = processing.record

    def commits_then_dies(*args: Any, **kwargs: Any) -> bool:
        assert real_record(*args, **kwargs)
        raise Died

    mocker.patch("vwaza_cli.services.processing.record", side_effect=commits_then_dies)
    with pytest.raises(Died):
        record_outcome(ctx, task, THREAD, outcome, folder)
    mocker.stopall()
    recorded = _renditions_in_spool(env)
    assert len(recorded) == 3

    sweep_abandoned(ctx)

    assert _renditions_in_spool(env) == recorded  # every job still finds its file
    named = {Path(j["local_path"]).name for j in job_rows() if j["local_path"]}
    assert set(recorded) <= named
    row = _processing_row(ctx, task.track_id)
    assert (row["status"], row["attempts"]) == ("DONE", 0)
    assert not folder.exists()


def test_a_record_still_committing_is_waited_for_before_anything_is_removed(
    claimed: tuple[Task, Outcome, Path], ctx: Context, env: Path, mocker: Any
) -> None:
    """The dead daemon's last transaction holds the row lock when the next daemon sweeps
    (on PostgreSQL a killed client's COMMIT can still be on its way): the sweep waits for
    it, then sees its jobs and keeps their files."""
    task, outcome, folder = claimed
    from vwaza_cli.db import processing as db

    locked, go = threading.Event(), threading.Event()
    real_lock = db.lock_leased

    def lock_then_wait(*args: Any, **kwargs: Any) -> Any:
        row = real_lock(*args, **kwargs)
        locked.set()
        assert go.wait(30)
        return row

    mocker.patch("vwaza_cli.db.processing.lock_leased", side_effect=lock_then_wait)
    recording = _thread(lambda: record_outcome(ctx, task, THREAD, outcome, folder))
    assert locked.wait(30)
    mocker.stopall()
    sweeping = _thread(lambda: sweep_abandoned(ctx))
    if ctx.settings.database_url.startswith("postgresql"):
        wait_for(lambda: _waiting_on_a_lock(ctx), timeout=10, what="the sweep to wait")
    go.set()
    assert recording.result() is True
    sweeping.result()

    recorded = _renditions_in_spool(env)
    assert len(recorded) == 3
    named = {Path(j["local_path"]).name for j in job_rows() if j["local_path"]}
    assert set(recorded) <= named
    assert _processing_row(ctx, task.track_id)["status"] == "DONE"


class _Result(threading.Thread):
    def __init__(self, action: Any) -> None:
        super().__init__(daemon=True)
        self._action = action
        self._value: Any = None
        self._error: BaseException | None = None

    def run(self) -> None:
        try:
            self._value = self._action()
        except BaseException as exc:  # handed to the test's thread
            self._error = exc

    def result(self) -> Any:
        self.join(60)
        assert not self.is_alive()
        if self._error is not None:
            raise self._error
        return self._value


def _thread(action: Any) -> _Result:
    thread = _Result(action)
    thread.start()
    return thread


def _waiting_on_a_lock(ctx: Context) -> bool:
    from vwaza_cli.db.engine import get_engine

    with get_engine(ctx.settings.database_url).connect() as conn:  # apart from the two
        waiting = conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        ).scalar_one()
    return bool(waiting)


def test_a_recording_and_an_upload_of_the_same_release_wait_for_each_other(
    claimed: tuple[Task, Outcome, Path], ctx: Context, env: Path, mocker: Any
) -> None:
    """The lock order: both take the release row first. The renditions' jobs reference the
    release, so a recording used to hold a key-share lock on it while the cover's upload
    completed (updating the release's row), each then waiting for the other's release
    lock: PostgreSQL's deadlock detector failed one of them."""
    from vwaza_cli.services import queue

    task, outcome, folder = claimed
    tickets = [queue.claim(ctx, "uploader", LEASE) for _ in range(2)]
    cover = next(t for t in tickets if t is not None and t.type.value == "COVER_ART")
    inserted, go = threading.Event(), threading.Event()
    real_mark_done = processing._mark_done

    def mark_done_then_wait(*args: Any, **kwargs: Any) -> None:
        real_mark_done(*args, **kwargs)  # the rendition jobs are inserted by now
        inserted.set()
        assert go.wait(30)

    mocker.patch("vwaza_cli.services.processing._mark_done", side_effect=mark_done_then_wait)
    recording = _thread(lambda: record_outcome(ctx, task, THREAD, outcome, folder))
    assert inserted.wait(30)
    completing = _thread(lambda: queue.complete(ctx, cover, "uploader", "https://cdn.test/c"))
    if ctx.settings.database_url.startswith("postgresql"):
        wait_for(lambda: _waiting_on_a_lock(ctx), timeout=10, what="the upload to wait")
    go.set()
    assert recording.result() is True
    assert completing.result() is True
    statuses = {j["type"]: j["status"] for j in job_rows()}
    assert statuses["COVER_ART"] == "COMPLETED"
