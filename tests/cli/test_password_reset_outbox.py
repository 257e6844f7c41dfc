"""Password reset with no SMTP configured: the mail is an .eml file in the outbox (both engines)."""

from __future__ import annotations

import os
import re
import stat
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.conftest import Cli, Outcome, sign_up

pytestmark = pytest.mark.both_modes  # on one machine, and through a team server

NEW_PASSWORD = "a brand new password"
TOKEN_IN_MAIL = re.compile(r"^ {4}vwaza auth password reset --token (vwr_[A-Za-z0-9_-]+)$", re.M)


def request_reset(cli: Cli, email: str, *, json: bool = True) -> Outcome:
    args = ["auth", "password", "reset-request", "--email", email]
    return cli(*args, "--json") if json else cli(*args)


def reset(cli: Cli, token: str, password: str = NEW_PASSWORD) -> Outcome:
    args = ["auth", "password", "reset", "--token", token, "--password-stdin", "--json"]
    return cli(*args, input=password + "\n")


def outbox(home: Path) -> Path:
    return home / "data" / "outbox"


def outbox_files(home: Path) -> list[str]:
    """Every file in the outbox, temporary ones included."""
    return sorted(os.listdir(outbox(home))) if outbox(home).exists() else []


def read_mail(path: Path) -> EmailMessage:
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def only_new_mail(home: Path, before: list[str]) -> EmailMessage:
    [name] = sorted(set(outbox_files(home)) - set(before))
    return read_mail(outbox(home) / name)


def token_from(message: EmailMessage) -> str:
    found = TOKEN_IN_MAIL.search(message.get_content())
    assert found, "the mail must show the command to run"
    return found.group(1)


def test_without_smtp_the_token_is_written_to_a_private_eml_file(
    initialised: Cli, home: Path
) -> None:
    sign_up(initialised, "ada@example.com", "Ada")

    answer = request_reset(initialised, "ada@example.com").json()

    [name] = outbox_files(home)
    assert name.endswith(".eml")
    assert answer["outbox"] == str(outbox(home))
    assert f"written to the outbox {outbox(home)}" in answer["message"]
    assert stat.S_IMODE((outbox(home) / name).stat().st_mode) == 0o600
    assert stat.S_IMODE(outbox(home).stat().st_mode) == 0o700
    assert "vwr_" not in answer["message"] + str(answer)


def test_the_token_in_the_outbox_file_resets_the_password(initialised: Cli, home: Path) -> None:
    sign_up(initialised, "ada@example.com", "Ada")
    request_reset(initialised, "ada@example.com")
    [name] = outbox_files(home)
    token = token_from(read_mail(outbox(home) / name))

    outcome = reset(initialised, token)

    assert outcome.exit_code == 0, outcome.stderr
    login = ["auth", "login", "--email", "ada@example.com", "--password-stdin", "--json"]
    assert initialised(*login, input="correct horse\n").exit_code == 4
    assert initialised(*login, input=NEW_PASSWORD + "\n").exit_code == 0
    notice = only_new_mail(home, [name])
    assert notice["Subject"] == "Your Vwaza password was changed"
    assert stat.S_IMODE((outbox(home) / name).stat().st_mode) == 0o600


def test_the_outbox_mail_says_what_to_run_and_when_it_expires(
    initialised: Cli, home: Path, mocker
) -> None:
    sign_up(initialised, "ada@example.com", "Ada")
    mocker.patch("vwaza_cli.clock.now", return_value=datetime(2031, 12, 31, 23, 30, tzinfo=UTC))

    request_reset(initialised, "ada@example.com")

    mail = only_new_mail(home, [])
    assert mail["From"] == "vwaza@localhost"
    assert mail["To"] == "ada@example.com"
    assert mail["Subject"] == "Your Vwaza password reset token"
    assert mail["Date"] == "Wed, 31 Dec 2031 23:30:00 +0000"
    assert mail["Message-ID"].endswith("@localhost>")
    assert "expires at 2032-01-01 00:30 UTC" in mail.get_content()
    assert token_from(mail).startswith("vwr_")


def test_an_unknown_email_writes_nothing_and_gets_the_same_answer(
    initialised: Cli, home: Path
) -> None:
    asks = [("ada@example.com", True), ("bo@example.com", False)]  # --json, and for people
    unknown = [request_reset(initialised, email, json=json) for email, json in asks]
    assert outbox_files(home) == []  # not even a temporary file left behind
    sign_up(initialised, "ada@example.com", "Ada")
    sign_up(initialised, "bo@example.com", "Bo")
    known = [request_reset(initialised, email, json=json) for email, json in asks]

    assert unknown == known
    assert known[0].exit_code == 0
    assert len(outbox_files(home)) == 2


def test_known_and_unknown_emails_go_through_the_same_steps(
    initialised: Cli, home: Path, mocker
) -> None:
    from vwaza_cli.db import users
    from vwaza_cli.services import mailer, tokens

    sign_up(initialised, "ada@example.com", "Ada")
    steps = {
        "new_token": mocker.spy(tokens, "new_token"),
        "hash_token": mocker.spy(tokens, "hash_token"),
        "count_reset_requests": mocker.spy(users, "count_reset_requests"),
        "find_user_by_email": mocker.spy(users, "find_user_by_email"),
        "record_reset_request": mocker.spy(users, "record_reset_request"),
        "compose": mocker.spy(mailer, "compose"),
        "fsync": mocker.spy(os, "fsync"),
    }
    # Where the paths must differ, one step stands in for the other.
    delivery = {
        "send": mocker.spy(mailer, "send"),
        "rehearse": mocker.spy(mailer, "rehearse"),
        "add_reset_token": mocker.spy(users, "add_reset_token"),
        "find_reset_token": mocker.spy(users, "find_reset_token"),
    }

    def run(email: str) -> tuple[dict[str, int], dict[str, int]]:
        for spy in [*steps.values(), *delivery.values()]:
            spy.reset_mock()
        request_reset(initialised, email)
        counts = {name: spy.call_count for name, spy in steps.items()}
        return counts, {name: spy.call_count for name, spy in delivery.items()}

    known, sent = run("ada@example.com")
    unknown, rehearsed = run("nobody@example.com")

    assert known == unknown
    assert known["fsync"] >= 1
    assert sent == {"send": 1, "rehearse": 0, "add_reset_token": 1, "find_reset_token": 0}
    assert rehearsed == {"send": 0, "rehearse": 1, "add_reset_token": 0, "find_reset_token": 1}


def test_unknown_used_and_expired_tokens_are_refused_with_one_message(
    initialised: Cli, home: Path, mocker
) -> None:
    sign_up(initialised, "ada@example.com", "Ada")
    request_reset(initialised, "ada@example.com")
    request_reset(initialised, "ada@example.com")
    first, second = (token_from(read_mail(outbox(home) / n)) for n in outbox_files(home))
    assert reset(initialised, first).exit_code == 0  # voids `second` as well

    unknown = reset(initialised, "vwr_" + "A" * 43)
    used = reset(initialised, first)
    voided = reset(initialised, second)
    before = outbox_files(home)
    request_reset(initialised, "ada@example.com")  # the third this hour: still within the limit
    latest = token_from(only_new_mail(home, before))
    mocker.patch("vwaza_cli.clock.now", return_value=datetime.now(UTC) + timedelta(hours=2))
    expired = reset(initialised, latest)

    assert {o.exit_code for o in (unknown, used, voided, expired)} == {4}
    assert unknown.error() == used.error() == voided.error() == expired.error()
    assert "vwaza auth password reset-request" in unknown.error()["message"]


def test_expired_reset_tokens_are_not_kept(initialised: Cli, home: Path, mocker) -> None:
    import sqlalchemy as sa

    from vwaza_cli import clock
    from vwaza_cli.services.context import Context

    sign_up(initialised, "ada@example.com")
    assert request_reset(initialised, "ada@example.com").exit_code == 0
    mocker.patch("vwaza_cli.clock.now", return_value=clock.now() + timedelta(hours=3))
    assert request_reset(initialised, "ada@example.com").exit_code == 0
    with Context.from_environment().tx() as session:
        rows = session.execute(sa.text("SELECT expires_at FROM password_reset_tokens")).all()
    assert len(rows) == 1  # the first token, long expired, is gone; the new one stays
