"""What is found in place of the saved session that is not what the tool wrote (issue 11, after
the probe): a folder, a FIFO, tokens no text holds. Each is one `error:` line and exit 4, a
login opens nothing in the store when it cannot save, and replaces what it can."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import Cli, sign_up
from tests.support.hostile import one_error_line
from vwaza_cli.db.engine import get_engine
from vwaza_cli.services.tokens import hash_token

PASSWORD = "correct horse"


def _session_file(home: Path) -> Path:
    return home / "auth" / "session.json"


def _login(cli: Cli, email: str = "ada@example.com") -> tuple[int, str]:
    login = ["auth", "login", "--email", email, "--password-stdin"]
    outcome = cli(*login, input=PASSWORD + "\n")
    return outcome.exit_code, outcome.stderr


def _sessions(store_url: str) -> int:
    with get_engine(store_url).connect() as conn:
        return int(conn.scalar(sa.text("SELECT count(*) FROM sessions")) or 0)


def _folder_in_place(home: Path) -> Path:
    path = _session_file(home)
    path.unlink()
    path.mkdir()
    (path / "kept.txt").write_text("not ours to remove", encoding="utf-8")
    return path


@pytest.mark.both_modes
def test_a_login_over_a_folder_is_refused_before_a_session_is_opened(
    initialised: Cli, env: Path, store_url: str
) -> None:
    sign_up(initialised, "ada@example.com", "Ada")
    path = _folder_in_place(env)
    before = _sessions(store_url)
    code, stderr = _login(initialised)
    assert code == 4
    line = one_error_line(stderr)
    assert f"the saved session {path} is not a regular file" in line
    assert f"rm -r {path}" in line
    assert _sessions(store_url) == before  # no session opened that could not be saved
    assert (path / "kept.txt").exists()


def test_a_folder_in_place_of_the_session_file_says_how_to_remove_it(
    initialised: Cli, env: Path
) -> None:
    sign_up(initialised, "ada@example.com", "Ada")
    path = _folder_in_place(env)
    outcome = initialised("auth", "whoami")
    assert outcome.exit_code == 4
    assert f"rm -r {path}" in one_error_line(outcome.stderr)


def test_logout_over_a_folder_is_one_line_and_removes_nothing(initialised: Cli, env: Path) -> None:
    sign_up(initialised, "ada@example.com", "Ada")
    path = _folder_in_place(env)
    outcome = initialised("auth", "logout")
    assert outcome.exit_code == 4
    assert str(path) in one_error_line(outcome.stderr)
    assert (path / "kept.txt").exists()


def test_a_fifo_in_place_of_the_session_file_is_refused_and_replaced_by_a_login(
    initialised: Cli, env: Path
) -> None:
    sign_up(initialised, "ada@example.com", "Ada")
    path = _session_file(env)
    path.unlink()
    os.mkfifo(path, 0o600)
    outcome = initialised("auth", "whoami")  # never waits for a writer
    assert outcome.exit_code == 4
    assert "not a regular file" in one_error_line(outcome.stderr)
    assert _login(initialised)[0] == 0
    assert path.is_file()
    assert initialised.ok("auth", "whoami")["email"] == "ada@example.com"


@pytest.mark.parametrize("escape", ["\\udcff", "\\ud800", "\\udfff\\ud800"])
def test_a_saved_token_holding_any_lone_surrogate_is_not_a_login(
    initialised: Cli, env: Path, escape: str
) -> None:
    sign_up(initialised, "ada@example.com", "Ada")
    path = _session_file(env)
    path.write_text(f'{{"token": "vws_{escape}", "email": "ada@example.com"}}', "utf-8")
    outcome = initialised("auth", "whoami")
    assert outcome.exit_code == 4
    assert "not logged in" in one_error_line(outcome.stderr)
    assert _login(initialised)[0] == 0
    assert initialised.ok("auth", "whoami")["email"] == "ada@example.com"


def test_a_blank_vwaza_token_is_no_token(initialised: Cli) -> None:
    sign_up(initialised, "ada@example.com", "Ada")  # saved
    assert initialised.ok("auth", "whoami", token=" \n")["email"] == "ada@example.com"


def test_a_vwaza_token_with_a_space_inside_is_not_trimmed_to_a_token(initialised: Cli) -> None:
    token = sign_up(initialised, "ada@example.com", "Ada")
    outcome = initialised("auth", "whoami", token=token[:8] + " " + token[8:])
    assert outcome.exit_code == 4
    assert "expired or was revoked" in one_error_line(outcome.stderr)


@pytest.mark.parametrize("surrogate", [0xDCFF, 0xD800, 0xDFFF], ids=hex)
def test_any_text_hashes_and_a_lone_surrogate_matches_no_valid_text(surrogate: int) -> None:
    token = "vws_" + chr(surrogate)
    digest = hash_token(token)
    assert digest == hash_token(token)
    assert len(digest) == 64
    assert digest != hash_token(token.encode("utf-8", "replace").decode("utf-8"))
