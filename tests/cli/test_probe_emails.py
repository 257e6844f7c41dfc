"""A second hostile probe of accounts (issue 11): "Emails are unique regardless of case"
(cli.md) for every letter, not only A-Z. The services lower-case with Python's str.lower()
but compare against SQL lower(), which SQLite applies to ASCII only: on SQLite an email with
a capital beyond ASCII can register but never log in, and differs from its lower case."""

from __future__ import annotations

import pytest

from tests.conftest import Cli, forget_saved_login

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


def _open_on_sqlite(request: pytest.FixtureRequest, store_url: str, reason: str) -> None:
    """PostgreSQL's lower() folds these letters as Python does; SQLite's does not."""
    if store_url.startswith("sqlite"):
        request.applymarker(pytest.mark.xfail(strict=True, reason=f"probe: {reason}"))


@pytest.mark.parametrize("email", ["Émile@example.com", "ÉMILE@example.com", "Øyvind@example.com"])
def test_an_email_with_a_capital_beyond_ascii_can_log_in(
    initialised: Cli, request: pytest.FixtureRequest, store_url: str, email: str
) -> None:
    _open_on_sqlite(request, store_url, "an email with a non-ASCII capital never logs in")
    assert _register(initialised, email) == 0
    assert _login(initialised, email) == 0
    assert _login(initialised, email.lower()) == 0


def test_an_email_is_one_account_whatever_the_case_of_non_ascii_letters(
    initialised: Cli, request: pytest.FixtureRequest, store_url: str
) -> None:
    _open_on_sqlite(request, store_url, "Émile@ and émile@ are two accounts")
    assert _register(initialised, "Émile@example.com") == 0
    assert _register(initialised, "émile@example.com", "other horse") == 5


def test_a_kelvin_sign_is_not_a_second_account_for_its_k(
    initialised: Cli, request: pytest.FixtureRequest, store_url: str
) -> None:
    """U+212A KELVIN SIGN lower-cases to "k": the registration makes an account that the
    login (Python lower) can never reach; it must be the existing account's email."""
    _open_on_sqlite(request, store_url, "a Kelvin-sign email is a second, unreachable account")
    assert _register(initialised, "kay@example.com") == 0
    assert _register(initialised, "\u212aay@example.com", "other horse") == 5


def test_an_ascii_capital_is_the_same_account(initialised: Cli) -> None:
    assert _register(initialised, "Ada@Example.com") == 0
    assert _register(initialised, "ada@example.com", "other horse") == 5
    assert _login(initialised, "ADA@EXAMPLE.COM") == 0
    assert _login(initialised, " ada@example.com ") == 0
