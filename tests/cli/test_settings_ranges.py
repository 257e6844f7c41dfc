"""Numeric settings out of range are invalid settings (exit 6, cli.md), refused before any
command runs: never a login that has expired before it is used, nor a bcrypt crash."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Cli, spool_files, store_snapshot
from tests.support.hostile import one_error_line
from vwaza_cli.errors import InvalidInput
from vwaza_cli.settings import load_settings

pytestmark = pytest.mark.both_modes  # on one machine, and through a team server


@pytest.fixture
def unchanged(people: dict[str, str], env: Path, store_url: str) -> Iterator[None]:
    before, staged = store_snapshot(store_url), spool_files(env)
    yield
    assert store_snapshot(store_url) == before
    assert spool_files(env) == staged


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("VWAZA_SESSION_DAYS", "0"),
        ("VWAZA_SESSION_DAYS", "-5"),
        ("VWAZA_SESSION_DAYS", "366"),
        ("VWAZA_SESSION_DAYS", "100000000000"),
        ("VWAZA_SESSION_DAYS", "thirty"),
        ("VWAZA_SESSION_DAYS", "2.5"),
        ("VWAZA_BCRYPT_ROUNDS", "3"),
        ("VWAZA_BCRYPT_ROUNDS", "32"),
        ("VWAZA_SMTP_PORT", "70000"),
        ("VWAZA_SMTP_PORT", "0"),
    ],
)
def test_an_out_of_range_setting_is_invalid(tmp_path: Path, variable: str, value: str) -> None:
    env = {"VWAZA_HOME": str(tmp_path), "VWAZA_SMTP_HOST": "127.0.0.1", variable: value}
    with pytest.raises(InvalidInput) as caught:
        load_settings(env)
    assert caught.value.message.startswith(f"setting {variable} (")
    assert "must be a whole number from" in caught.value.message


@pytest.mark.parametrize(
    ("key", "value"), [("session_days", True), ("session_days", 2.5), ("bcrypt_rounds", 40)]
)
def test_config_toml_values_are_held_to_the_same_ranges(
    tmp_path: Path, key: str, value: object
) -> None:
    (tmp_path / "config.toml").write_text(f"{key} = {str(value).lower()}\n", encoding="utf-8")
    with pytest.raises(InvalidInput):
        load_settings({"VWAZA_HOME": str(tmp_path)})


def test_the_ends_of_each_range_are_accepted(tmp_path: Path) -> None:
    for days, rounds in (("1", "4"), ("365", "31")):
        env = {"VWAZA_HOME": str(tmp_path), "VWAZA_SESSION_DAYS": days}
        settings = load_settings({**env, "VWAZA_BCRYPT_ROUNDS": rounds})
        assert (settings.session_days, settings.bcrypt_rounds) == (int(days), int(rounds))


@pytest.mark.parametrize(("value", "allowed"), [("1", True), ("0", False), ("true", True)])
def test_allow_private_urls_is_a_flag(tmp_path: Path, value: str, allowed: bool) -> None:
    env = {"VWAZA_HOME": str(tmp_path), "VWAZA_ALLOW_PRIVATE_URLS": value}
    assert load_settings(env).allow_private_urls is allowed
    assert load_settings({"VWAZA_HOME": str(tmp_path)}).allow_private_urls is False
    with pytest.raises(InvalidInput):
        load_settings({**env, "VWAZA_ALLOW_PRIVATE_URLS": "maybe"})


@pytest.mark.usefixtures("unchanged")
def test_a_login_is_refused_rather_than_born_expired(
    initialised: Cli, people: dict[str, str], env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VWAZA_SESSION_DAYS", "0")
    outcome = initialised(
        "auth", "login", "--email", "ada@example.com", "--password-stdin", input="correct horse\n"
    )
    assert outcome.exit_code == 6
    assert one_error_line(outcome.stderr) == (
        "error: setting VWAZA_SESSION_DAYS (session_days in config.toml) must be a whole "
        "number from 1 to 365, got '0'"
    )
    assert not (env / "auth" / "session.json").exists()


def test_a_session_of_365_days_is_the_longest(
    initialised: Cli, people: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VWAZA_SESSION_DAYS", "365")
    token = initialised.ok(
        "auth", "login", "--email", "ada@example.com", "--password-stdin", input="correct horse\n"
    )["token"]
    assert initialised.ok("auth", "whoami", token=token)["email"] == "ada@example.com"
