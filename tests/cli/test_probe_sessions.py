"""A second hostile probe of sessions (issue 11): tokens and saved session files that are not
what the tool wrote. Each is refused with one `error:` line and exit 4 (cli.md), never an
internal error, and a login still repairs a broken session file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli, Outcome, sign_up
from tests.support.hostile import one_error_line

PASSWORD = "correct horse"
LONE_SURROGATE = "\udcff"  # what os.environ holds for an invalid UTF-8 byte (\xff)


def _session_file(home: Path) -> Path:
    return home / "auth" / "session.json"


def _plant(home: Path, content: str) -> Path:
    """A session file of ours, mode 0600, holding ``content``."""
    path = _session_file(home)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8", errors="surrogatepass")
    path.chmod(0o600)
    return path


def _login(cli: Cli, email: str = "ada@example.com") -> Outcome:
    return cli("auth", "login", "--email", email, "--password-stdin", input=PASSWORD + "\n")


# --- were open ---------------------------------------------------------------------------


@pytest.mark.parametrize("command", [("auth", "whoami"), ("release", "list")])
@pytest.mark.both_modes
def test_a_token_that_is_not_valid_text_is_refused_not_a_crash(
    initialised: Cli, command: tuple[str, ...]
) -> None:
    outcome = initialised(*command, token="vws_" + LONE_SURROGATE)
    assert outcome.exit_code == 4, outcome.stderr
    one_error_line(outcome.stderr)


@pytest.mark.both_modes
def test_a_reset_token_that_is_not_valid_text_is_refused_not_a_crash(initialised: Cli) -> None:
    outcome = initialised(
        "auth",
        "password",
        "reset",
        "--token",
        "vwr_" + LONE_SURROGATE,
        "--password-stdin",
        input="new password 1\nnew password 1\n",
    )
    assert outcome.exit_code == 4, outcome.stderr
    one_error_line(outcome.stderr)


def test_a_saved_session_holding_a_lone_surrogate_is_refused(initialised: Cli, env: Path) -> None:
    sign_up(initialised, "ada@example.com", "Ada")
    _plant(env, '{"token": "vws_\\udcff", "email": "ada@example.com"}')
    outcome = initialised("auth", "whoami")
    assert outcome.exit_code == 4, outcome.stderr
    one_error_line(outcome.stderr)


def test_a_login_replaces_a_saved_session_holding_a_lone_surrogate(
    initialised: Cli, env: Path
) -> None:
    sign_up(initialised, "ada@example.com", "Ada")
    _plant(env, '{"token": "vws_\\udcff", "email": "ada@example.com"}')
    assert _login(initialised).exit_code == 0
    assert initialised.ok("auth", "whoami")["email"] == "ada@example.com"


def test_a_saved_session_nested_too_deeply_is_refused(initialised: Cli, env: Path) -> None:
    sign_up(initialised, "ada@example.com", "Ada")
    _plant(env, "[" * 100_000)
    outcome = initialised("auth", "whoami")
    assert outcome.exit_code == 4, outcome.stderr
    one_error_line(outcome.stderr)


def test_a_login_replaces_a_saved_session_nested_too_deeply(initialised: Cli, env: Path) -> None:
    sign_up(initialised, "ada@example.com", "Ada")
    _plant(env, "[" * 100_000)
    assert _login(initialised).exit_code == 0
    assert initialised.ok("auth", "whoami")["email"] == "ada@example.com"


def test_a_folder_in_place_of_the_session_file_is_refused(initialised: Cli, env: Path) -> None:
    sign_up(initialised, "ada@example.com", "Ada")
    path = _session_file(env)
    path.unlink()
    path.mkdir()
    outcome = initialised("auth", "whoami")
    assert outcome.exit_code == 4, outcome.stderr
    assert "not a regular file" in one_error_line(outcome.stderr)


def test_a_login_over_a_folder_in_place_of_the_session_file_says_so(
    initialised: Cli, env: Path
) -> None:
    sign_up(initialised, "ada@example.com", "Ada")
    path = _session_file(env)
    path.unlink()
    path.mkdir()
    outcome = _login(initialised)
    assert outcome.exit_code in (0, 4, 7), outcome.stderr
    if outcome.exit_code:
        assert str(path) in one_error_line(outcome.stderr)


@pytest.mark.both_modes
@pytest.mark.parametrize("padded", ["{} ", " {}", "{}\n"])
def test_vwaza_token_with_surrounding_whitespace_is_the_token(
    initialised: Cli, padded: str
) -> None:
    token = sign_up(initialised, "ada@example.com", "Ada")
    outcome = initialised("auth", "whoami", "--json", token=padded.format(token))
    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.json()["email"] == "ada@example.com"


# --- held up: guards ----------------------------------------------------------------------


@pytest.mark.both_modes
def test_a_huge_vwaza_token_is_refused_in_one_line(initialised: Cli) -> None:
    outcome = initialised("auth", "whoami", token="vws_" + "a" * 100_000)
    assert outcome.exit_code == 4
    assert "expired or was revoked" in one_error_line(outcome.stderr)


@pytest.mark.both_modes
def test_a_token_of_another_user_is_that_users_session(initialised: Cli) -> None:
    ada = sign_up(initialised, "ada@example.com", "Ada")
    sign_up(initialised, "bo@example.com", "Bo")
    assert initialised.ok("auth", "whoami", token=ada)["email"] == "ada@example.com"


@pytest.mark.both_modes
def test_a_revoked_token_is_refused_in_one_line(initialised: Cli) -> None:
    ada = sign_up(initialised, "ada@example.com", "Ada")
    assert initialised("auth", "logout", token=ada).exit_code == 0
    outcome = initialised("release", "list", token=ada)
    assert outcome.exit_code == 4
    one_error_line(outcome.stderr)


def test_extra_fields_in_the_session_file_change_nothing(initialised: Cli, env: Path) -> None:
    sign_up(initialised, "ada@example.com", "Ada")
    path = _session_file(env)
    saved = json.loads(path.read_text())
    _plant(env, json.dumps({**saved, "role": "ADMIN", "email": "admin@example.com", "x": [1]}))
    me = initialised.ok("auth", "whoami")
    assert (me["email"], me["role"]) == ("ada@example.com", "ARTIST")


@pytest.mark.parametrize(
    "content", ["\ufeff{", "[1, 2]", '{"token": 5}', '{"token": "a\\u0000b"}', "\xff\xfe"]
)
def test_a_garbled_session_file_is_not_a_login(initialised: Cli, env: Path, content: str) -> None:
    sign_up(initialised, "ada@example.com", "Ada")
    _plant(env, content)
    outcome = initialised("auth", "whoami")
    assert outcome.exit_code == 4
    one_error_line(outcome.stderr)
