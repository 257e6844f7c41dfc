"""What a hostile or careless user could do, refused cleanly (found in review)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.cli.test_releases import _in_review, _published
from tests.conftest import Cli, Media, spool_files, store_snapshot

pytestmark = pytest.mark.both_modes  # on one machine, and through a team server

ESC = "\x1b[2J\x1b[31m"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_internal_errors_never_quote_sql_parameters(capsys) -> None:
    from sqlalchemy.exc import IntegrityError

    from vwaza_cli.cli.output import report_internal

    exc = IntegrityError("INSERT ...", {"password_hash": "$2b$04$secret"}, Exception("x"))
    report_internal(exc)
    err = capsys.readouterr().err
    assert "$2b$" not in err
    assert "IntegrityError" in err


@pytest.mark.parametrize(
    "args",
    [
        ["auth", "register", "--email", f"e{ESC}@x.com", "--artist-name", "A"],
        ["auth", "register", "--email", "e@x.com", "--artist-name", f"A{ESC}"],
        ["auth", "register", "--email", "e@x.com", "--artist-name", "n" * 201],
    ],
)
def test_control_characters_and_overlong_names_are_refused_at_registration(
    initialised: Cli, args: list[str]
) -> None:
    outcome = initialised(*args, "--password-stdin", input="long enough password\n")
    assert outcome.exit_code == 6
    assert "\x1b" not in outcome.stderr


@pytest.mark.parametrize("title", [f"T{ESC}", "T\x9b31m", "abc\u202edcba", "a\nb"])
def test_titles_with_terminal_or_bidi_controls_are_refused(ada: Cli, title: str) -> None:
    assert ada("release", "create", title, "--genre", "G").exit_code == 6


def test_a_rejection_reason_cannot_carry_escape_sequences(
    ada: Cli, admin: Cli, media: Media, env: Path
) -> None:
    release = _in_review(ada, media, env)
    assert admin("review", "reject", release["id"], "--reason", f"bad{ESC}").exit_code == 6
    assert ada.ok("release", "show", release["id"])["status"] == "PENDING_REVIEW"


def test_the_store_and_the_spool_are_private(
    ada: Cli, media: Media, env: Path, store_url: str
) -> None:
    release = ada.ok("release", "create", "X", "--genre", "Y")
    track = ada.ok("track", "add", release["id"], str(media.wav()))
    assert _mode(Path(track["audio_file"])) == 0o600
    assert _mode(env / "data" / "spool") == 0o700
    if store_url.startswith("sqlite"):
        assert _mode(Path(store_url.removeprefix("sqlite:///"))) & 0o077 == 0


def test_init_makes_a_private_sqlite_file(cli: Cli, home: Path, monkeypatch) -> None:
    db = home / "fresh" / "vwaza.db"
    monkeypatch.setenv("VWAZA_DATABASE_URL", f"sqlite:///{db}")
    cli.ok("init")
    assert _mode(db) == 0o600
    assert _mode(db.parent) == 0o700


def test_a_mistyped_sqlite_url_creates_nothing(
    cli: Cli, cli_mode: str, tmp_path: Path, monkeypatch
) -> None:
    if cli_mode != "local":
        pytest.skip(
            "this machine's VWAZA_DATABASE_URL: a client of a team server uses the server's "
            "store and ignores it (cli.md, team mode)"
        )
    missing = tmp_path / "no" / "such" / "dir" / "x.db"
    monkeypatch.setenv("VWAZA_DATABASE_URL", f"sqlite:///{missing}")
    outcome = cli(
        "auth",
        "register",
        "--email",
        "a@b.co",
        "--artist-name",
        "A",
        "--password-stdin",
        input="long enough password\n",
    )
    assert outcome.exit_code == 7
    assert "vwaza init" in outcome.stderr
    assert cli.ok("db", "current")["revision"] is None
    assert not (tmp_path / "no").exists()


def test_a_bogus_database_url_is_a_usage_error(cli: Cli, monkeypatch) -> None:
    # issue 12: an engine the tool does not support is a usage error (2) naming the supported ones
    monkeypatch.setenv("VWAZA_DATABASE_URL", "bogus://x")
    outcome = cli("db", "current")
    assert outcome.exit_code == 2
    assert "VWAZA_DATABASE_URL" in outcome.stderr
    assert "SQLite or PostgreSQL" in outcome.stderr


def test_a_huge_cover_is_refused_before_anything_is_copied(
    ada: Cli, tmp_path: Path, env: Path
) -> None:
    huge = tmp_path / "huge.jpg"
    with huge.open("wb") as out:
        out.truncate(2 * 1024**3)  # sparse: costs no disk
    release = ada.ok("release", "create", "X", "--genre", "Y")
    outcome = ada("release", "cover", release["id"], str(huge))
    assert outcome.exit_code == 6
    assert "too big" in outcome.stderr
    assert spool_files(env) == []


def test_catalog_import_of_devices_and_fifos_does_not_hang(ada: Cli, tmp_path: Path) -> None:
    fifo = tmp_path / "c.json"
    os.mkfifo(fifo)
    for path in ("/dev/zero", str(fifo)):
        assert ada("catalog", "import", path).exit_code == 6


def test_catalog_export_to_a_folder_is_refused_and_leaves_nothing(ada: Cli, tmp_path: Path) -> None:
    before = sorted(tmp_path.parent.iterdir())
    outcome = ada("catalog", "export", "--output", str(tmp_path))
    assert outcome.exit_code == 6
    assert sorted(tmp_path.parent.iterdir()) == before


def test_nobody_changes_a_published_release_not_even_an_admin(
    ada: Cli, admin: Cli, media: Media, env: Path, store_url: str
) -> None:
    release = _published(ada, admin, media, env)
    before = store_snapshot(store_url)
    assert admin("track", "add", release["id"], str(media.wav("x.wav"))).exit_code == 5
    assert admin("release", "cover", release["id"], str(media.cover("y.jpg"))).exit_code == 5
    assert store_snapshot(store_url) == before


def test_a_huge_order_is_invalid_not_a_crash(ada: Cli, media: Media) -> None:
    release = ada.ok("release", "create", "X", "--genre", "Y")
    outcome = ada("track", "add", release["id"], str(media.wav()), "--order", "9" * 20)
    assert outcome.exit_code == 6


def test_track_remove_reports_the_real_upload_state(ada: Cli, media: Media) -> None:
    release = ada.ok("release", "create", "X", "--genre", "Y")
    track = ada.ok("track", "add", release["id"], str(media.wav()))
    assert ada.ok("track", "remove", track["id"])["upload_status"] == "PENDING"


def test_a_password_prompt_without_a_terminal_is_a_usage_error(initialised: Cli) -> None:
    outcome = initialised("auth", "login", "--email", "a@example.com")
    assert outcome.exit_code == 2
    assert "--password-stdin" in outcome.stderr


def test_usage_errors_come_as_json_with_json(ada: Cli) -> None:
    outcome = ada("review", "reject", "12345678", "--json")
    assert outcome.exit_code == 2
    assert outcome.error()["type"] == "usage"
    assert ada("jobs", "retry").exit_code == 2


def test_an_artist_sees_only_their_own_upload_errors(
    ada: Cli, initialised: Cli, people: dict[str, str], media: Media
) -> None:
    import sqlalchemy as sa

    from vwaza_cli.db.models import UploadJob
    from vwaza_cli.services.context import Context

    release = ada.ok("release", "create", "X", "--genre", "Y")
    ada.ok("track", "add", release["id"], str(media.wav()))
    with Context.from_environment().tx() as session:
        session.execute(sa.update(UploadJob).values(error_log="boom"))
    bo = initialised.as_user(people["bo"])
    assert bo.ok("daemon", "status")["last_errors"] == []
    assert len(ada.ok("daemon", "status")["last_errors"]) == 1


def test_jobs_retry_of_one_job_prints_the_job(ada: Cli, media: Media) -> None:
    import sqlalchemy as sa

    from vwaza_cli.db.models import JobStatus, UploadJob
    from vwaza_cli.services.context import Context

    release = ada.ok("release", "create", "X", "--genre", "Y")
    job_id = ada.ok("track", "add", release["id"], str(media.wav()))["upload_job_id"]
    with Context.from_environment().tx() as session:
        session.execute(sa.update(UploadJob).values(status=JobStatus.FAILED))
    job = ada.ok("jobs", "retry", job_id[:8])
    assert (job["id"], job["status"]) == (job_id, "PENDING")
    assert ada("jobs", "retry", job_id[:8]).exit_code == 5  # no longer FAILED


def test_logout_with_vwaza_token_keeps_the_saved_login(initialised: Cli, people: dict) -> None:
    from tests.conftest import sign_up

    saved = sign_up(initialised, "cy@example.com", "Cy")  # the saved login is Cy's
    initialised.ok("auth", "logout", token=people["ada"])
    assert initialised.ok("auth", "whoami", token="")["email"] == "cy@example.com"
    assert initialised("auth", "whoami", token=people["ada"]).exit_code == 4
    del saved
