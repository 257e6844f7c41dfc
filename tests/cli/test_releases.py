"""Releases, tracks and review through the commands of cli.md, on both engines."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Cli, Media, spool_files, store_snapshot

pytestmark = pytest.mark.both_modes  # on one machine, and through a team server


def _release(cli: Cli, title: str = "Night Drive") -> dict:
    return cli.ok("release", "create", title, "--genre", "Electronic")


def _complete_release(cli: Cli, media: Media, tracks: int = 2) -> dict:
    release = _release(cli)
    for n in range(tracks):
        cli.ok("track", "add", release["id"], str(media.wav(f"t{n}.wav")), "--title", f"T{n}")
    cli.ok("release", "cover", release["id"], str(media.cover()))
    return release


def _upload_everything(ctx_env: Path) -> None:
    """What the daemon does, through the same service functions, without a network."""
    from tests.support.daemon_work import upload_everything

    upload_everything()


def _in_review(artist: Cli, media: Media, env: Path) -> dict:
    """A one-track release, uploaded and submitted: PENDING_REVIEW."""
    release = _complete_release(artist, media, tracks=1)
    _upload_everything(env)
    artist.ok("release", "submit", release["id"])
    return release


def _published(artist: Cli, admin: Cli, media: Media, env: Path) -> dict:
    release = _in_review(artist, media, env)
    admin.ok("review", "approve", release["id"])
    return release


def test_artist_takes_a_release_to_review_and_admin_publishes_it(
    ada: Cli, admin: Cli, media: Media, env: Path
) -> None:
    release = _complete_release(ada, media)
    submitted = ada.ok("release", "submit", release["id"][:8])
    assert submitted["status"] == "PROCESSING"  # uploads are still pending
    assert admin.ok("review", "list") == []
    _upload_everything(env)
    shown = ada.ok("release", "show", release["id"])
    assert shown["status"] == "PENDING_REVIEW"
    assert all(t["audio_file"].startswith("https://cdn.test/audio/") for t in shown["tracks"])
    assert shown["cover_art"].startswith("https://cdn.test/cover/")
    assert [r["id"] for r in admin.ok("review", "list")] == [release["id"]]
    assert admin.ok("review", "approve", release["id"])["status"] == "PUBLISHED"


def test_submit_moves_straight_to_review_when_nothing_is_left_to_upload(
    ada: Cli, media: Media, env: Path
) -> None:
    release = _complete_release(ada, media, tracks=1)
    _upload_everything(env)
    assert ada.ok("release", "submit", release["id"])["status"] == "PENDING_REVIEW"


@pytest.mark.parametrize("missing", ["cover", "tracks"])
def test_submit_of_an_incomplete_release_is_refused(
    ada: Cli, media: Media, store_url: str, missing: str
) -> None:
    release = _release(ada)
    if missing == "cover":
        ada.ok("track", "add", release["id"], str(media.wav()))
    else:
        ada.ok("release", "cover", release["id"], str(media.cover()))
    before = store_snapshot(store_url)
    outcome = ada("release", "submit", release["id"], "--json")
    assert outcome.exit_code == 5
    assert ("cover art" if missing == "cover" else "track") in outcome.error()["message"]
    assert store_snapshot(store_url) == before


def test_show_lists_tracks_in_order_with_duration_isrc_and_upload_state(
    ada: Cli, media: Media, env: Path
) -> None:
    release = _release(ada)
    ada.ok("track", "add", release["id"], str(media.wav("b.wav", seconds=1.0)), "--title", "B")
    ada.ok(
        "track",
        "add",
        release["id"],
        str(media.wav("a.wav")),
        "--title",
        "A",
        "--isrc",
        "us-rc1-76-07839",
    )
    shown = ada.ok("release", "show", release["id"])
    assert [(t["order"], t["title"]) for t in shown["tracks"]] == [(1, "B"), (2, "A")]
    assert shown["tracks"][0]["duration"] == pytest.approx(1.0, abs=0.01)
    assert shown["tracks"][1]["isrc"] == "USRC17607839"
    assert {t["upload_status"] for t in shown["tracks"]} == {"PENDING"}
    assert shown["rejection_reason"] is None
    staged = Path(shown["tracks"][0]["audio_file"])
    assert staged.is_absolute()
    assert staged.parent == env / "data" / "spool"


def test_staged_files_are_named_by_id_and_recorded_with_their_hash(
    ada: Cli, admin: Cli, media: Media, env: Path
) -> None:
    import hashlib

    release = _release(ada)
    hostile = media.wav("../../etc/passwd.wav".replace("/", "_"))
    track = ada.ok("track", "add", release["id"], str(hostile))
    job = next(j for j in admin.ok("jobs", "list") if j["target_id"] == track["id"])
    staged = Path(job["local_path"])
    assert staged.name == f"{job['id']}.wav"
    assert job["sha256"] == hashlib.sha256(hostile.read_bytes()).hexdigest()
    assert job["size"] == hostile.stat().st_size
    assert track["audio_file"] == job["local_path"]


def test_track_order_rules(ada: Cli, media: Media, store_url: str) -> None:
    release = _release(ada)
    ada.ok("track", "add", release["id"], str(media.wav("1.wav")))
    before, staged = store_snapshot(store_url), spool_files(Path(store_url))
    taken = ada("track", "add", release["id"], str(media.wav("2.wav")), "--order", "1", "--json")
    assert taken.exit_code == 5
    assert taken.error()["type"] == "conflict"
    gap = ada("track", "add", release["id"], str(media.wav("3.wav")), "--order", "5")
    assert gap.exit_code == 6
    assert store_snapshot(store_url) == before
    assert spool_files(Path(store_url)) == staged


def test_move_and_remove_keep_orders_one_to_n(ada: Cli, media: Media) -> None:
    release = _release(ada)
    ids = [
        ada.ok("track", "add", release["id"], str(media.wav(f"{n}.wav")), "--title", str(n))["id"]
        for n in range(1, 5)
    ]
    moved = ada.ok("track", "move", ids[3], "--to", "1")
    assert [t["title"] for t in moved] == ["4", "1", "2", "3"]
    assert [t["order"] for t in moved] == [1, 2, 3, 4]
    moved = ada.ok("track", "move", ids[3], "--to", "4")
    assert [t["title"] for t in moved] == ["1", "2", "3", "4"]
    staged = Path(ada.ok("track", "list", release["id"])[1]["audio_file"])
    assert staged.exists()
    ada.ok("track", "remove", ids[1])
    assert not staged.exists()  # its staged file goes with it
    listed = ada.ok("track", "list", release["id"])
    assert [(t["order"], t["title"]) for t in listed] == [(1, "1"), (2, "3"), (3, "4")]
    assert ada("track", "move", ids[0], "--to", "9").exit_code == 6


def test_bad_isrc_is_refused_and_nothing_is_staged(
    ada: Cli, media: Media, env: Path, store_url: str
) -> None:
    release = _release(ada)
    before = store_snapshot(store_url)
    outcome = ada("track", "add", release["id"], str(media.wav()), "--isrc", "NOT-AN-ISRC")
    assert outcome.exit_code == 6
    assert outcome.stderr.startswith("error: invalid ISRC")
    assert store_snapshot(store_url) == before
    assert spool_files(env) == []


def test_track_edit_normalises_isrc_and_title(ada: Cli, media: Media) -> None:
    release = _release(ada)
    track = ada.ok("track", "add", release["id"], str(media.wav()))
    edited = ada.ok("track", "edit", track["id"], "--title", "Intro", "--isrc", "gb-aaa-99-00001")
    assert (edited["title"], edited["isrc"]) == ("Intro", "GBAAA9900001")
    assert ada.ok("track", "edit", track["id"], "--isrc", "")["isrc"] is None


@pytest.mark.parametrize(
    "content",
    [b"", b"ID3" + b"\x00" * 100, b"RIFF\x00\x00\x00\x00WAVEfmt ", b"\x89PNG\r\n\x1a\n" * 20],
    ids=["empty", "id3-only", "riff-header-only", "png-named-wav"],
)
def test_broken_audio_is_refused_cleanly(
    ada: Cli, media: Media, env: Path, store_url: str, content: bytes
) -> None:
    release = _release(ada)
    before = store_snapshot(store_url)
    outcome = ada("track", "add", release["id"], str(media.junk("bad\x1b[31m.wav", content)))
    assert outcome.exit_code == 6
    assert outcome.stderr.startswith("error: ")
    assert outcome.stderr.count("\n") == 1
    assert "\x1b" not in outcome.stderr
    assert "Traceback" not in outcome.stderr
    assert store_snapshot(store_url) == before
    assert spool_files(env) == []


def test_missing_file_and_folder_are_refused(ada: Cli, media: Media, env: Path) -> None:
    release = _release(ada)
    assert ada("track", "add", release["id"], str(media.folder / "nope.wav")).exit_code == 6
    assert ada("track", "add", release["id"], str(media.folder)).exit_code == 6
    assert spool_files(env) == []


def test_fifos_devices_and_symlink_loops_are_refused_without_hanging(
    ada: Cli, media: Media, env: Path
) -> None:
    import os

    release = _release(ada)
    fifo = media.folder / "pipe.wav"
    os.mkfifo(fifo)
    loop_a, loop_b = media.folder / "a.wav", media.folder / "b.wav"
    loop_a.symlink_to(loop_b)
    loop_b.symlink_to(loop_a)
    for path in (fifo, Path("/dev/zero"), loop_a):
        outcome = ada("track", "add", release["id"], str(path))
        assert outcome.exit_code == 6, path
        assert outcome.stderr.count("\n") == 1
    assert spool_files(env) == []


def test_bad_cover_is_refused_and_a_new_cover_replaces_the_waiting_one(
    ada: Cli, admin: Cli, media: Media, env: Path
) -> None:
    release = _release(ada)
    small = ada("release", "cover", release["id"], str(media.cover("small.jpg", size=500)))
    assert small.exit_code == 6
    assert spool_files(env) == []
    first = ada.ok("release", "cover", release["id"], str(media.cover("a.jpg")))
    assert first["warnings"]  # below 3000 x 3000
    second = ada.ok("release", "cover", release["id"], str(media.cover("b.jpg", size=1100)))
    cover_jobs = [j for j in admin.ok("jobs", "list") if j["type"] == "COVER_ART"]
    assert [j["id"] for j in cover_jobs] == [second["upload_job_id"]]
    assert spool_files(env) == [Path(second["cover_art"]).name]


def test_create_with_a_bad_cover_leaves_no_release(ada: Cli, media: Media, env: Path) -> None:
    outcome = ada("release", "create", "X", "--genre", "Y", "--cover", str(media.junk("c.jpg")))
    assert outcome.exit_code == 6
    assert ada.ok("release", "list") == []


def test_reject_then_edit_and_resubmit(ada: Cli, admin: Cli, media: Media, env: Path) -> None:
    release = _in_review(ada, media, env)
    assert admin("review", "reject", release["id"], "--reason", "  ").exit_code == 6
    admin.ok("review", "reject", release["id"], "--reason", "Cover is blurry")
    shown = ada.ok("release", "show", release["id"])
    assert (shown["status"], shown["rejection_reason"]) == ("REJECTED", "Cover is blurry")
    ada.ok("release", "edit", release["id"], "--title", "Night Drive (fixed)")
    assert ada.ok("release", "submit", release["id"])["status"] == "PENDING_REVIEW"
    assert ada.ok("release", "show", release["id"])["rejection_reason"] is None


def test_published_is_frozen_for_artists_but_not_for_admins(
    ada: Cli, admin: Cli, media: Media, env: Path, store_url: str
) -> None:
    release = _published(ada, admin, media, env)
    before = store_snapshot(store_url)
    assert ada("release", "edit", release["id"], "--title", "New").exit_code == 5
    assert ada("release", "delete", release["id"], "--yes").exit_code == 5
    assert ada("track", "add", release["id"], str(media.wav())).exit_code == 5
    assert admin("review", "approve", release["id"]).exit_code == 5
    assert store_snapshot(store_url) == before
    assert admin.ok("release", "delete", release["id"], "--yes")["deleted"] is True


def test_delete_release_removes_its_staged_files(ada: Cli, media: Media, env: Path) -> None:
    release = _complete_release(ada, media)
    assert len(spool_files(env)) == 3
    result = ada.ok("release", "delete", release["id"], "--yes")
    assert result["staged_files_removed"] == 3
    assert spool_files(env) == []


def test_user_delete_removes_staged_files(ada: Cli, admin: Cli, media: Media, env: Path) -> None:
    _complete_release(ada, media)
    admin.ok("admin", "user", "delete", "ada@example.com", "--yes")
    assert spool_files(env) == []


def test_list_filters_pages_and_admin_sees_all(initialised: Cli, people: dict[str, str]) -> None:
    ada, bo, admin = (initialised.as_user(people[k]) for k in ("ada", "bo", "admin"))
    for n in range(3):
        _release(ada, f"Ada {n}")
    _release(bo, "Bo 0")
    assert len(ada.ok("release", "list")) == 3
    assert len(ada.ok("release", "list", "--limit", "2", "--page", "2")) == 1
    assert ada.ok("release", "list", "--status", "published") == []
    assert len(admin.ok("release", "list", "--all")) == 4
    assert ada("release", "list", "--all").exit_code == 4
    assert ada("release", "list", "--status", "NOPE").exit_code == 6


def test_review_list_is_oldest_first_and_admin_only(
    ada: Cli, admin: Cli, media: Media, env: Path, mocker
) -> None:
    from datetime import timedelta

    from vwaza_cli import clock

    first = _complete_release(ada, media, tracks=1)
    second = _complete_release(ada, media, tracks=1)
    _upload_everything(env)
    start = clock.now()
    mocker.patch("vwaza_cli.clock.now", return_value=start)
    ada.ok("release", "submit", second["id"])
    mocker.patch("vwaza_cli.clock.now", return_value=start + timedelta(minutes=1))
    ada.ok("release", "submit", first["id"])
    mocker.stopall()
    assert [r["id"] for r in admin.ok("review", "list")] == [second["id"], first["id"]]
    assert ada("review", "list").exit_code == 4


def test_id_prefixes(ada: Cli) -> None:
    release = _release(ada)
    assert ada.ok("release", "show", release["id"][:8])["id"] == release["id"]
    assert ada("release", "show", release["id"][:7]).exit_code == 6
    assert ada("release", "show", "zzzzzzzz").exit_code == 3
    assert ada("release", "show", "%%%%%%%%").exit_code == 3
