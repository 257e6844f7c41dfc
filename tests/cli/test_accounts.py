"""The accounts part of the contract (cli.md), on both engines."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import Cli, forget_saved_login, make_admin, sign_up

pytestmark = pytest.mark.both_modes  # on one machine, and through a team server

PASSWORD = "correct horse"


def _register(cli: Cli, email: str, password: str = PASSWORD, name: str = "Ada"):
    return cli(
        "auth",
        "register",
        "--email",
        email,
        "--artist-name",
        name,
        "--password-stdin",
        "--json",
        input=password + "\n",
    )


def _login(cli: Cli, email: str, password: str = PASSWORD):
    return cli(
        "auth", "login", "--email", email, "--password-stdin", "--json", input=password + "\n"
    )


def test_any_command_on_an_uninitialised_store_says_run_init(
    home: Path, unmigrated_url: str, monkeypatch
) -> None:
    monkeypatch.setenv("VWAZA_DATABASE_URL", unmigrated_url)
    outcome = _register(Cli(), "ada@example.com")
    assert outcome.exit_code == 7
    assert "run `vwaza init`" in outcome.stderr


def test_init_is_idempotent_and_creates_the_first_admin_once(cli: Cli) -> None:
    first = cli.ok(
        "init", "--admin-email", "root@example.com", "--password-stdin", input="admin password\n"
    )
    again = cli.ok(
        "init", "--admin-email", "root@example.com", "--password-stdin", input="admin password\n"
    )
    assert first["admin"]["created"] is True
    assert again["admin"]["created"] is False
    assert first["revision"] == again["revision"] == cli.ok("db", "current")["head"]


def test_register_then_login_then_whoami(initialised: Cli) -> None:
    user = _register(initialised, "Ada@Example.com").json()
    assert user["role"] == "ARTIST"
    assert user["artist_name"] == "Ada"
    login = _login(initialised, "ada@example.com").json()
    assert login["token"].startswith("vws_")
    assert login["user"]["id"] == user["id"]
    assert initialised.ok("auth", "whoami")["email"] == "Ada@Example.com"


def test_emails_are_unique_regardless_of_case(initialised: Cli) -> None:
    assert _register(initialised, "ada@example.com").exit_code == 0
    outcome = _register(initialised, "ADA@EXAMPLE.COM")
    assert outcome.exit_code == 5
    assert outcome.error()["type"] == "conflict"


def test_password_over_72_bytes_is_refused_at_registration(initialised: Cli) -> None:
    outcome = _register(initialised, "ada@example.com", password="é" * 37)  # 74 bytes
    assert outcome.exit_code == 6
    assert "72 bytes" in outcome.error()["message"]
    assert (
        initialised(
            "auth", "login", "--email", "ada@example.com", "--password-stdin", input="é" * 37 + "\n"
        ).exit_code
        == 4
    )


def test_short_password_and_bad_email_are_invalid(initialised: Cli) -> None:
    assert _register(initialised, "ada@example.com", password="short").exit_code == 6
    assert _register(initialised, "not-an-email").exit_code == 6


def test_login_over_72_bytes_is_just_a_failed_login(initialised: Cli) -> None:
    _register(initialised, "ada@example.com")
    outcome = _login(initialised, "ada@example.com", password=PASSWORD + "x" * 80)
    assert outcome.exit_code == 4


def test_wrong_password_and_unknown_email_fail_alike(initialised: Cli) -> None:
    _register(initialised, "ada@example.com")
    wrong = _login(initialised, "ada@example.com", password="wrong password")
    unknown = _login(initialised, "nobody@example.com")
    assert wrong.exit_code == unknown.exit_code == 4
    assert wrong.error() == unknown.error()


def test_session_file_is_private(initialised: Cli, env: Path) -> None:
    _register(initialised, "ada@example.com")
    _login(initialised, "ada@example.com")
    session_file = env / "auth" / "session.json"
    assert stat.S_IMODE(session_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(session_file.parent.stat().st_mode) == 0o700


def test_logout_revokes_the_token_in_the_store(initialised: Cli) -> None:
    token = sign_up(initialised, "ada@example.com")
    assert initialised("auth", "whoami", token=token).exit_code == 0
    initialised.ok("auth", "logout", token=token)
    outcome = initialised("auth", "whoami", "--json", token=token)
    assert outcome.exit_code == 4
    assert "log" in outcome.error()["message"]


def test_not_logged_in_is_a_permission_error_that_says_how_to_log_in(initialised: Cli) -> None:
    outcome = initialised("auth", "whoami")
    assert outcome.exit_code == 4
    assert outcome.stderr.startswith("error: ")
    assert "vwaza auth login" in outcome.stderr
    assert "Traceback" not in outcome.stderr


def test_vwaza_token_overrides_the_saved_session(initialised: Cli) -> None:
    ada = sign_up(initialised, "ada@example.com", "Ada")
    sign_up(initialised, "bo@example.com", "Bo")  # saved session is now Bo's
    assert initialised.ok("auth", "whoami")["email"] == "bo@example.com"
    assert initialised.ok("auth", "whoami", token=ada)["email"] == "ada@example.com"


def test_expired_session_is_refused(initialised: Cli, mocker) -> None:
    from datetime import timedelta

    from vwaza_cli import clock

    token = sign_up(initialised, "ada@example.com")
    later = clock.now() + timedelta(days=31)
    mocker.patch("vwaza_cli.clock.now", return_value=later)
    assert initialised("auth", "whoami", token=token).exit_code == 4


def test_password_change_logs_out_other_sessions(initialised: Cli) -> None:
    first = sign_up(initialised, "ada@example.com")
    forget_saved_login()  # the second session on another machine: this login keeps the first
    second = _login(initialised, "ada@example.com").json()["token"]
    initialised.ok(
        "auth",
        "password",
        "change",
        "--password-stdin",
        input=f"{PASSWORD}\nnew password 2\n",
        token=first,
    )
    assert initialised("auth", "whoami", token=first).exit_code == 0
    assert initialised("auth", "whoami", token=second).exit_code == 4
    assert _login(initialised, "ada@example.com").exit_code == 4
    assert _login(initialised, "ada@example.com", password="new password 2").exit_code == 0


def test_password_change_with_wrong_old_password_changes_nothing(initialised: Cli) -> None:
    token = sign_up(initialised, "ada@example.com")
    outcome = initialised(
        "auth",
        "password",
        "change",
        "--password-stdin",
        input="wrong\nnew password 2\n",
        token=token,
    )
    assert outcome.exit_code == 4
    assert _login(initialised, "ada@example.com").exit_code == 0


def test_admin_user_management(initialised: Cli) -> None:
    admin = make_admin(initialised)
    created = initialised.ok(
        "admin",
        "user",
        "create",
        "--email",
        "bo@example.com",
        "--role",
        "ADMIN",
        "--password-stdin",
        input="bo password\n",
        token=admin,
    )
    assert created["role"] == "ADMIN"
    emails = [u["email"] for u in initialised.ok("admin", "user", "list", token=admin)]
    assert emails == ["admin@example.com", "bo@example.com"]
    artist_without_name = initialised(
        "admin",
        "user",
        "create",
        "--email",
        "c@example.com",
        "--role",
        "ARTIST",
        "--password-stdin",
        input="c password\n",
        token=admin,
    )
    assert artist_without_name.exit_code == 6


def test_only_admins_manage_users(initialised: Cli) -> None:
    make_admin(initialised)
    artist = sign_up(initialised, "ada@example.com")
    for args in (("admin", "user", "list"), ("admin", "user", "delete", "x@example.com", "--yes")):
        assert initialised(*args, token=artist).exit_code == 4
        assert initialised(*args, token="").exit_code == 4


def test_delete_unknown_user_is_not_found(initialised: Cli) -> None:
    admin = make_admin(initialised)
    outcome = initialised("admin", "user", "delete", "x@example.com", "--yes", token=admin)
    assert outcome.exit_code == 3


def test_delete_without_yes_off_a_terminal_is_refused(initialised: Cli) -> None:
    admin = make_admin(initialised)
    sign_up(initialised, "ada@example.com")
    outcome = initialised("admin", "user", "delete", "ada@example.com", token=admin)
    assert outcome.exit_code == 2
    assert _login(initialised, "ada@example.com").exit_code == 0


def test_no_password_or_hash_ever_appears_in_output(initialised: Cli) -> None:
    admin = make_admin(initialised)
    sign_up(initialised, "ada@example.com")
    outputs = [
        initialised("admin", "user", "list", "--json", token=admin),
        initialised("admin", "user", "list", token=admin),
        initialised("auth", "whoami", "--json", token=admin),
        _register(initialised, "bo@example.com"),
    ]
    for outcome in outputs:
        text = outcome.stdout + outcome.stderr
        assert PASSWORD not in text
        assert "$2b$" not in text
        assert "password_hash" not in text


def test_user_delete_cascades_on_the_database(initialised: Cli, store_url: str) -> None:
    from vwaza_cli.db.engine import get_engine

    admin = make_admin(initialised)
    ada = sign_up(initialised, "ada@example.com")
    release = initialised.ok("release", "create", "Night Drive", "--genre", "Electronic", token=ada)
    initialised.ok("admin", "user", "delete", "ada@example.com", "--yes", token=admin)
    with get_engine(store_url).connect() as conn:
        for table in ("releases", "sessions", "password_reset_tokens"):
            count = conn.execute(sa.text(f"SELECT count(*) FROM {table} t")).scalar()
            assert count == (1 if table == "sessions" else 0), table  # the admin's session
        gone = conn.execute(
            sa.text("SELECT count(*) FROM releases WHERE id = :i"), {"i": release["id"]}
        ).scalar()
        assert gone == 0


def test_init_creates_only_the_first_admin(cli: Cli) -> None:
    cli.ok(
        "init", "--admin-email", "root@example.com", "--password-stdin", input="admin password\n"
    )
    again = cli.ok(
        "init", "--admin-email", "root@example.com", "--password-stdin", input="another password\n"
    )
    assert again["warnings"]  # the password given was not applied
    second = cli(
        "init", "--admin-email", "other@example.com", "--password-stdin", input="admin password\n"
    )
    assert second.exit_code == 5
    assert "vwaza admin user create" in second.stderr
