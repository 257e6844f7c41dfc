"""`vwaza init --admin-email` makes an admin only of a store with no user at all (cli.md,
"Integrity and abuse"), also when two inits, or an init and a register, run at once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from tests.conftest import Cli, sign_up, store_snapshot
from vwaza_cli.db import users
from vwaza_cli.db.engine import get_engine
from vwaza_cli.errors import Conflict
from vwaza_cli.services import accounts
from vwaza_cli.services.context import Context

PASSWORD = "admin password"
DEADLINE = 20.0


def _init(cli: Cli, email: str) -> Any:
    return cli("init", "--admin-email", email, "--password-stdin", input=PASSWORD + "\n")


def _admins(url: str) -> list[str]:
    with get_engine(url).connect() as conn:
        rows = conn.execute(sa.text("SELECT email FROM users WHERE role = 'ADMIN' ORDER BY email"))
        return [row[0] for row in rows]


def test_init_makes_no_admin_on_a_store_that_has_users_but_no_admin(
    initialised: Cli, store_url: str
) -> None:
    sign_up(initialised, "ada@example.com", "Ada")
    before = store_snapshot(store_url)
    outcome = _init(initialised, "me@example.com")
    assert outcome.exit_code == 5
    assert outcome.stderr.startswith("error: ")
    assert "only an admin may create admins" in outcome.stderr
    assert "vwaza admin user create" in outcome.stderr
    assert store_snapshot(store_url) == before


def test_init_does_not_promote_an_existing_artist(initialised: Cli, store_url: str) -> None:
    sign_up(initialised, "ada@example.com", "Ada")
    before = store_snapshot(store_url)
    outcome = _init(initialised, "ada@example.com")
    assert outcome.exit_code == 5
    assert "already exists and is not an admin" in outcome.stderr
    assert store_snapshot(store_url) == before


def test_init_again_with_the_first_admin_after_others_joined_changes_nothing(
    initialised: Cli, store_url: str
) -> None:
    assert _init(initialised, "root@example.com").exit_code == 0
    sign_up(initialised, "ada@example.com", "Ada")
    before = store_snapshot(store_url)
    again = initialised.ok(
        "init", "--admin-email", "root@example.com", "--password-stdin", input="other one\n"
    )
    assert again["admin"]["created"] is False
    assert again["warnings"] == ["root@example.com exists already: its password was left unchanged"]
    assert store_snapshot(store_url) == before


# --- at the same time --------------------------------------------------------------------


class Running(threading.Thread):
    """A call on its own thread (so on its own connection), keeping what it returned or
    raised."""

    def __init__(self, call: Callable[[], Any]) -> None:
        super().__init__(daemon=True)
        self.call = call
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.call()
        except BaseException as exc:
            self.error = exc


def _wait_until(condition: Callable[[], bool], what: str) -> None:
    pause = threading.Event()
    for _ in range(int(DEADLINE / 0.02)):
        if condition():
            return
        pause.wait(0.02)
    pytest.fail(f"gave up waiting until {what}")


@contextmanager
def _held_in_add_user(
    monkeypatch: pytest.MonkeyPatch, after_insert: bool
) -> Iterator[tuple[threading.Event, threading.Event, set[int]]]:
    """The first thread to add a user stops there, its transaction open (before or after
    its insert), until ``go`` is set; ``held`` is set once it is stopped."""
    held, go, holder = threading.Event(), threading.Event(), set[int]()
    real_add = users.add_user

    def add_user(session: Any, user: Any) -> Any:
        first = not holder
        holder.add(threading.get_ident())
        if after_insert:
            real_add(session, user)
        if first:
            held.set()
            go.wait(DEADLINE)
        return user if after_insert else real_add(session, user)

    monkeypatch.setattr(users, "add_user", add_user)
    try:
        yield held, go, holder
    finally:
        go.set()


@contextmanager
def _watch_for_waiting(url: str, thread: Running) -> Iterator[Callable[[], bool]]:
    """A probe: has ``thread`` reached the store and is waiting there (or finished)?
    PostgreSQL shows a lock not granted; on SQLite the thread has taken a connection, whose
    transaction can only wait for the writer lock (BEGIN IMMEDIATE)."""
    begun = threading.Event()
    engine = get_engine(url)

    def on_checkout(*_: Any) -> None:
        if threading.get_ident() == thread.ident:
            begun.set()

    def waiting() -> bool:
        if not thread.is_alive():
            return True
        if url.startswith("sqlite"):
            return begun.is_set()
        query = (
            "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
            "WHERE NOT l.granted AND d.datname = current_database()"
        )
        with engine.connect() as conn:
            return bool(conn.execute(sa.text(query)).scalar())

    event.listen(engine, "checkout", on_checkout)
    try:
        yield waiting
    finally:
        event.remove(engine, "checkout", on_checkout)


def _first_admin(email: str) -> Callable[[], Any]:
    return lambda: accounts.create_first_admin(Context.from_environment(), email, PASSWORD)


def _register(email: str) -> Callable[[], Any]:
    return lambda: accounts.register(Context.from_environment(), email, "Ada", "correct horse")


def _race(
    store_url: str,
    monkeypatch: pytest.MonkeyPatch,
    first: Callable[[], Any],
    second: Callable[[], Any],
    *,
    after_insert: bool,
) -> tuple[Running, Running]:
    """``first`` stops in add_user with its transaction open; ``second`` starts and gets as
    far as the store lets it; then ``first`` goes on. Both are done when this returns."""
    with _held_in_add_user(monkeypatch, after_insert) as (held, go, _):
        one = Running(first)
        one.start()
        _wait_until(held.is_set, "the first call stopped in add_user")
        two = Running(second)
        with _watch_for_waiting(store_url, two) as waiting:  # left once both are done
            two.start()
            _wait_until(waiting, "the second call waits for the first (or is done)")
            go.set()
            one.join(DEADLINE)
            two.join(DEADLINE)
    assert not one.is_alive()
    assert not two.is_alive()
    return one, two


def test_two_inits_at_once_on_an_empty_store_make_one_admin(
    initialised: Cli, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two = _race(
        store_url,
        monkeypatch,
        _first_admin("one@example.com"),
        _first_admin("two@example.com"),
        after_insert=False,
    )
    assert one.error is None
    assert one.result["created"] is True
    assert isinstance(two.error, Conflict)
    assert "only an admin may create admins" in two.error.message
    assert _admins(store_url) == ["one@example.com"]


def test_an_init_while_someone_registers_makes_no_admin(
    initialised: Cli, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    register, init = _race(
        store_url,
        monkeypatch,
        _register("ada@example.com"),
        _first_admin("me@example.com"),
        after_insert=True,
    )
    assert register.error is None
    assert isinstance(init.error, Conflict)
    assert _admins(store_url) == []
