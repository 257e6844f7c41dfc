"""`vwaza doctor` on a machine that holds the store's URL warns when a team server on
another machine uses that store: it names the server's address and says to work through
it, since the database URL bypasses the server's checks. On the server's own machine, or on
a store no server uses, all is well."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.support.team_server import serving
from vwaza_cli.db import schema

LAPTOP = "ada-laptop"  # the home fixture's machine is "test-machine", the server's here


def _server_check(cli: Cli) -> tuple[int, dict | None]:
    outcome = cli("doctor", "--json")
    checks = {c["name"]: c for c in outcome.json()["checks"]}
    return outcome.exit_code, checks.get("server")


def test_another_machine_holding_the_servers_store_is_warned(
    initialised: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serving() as address:
        monkeypatch.setenv("VWAZA_MACHINE_ID", LAPTOP)
        code, check = _server_check(initialised)
    assert code == 0  # a warning: doctor still exits 0
    assert check is not None
    assert check["status"] == "warn"
    assert f"the team server on machine 'test-machine' at {address}" in check["detail"]
    assert "bypasses the server's checks" in check["detail"]
    assert f"`vwaza auth login --server {address}`" in check["fix"]
    assert f"VWAZA_SERVER={address}" in check["fix"]
    assert "VWAZA_DATABASE_URL" in check["fix"]


def test_the_warning_names_the_servers_public_url_when_it_has_one(
    initialised: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VWAZA_SERVER_PUBLIC_URL", "https://vwaza.example.com/")
    with serving():
        monkeypatch.setenv("VWAZA_MACHINE_ID", LAPTOP)
        _, check = _server_check(initialised)
    assert check is not None
    assert "at https://vwaza.example.com (started" in check["detail"]
    assert "VWAZA_SERVER=https://vwaza.example.com)" in check["fix"]


def test_the_servers_own_machine_is_not_warned(initialised: Cli) -> None:
    with serving() as address:
        code, check = _server_check(initialised)
    assert code == 0
    assert check == {
        "name": "server",
        "status": "ok",
        "detail": f"this machine's team server ({address}) uses this store",
        "fix": "",
    }


def test_a_store_no_server_uses_is_not_warned(initialised: Cli) -> None:
    _, check = _server_check(initialised)
    assert check is not None
    assert (check["status"], check["detail"]) == (
        "ok",
        "no team server on another machine uses this store",
    )


def test_a_server_stopped_cleanly_no_longer_counts(
    initialised: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serving():
        pass
    monkeypatch.setenv("VWAZA_MACHINE_ID", LAPTOP)
    _, check = _server_check(initialised)
    assert check is not None
    assert check["status"] == "ok"


def test_a_server_started_again_is_one_server_at_its_new_address(
    initialised: Cli, monkeypatch: pytest.MonkeyPatch, store_url: str
) -> None:
    import sqlalchemy as sa

    from vwaza_cli.db.engine import get_engine

    with serving():
        pass
    with serving() as address:
        with get_engine(store_url).connect() as conn:
            rows = conn.execute(sa.text("SELECT machine_id, address FROM team_servers")).all()
        monkeypatch.setenv("VWAZA_MACHINE_ID", LAPTOP)
        _, check = _server_check(initialised)
    assert [tuple(row) for row in rows] == [("test-machine", address)]
    assert check is not None
    assert check["status"] == "warn"


def test_a_client_of_the_server_is_not_checked_for_it(
    initialised: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serving() as address:
        monkeypatch.setenv("VWAZA_MACHINE_ID", LAPTOP)
        monkeypatch.setenv("VWAZA_SERVER", address)
        _, check = _server_check(initialised)
    assert check is None


@pytest.mark.parametrize("revision", [None, "0005_user_email_key"])
def test_an_old_or_empty_store_is_reported_without_the_check(
    cli: Cli, home: Path, monkeypatch: pytest.MonkeyPatch, revision: str | None
) -> None:
    url = f"sqlite:///{home / 'old.db'}"
    if revision is not None:
        schema.upgrade(url, revision)
    monkeypatch.setenv("VWAZA_DATABASE_URL", url)
    outcome = cli("doctor", "--json")
    checks = {c["name"]: c for c in outcome.json()["checks"]}
    assert outcome.exit_code == 7
    assert checks["store"]["status"] == "fail"
    assert "server" not in checks


def test_a_server_over_a_store_not_initialised_still_starts_and_says_why(
    home: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import httpx

    monkeypatch.setenv("VWAZA_DATABASE_URL", f"sqlite:///{home / 'never-initialised.db'}")
    with caplog.at_level(logging.WARNING, logger="vwaza.server"), serving() as address:
        health = httpx.get(f"{address}/api/v1/health")
    assert health.status_code == 503
    told = [r.getMessage() for r in caplog.records if r.name == "vwaza.server"]
    assert any(m.startswith("the store was not told of this server: ") for m in told)
