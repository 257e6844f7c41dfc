"""The saved login (cli.md, "Integrity and abuse"): a session file others could have read or
planted is refused, as ssh refuses such a key; a login revokes the session it replaces."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import Cli, forget_saved_login, sign_up, store_snapshot

PASSWORD = "correct horse"


def _session_file(home: Path) -> Path:
    return home / "auth" / "session.json"


def _login(cli: Cli, email: str, token: str | None = None) -> str:
    login = ["auth", "login", "--email", email, "--password-stdin"]
    return cli.ok(*login, input=PASSWORD + "\n", token=token)["token"]


def _works(cli: Cli, token: str) -> bool:
    return cli("auth", "whoami", token=token).exit_code == 0


def _refused(cli: Cli, *args: str) -> str:
    """Run as nobody but the saved session: refused with exit 4 and one error line."""
    outcome = cli(*args)
    assert outcome.exit_code == 4, outcome.stderr
    (line,) = outcome.stderr.splitlines()
    assert line.startswith("error: ")
    return line


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620], ids=oct)
def test_a_session_file_open_to_others_is_refused_with_how_to_fix_it(
    initialised: Cli, env: Path, mode: int
) -> None:
    sign_up(initialised, "ada@example.com", "Ada")
    path = _session_file(env)
    path.chmod(mode)
    line = _refused(initialised, "auth", "whoami")
    assert f"fix with chmod 600 {path}" in line
    assert f"{mode:04o}" in line
    assert _refused(initialised, "release", "list") == line
    path.chmod(0o600)
    assert initialised.ok("auth", "whoami")["email"] == "ada@example.com"


def test_vwaza_token_is_used_and_an_unsafe_saved_session_ignored(
    initialised: Cli, env: Path
) -> None:
    ada = sign_up(initialised, "ada@example.com", "Ada")
    bo = sign_up(initialised, "bo@example.com", "Bo")  # saved
    _session_file(env).chmod(0o644)
    assert initialised.ok("auth", "whoami", token=ada)["email"] == "ada@example.com"
    assert _works(initialised, bo)  # not revoked by being refused


def test_a_symlinked_session_file_is_refused(initialised: Cli, env: Path, tmp_path: Path) -> None:
    sign_up(initialised, "ada@example.com", "Ada")
    path = _session_file(env)
    elsewhere = tmp_path / "planted.json"
    path.rename(elsewhere)
    path.symlink_to(elsewhere)
    line = _refused(initialised, "auth", "whoami")
    assert "symbolic link" in line
    assert f"rm {path}" in line


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o1777], ids=oct)
def test_a_session_folder_others_may_write_to_is_refused(
    initialised: Cli, env: Path, mode: int
) -> None:
    sign_up(initialised, "ada@example.com", "Ada")
    folder = _session_file(env).parent
    folder.chmod(mode)
    line = _refused(initialised, "auth", "whoami")
    assert f"fix with chmod 700 {folder}" in line
    folder.chmod(0o700)
    assert initialised.ok("auth", "whoami")["email"] == "ada@example.com"


def _as_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root")


def test_a_session_file_of_another_user_is_refused(initialised: Cli, env: Path) -> None:
    _as_root()
    sign_up(initialised, "ada@example.com", "Ada")
    os.chown(_session_file(env), 65534, 65534)
    assert "belongs to another user (uid 65534)" in _refused(initialised, "auth", "whoami")


def test_a_login_into_a_folder_of_another_user_changes_nothing(
    initialised: Cli, env: Path, store_url: str
) -> None:
    _as_root()
    sign_up(initialised, "ada@example.com", "Ada")
    folder = _session_file(env).parent
    os.chown(folder, 65534, 65534)
    before = store_snapshot(store_url)
    login = ["auth", "login", "--email", "ada@example.com", "--password-stdin"]
    outcome = initialised(*login, input=PASSWORD + "\n")
    assert outcome.exit_code == 4
    assert f"{folder} belongs to another user" in outcome.stderr
    assert store_snapshot(store_url) == before


# --- a login replaces the saved session ------------------------------------------------------


def test_logging_in_again_revokes_the_session_saved_before(initialised: Cli) -> None:
    first = sign_up(initialised, "ada@example.com", "Ada")
    second = _login(initialised, "ada@example.com")
    assert not _works(initialised, first)
    assert _works(initialised, second)
    assert initialised.ok("auth", "whoami")["email"] == "ada@example.com"


def test_logging_in_as_someone_else_revokes_the_session_saved_before(initialised: Cli) -> None:
    bo_elsewhere = sign_up(initialised, "bo@example.com", "Bo")
    ada = sign_up(initialised, "ada@example.com", "Ada")  # saved here
    bo = _login(initialised, "bo@example.com")
    assert not _works(initialised, ada)
    assert _works(initialised, bo)
    assert _works(initialised, bo_elsewhere)  # not the one saved here: left alone


def test_a_login_leaves_the_vwaza_token_session_alone(initialised: Cli) -> None:
    ci = sign_up(initialised, "ada@example.com", "Ada")
    forget_saved_login()  # CI's token was never saved on this machine
    saved = _login(initialised, "ada@example.com")
    fresh = _login(initialised, "ada@example.com", token=ci)  # VWAZA_TOKEN=ci set meanwhile
    assert _works(initialised, ci)
    assert not _works(initialised, saved)
    assert _works(initialised, fresh)


def test_a_login_replaces_an_exposed_session_and_revokes_its_token(
    initialised: Cli, env: Path
) -> None:
    exposed = sign_up(initialised, "ada@example.com", "Ada")
    path = _session_file(env)
    path.chmod(0o644)
    fresh = _login(initialised, "ada@example.com")
    assert not _works(initialised, exposed)
    assert _works(initialised, fresh)
    assert path.stat().st_mode & 0o777 == 0o600
    assert initialised.ok("auth", "whoami")["email"] == "ada@example.com"


def test_a_login_replaces_a_symlink_without_touching_what_it_points_to(
    initialised: Cli, env: Path, tmp_path: Path
) -> None:
    planted_token = sign_up(initialised, "bo@example.com", "Bo")
    path = _session_file(env)
    planted = tmp_path / "planted.json"
    path.rename(planted)
    planted_text = planted.read_text()
    path.symlink_to(planted)
    _login(initialised, "bo@example.com")
    assert not path.is_symlink()
    assert planted.read_text() == planted_text
    assert _works(initialised, planted_token)  # not the session saved here: left alone


def test_logout_of_an_exposed_session_revokes_it_and_removes_the_file(
    initialised: Cli, env: Path
) -> None:
    exposed = sign_up(initialised, "ada@example.com", "Ada")
    path = _session_file(env)
    path.chmod(0o644)
    result = initialised.ok("auth", "logout")
    assert result["revoked"] is True
    assert not path.exists()
    assert not _works(initialised, exposed)


def test_register_works_beside_an_unsafe_saved_session(initialised: Cli, env: Path) -> None:
    sign_up(initialised, "ada@example.com", "Ada")
    _session_file(env).chmod(0o644)
    register = ["auth", "register", "--email", "bo@example.com", "--artist-name", "Bo"]
    assert initialised(*register, "--password-stdin", input=PASSWORD + "\n").exit_code == 0
