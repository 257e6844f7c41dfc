"""Errors over HTTP: cli.md's error object, the status from the exit code (server/errors.py),
no 500 for bad input."""

from __future__ import annotations

import httpx
import pytest

from tests.server.conftest import PASSWORD, Api, Team
from vwaza_cli.server.errors import STATUS_BY_TYPE, status_for
from vwaza_cli.server.routes import ERRORS


def _error(response: httpx.Response, status: int, kind: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["type"] == kind
    return body["error"]["message"]


def test_status_table_covers_every_exit_code() -> None:
    from vwaza_cli.errors import EXIT_CODES

    assert set(STATUS_BY_TYPE) == set(EXIT_CODES) - {"ok"}
    assert {STATUS_BY_TYPE[k] for k in ("not_found", "permission", "conflict")} == {404, 403, 409}
    assert (STATUS_BY_TYPE["invalid"], STATUS_BY_TYPE["unavailable"]) == (422, 503)


def test_every_documented_status_is_one_the_table_gives() -> None:
    from vwaza_cli import errors
    from vwaza_cli.server import errors as server_errors

    given = {
        status_for(cls("x"))
        for module in (errors, server_errors)
        for cls in vars(module).values()
        if isinstance(cls, type)
        and issubclass(cls, errors.VwazaError)
        and cls not in (errors.InvalidCatalog, errors.StorageError, server_errors.TooManyLogins)
    } | {429}
    assert given == set(ERRORS)


def test_not_found_is_404(team: Team) -> None:
    message = _error(team.ada.get("/releases/00000000-dead-beef"), 404, "not_found")
    assert message == "no release 00000000-dead-beef: see `vwaza release list`"


def test_not_logged_in_is_401(api: Api) -> None:
    message = _error(api.get("/releases"), 401, "permission")
    assert message.startswith("not logged in")


def test_a_value_the_services_refuse_is_422(team: Team) -> None:
    refused = team.ada.post("/releases", json={"title": "Bad\u202etitle", "genre": "Pop"})
    _error(refused, 422, "invalid")
    assert team.ada.ok("GET", "/releases") == []


def test_an_email_taken_is_409(team: Team) -> None:
    body = {"email": "ADA@example.com", "artist_name": "Ada 2", "password": PASSWORD}
    _error(team.anonymous.post("/auth/register", json=body), 409, "conflict")


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"genre": "Pop"}, "title"),
        ({"title": 5, "genre": "Pop"}, "title"),
        ({"title": "A", "genre": "Pop", "cover": "/etc/passwd"}, "cover"),
    ],
)
def test_a_malformed_body_is_a_usage_error(team: Team, body: dict, where: str) -> None:
    assert _error(team.ada.post("/releases", json=body), 400, "usage").startswith(where)


def test_bad_json_is_a_usage_error(team: Team) -> None:
    headers = {"Content-Type": "application/json"}
    _error(team.ada.post("/releases", content=b"{not json", headers=headers), 400, "usage")


def test_a_lone_surrogate_is_a_usage_error(team: Team) -> None:
    headers = {"Content-Type": "application/json"}
    body = b'{"title": "\\ud800", "genre": "Pop"}'
    assert b"\\ud800" in body
    refused = team.ada.post("/releases", content=body, headers=headers)
    assert _error(refused, 400, "usage").startswith("title")


def test_out_of_range_query_is_a_usage_error(team: Team) -> None:
    _error(team.ada.get("/releases", params={"limit": 0}), 400, "usage")
    _error(team.ada.get("/releases", params={"page": 10**30}), 400, "usage")


def test_bad_status_filter_is_invalid(team: Team) -> None:
    _error(team.ada.get("/releases", params={"status": "NOPE"}), 422, "invalid")


def test_an_unknown_operation_or_method_answers_the_error_object(team: Team) -> None:
    _error(team.ada.get("/nothing/here"), 404, "usage")
    _error(team.ada.request("PUT", "/auth/whoami"), 405, "usage")


def test_a_body_too_large_is_413_before_it_is_read(team: Team) -> None:
    big = {"title": "x" * (2 * 1024 * 1024), "genre": "Pop"}
    _error(team.ada.post("/releases", json=big), 413, "invalid")


def test_a_chunked_body_too_large_is_413(team: Team) -> None:
    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(40):
            yield b"x" * 65536

    refused = team.ada.post("/releases", content=chunks(), headers={"Content-Type": "text/plain"})
    _error(refused, 413, "invalid")
