"""A second hostile probe of accounts (issue 11): "Emails are unique regardless of case"
(cli.md) for every letter, not only A-Z. SQL lower() folds ASCII only on SQLite, so emails are
compared by a key computed in Python (NFKC, case-folded: vwaza_cli/emails.py), the same on
both engines; the address is kept and shown as typed."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Cli, Media, forget_saved_login, make_admin

PASSWORD = "correct horse"


def _register(cli: Cli, email: str, password: str = PASSWORD) -> int:
    outcome = cli(
        "auth", "register", "--email", email, "--artist-name", "N", "--password-stdin",
        input=password + "\n",
    )  # fmt: skip
    return outcome.exit_code


def _login(cli: Cli, email: str, password: str = PASSWORD) -> int:
    forget_saved_login()
    outcome = cli("auth", "login", "--email", email, "--password-stdin", input=password + "\n")
    return outcome.exit_code


@pytest.mark.parametrize("email", ["Émile@example.com", "ÉMILE@example.com", "Øyvind@example.com"])
def test_an_email_with_a_capital_beyond_ascii_can_log_in(initialised: Cli, email: str) -> None:
    assert _register(initialised, email) == 0
    assert _login(initialised, email) == 0
    assert _login(initialised, email.lower()) == 0


def test_an_email_is_one_account_whatever_the_case_of_non_ascii_letters(initialised: Cli) -> None:
    assert _register(initialised, "Émile@example.com") == 0
    assert _register(initialised, "émile@example.com", "other horse") == 5


def test_a_kelvin_sign_is_not_a_second_account_for_its_k(initialised: Cli) -> None:
    """U+212A KELVIN SIGN lower-cases to "k": it is the existing account's email, not a
    second account that no login could reach."""
    assert _register(initialised, "kay@example.com") == 0
    assert _register(initialised, "\u212aay@example.com", "other horse") == 5


def test_an_ascii_capital_is_the_same_account(initialised: Cli) -> None:
    assert _register(initialised, "Ada@Example.com") == 0
    assert _register(initialised, "ada@example.com", "other horse") == 5
    assert _login(initialised, "ADA@EXAMPLE.COM") == 0
    assert _login(initialised, " ada@example.com ") == 0


def test_full_width_letters_and_a_decomposed_accent_are_the_same_account(
    initialised: Cli,
) -> None:
    assert _register(initialised, "Émile@example.com") == 0
    assert _register(initialised, "Émile@\uff45xample.com", "other horse") == 5  # full-width e
    assert _login(initialised, "E\u0301MILE@example.com") == 0  # E + combining acute


def test_an_email_is_shown_as_typed(initialised: Cli) -> None:
    assert _register(initialised, "ÉMILE@Example.com") == 0
    forget_saved_login()
    login = initialised.ok(
        "auth", "login", "--email", "émile@example.com", "--password-stdin", input=PASSWORD + "\n"
    )
    assert login["user"]["email"] == "ÉMILE@Example.com"


def test_an_email_whose_compared_form_is_too_long_is_refused(initialised: Cli) -> None:
    """U+FDFA is one character whose compatibility form is eighteen."""
    assert _register(initialised, "\ufdfa" * 20 + "@example.com") == 6


def test_a_catalog_names_an_artist_by_any_case_of_their_email(
    initialised: Cli, media: Media
) -> None:
    admin = initialised.as_user(make_admin(initialised))
    assert _register(initialised, "Émile@example.com") == 0
    media.wav("one.wav")
    release = {"artist_email": "ÉMILE@EXAMPLE.COM", "title": "T", "genre": "G"}
    release["tracks"] = [{"title": "One", "file": "one.wav"}]
    catalog = media.folder / "catalog.json"
    catalog.write_text(json.dumps({"releases": [release]}), encoding="utf-8")
    assert admin.ok("catalog", "import", str(catalog))["created"] == 1
