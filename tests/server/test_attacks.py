"""Issue 13's attacks, tried by an artist holding only the server's URL and their session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.server.conftest import PASSWORD, Api, Team


def _release(user: Api, title: str = "Night Drive") -> dict:
    return user.ok("POST", "/releases", json={"title": title, "genre": "Electronic"})


def test_an_artist_cannot_approve_their_own_release(team: Team) -> None:
    mine = _release(team.ada)
    refused = team.ada.post(f"/review/{mine['id']}/approve")
    assert refused.status_code == 403
    assert refused.json() == {
        "error": {"type": "permission", "message": "only an admin may do this"}
    }
    assert team.ada.ok("GET", f"/releases/{mine['id']}")["status"] == "DRAFT"


def test_an_artist_gets_403_from_review_whatever_the_id(team: Team) -> None:
    for release_id in ("00000000-0000-0000-0000-000000000000", "nonsense"):
        assert team.ada.post(f"/review/{release_id}/approve").status_code == 403
        assert team.ada.get(f"/review/{release_id}").status_code == 403
    assert team.ada.get("/review").status_code == 403


def test_an_artist_cannot_set_a_status_by_editing(team: Team) -> None:
    mine = _release(team.ada)
    refused = team.ada.request("PATCH", f"/releases/{mine['id']}", json={"status": "PUBLISHED"})
    assert refused.status_code == 400
    assert refused.json()["error"]["type"] == "usage"
    assert team.ada.ok("GET", f"/releases/{mine['id']}")["status"] == "DRAFT"


def test_a_submit_without_files_is_refused_and_publishes_nothing(team: Team) -> None:
    mine = _release(team.ada)
    refused = team.ada.post(f"/releases/{mine['id']}/submit")
    assert refused.status_code == 409
    assert refused.json()["error"]["type"] == "conflict"
    assert team.ada.ok("GET", f"/releases/{mine['id']}")["status"] == "DRAFT"


def test_an_artist_cannot_read_or_change_another_artists_release(team: Team) -> None:
    theirs = _release(team.ada, "Ada's")
    release_id = theirs["id"]
    for method, path, body in (
        ("GET", f"/releases/{release_id}", None),
        ("GET", f"/releases/{release_id}/tracks", None),
        ("PATCH", f"/releases/{release_id}", {"title": "Mine now"}),
        ("POST", f"/releases/{release_id}/submit", None),
        ("DELETE", f"/releases/{release_id}", None),
    ):
        refused = team.bo.request(method, path, json=body)
        assert refused.status_code == 404, (method, path)
        assert refused.json()["error"]["type"] == "not_found"
    assert team.bo.ok("GET", "/releases") == []
    assert team.bo.get("/releases", params={"all": "true"}).status_code == 403
    assert team.ada.ok("GET", f"/releases/{release_id}")["title"] == "Ada's"


def test_an_artist_sees_only_their_own_jobs_and_queue(team: Team) -> None:
    assert team.bo.ok("GET", "/jobs") == []
    status = team.bo.ok("GET", "/daemon/status")
    assert set(status) == {"alive", "daemons", "earlier_daemons", "queue", "last_errors"}


def test_an_artist_cannot_create_an_admin(team: Team) -> None:
    body = {"email": "evil@example.com", "role": "ADMIN", "password": PASSWORD}
    refused = team.ada.post("/admin/users", json=body)
    assert refused.status_code == 403
    assert refused.json()["error"]["type"] == "permission"
    assert team.ada.get("/admin/users").status_code == 403
    assert team.ada.request("DELETE", "/admin/users/admin@example.com").status_code == 403
    emails = {user["email"] for user in team.admin.ok("GET", "/admin/users")}
    assert "evil@example.com" not in emails


def test_registering_cannot_choose_a_role(team: Team) -> None:
    body = {"email": "cy@example.com", "artist_name": "Cy", "password": PASSWORD}
    refused = team.anonymous.post("/auth/register", json={**body, "role": "ADMIN"})
    assert refused.status_code == 400
    assert team.anonymous.ok("POST", "/auth/register", json=body)["role"] == "ARTIST"


def _reset_request(api: Api, email: str) -> tuple[int, dict, str]:
    response = api.post("/auth/password/reset-request", json={"email": email})
    return response.status_code, response.json(), response.text + str(response.headers)


def test_a_reset_token_is_never_answered_and_unknown_emails_look_alike(
    team: Team, env: Path
) -> None:
    known_status, known, known_raw = _reset_request(team.bo, "ada@example.com")
    unknown_status, unknown, unknown_raw = _reset_request(team.bo, "nobody@example.com")
    assert known_status == unknown_status == 200
    assert "vwr_" not in known_raw
    assert "vwr_" not in unknown_raw
    assert {**known, "email": None, "message": None} == {
        **unknown,
        "email": None,
        "message": None,
    }
    assert known["message"].replace("ada@", "X@") == unknown["message"].replace("nobody@", "X@")
    mailed = "".join(p.read_text() for p in (env / "data" / "outbox").glob("*.eml"))
    assert "vwr_" in mailed  # on the server's machine, for the account's address only


@pytest.mark.parametrize(
    "header",
    [
        "Bearer forged",
        "Bearer vws_" + "A" * 43,
        "Bearer",
        "bearer x.y.z",
        "Basic YWRhOnBhc3N3b3Jk",
        "vws_not_even_a_scheme",
    ],
)
def test_forged_tokens_are_refused(team: Team, header: str) -> None:
    refused = team.anonymous.get("/auth/whoami", headers={"Authorization": header})
    assert refused.status_code == 401
    assert refused.json()["error"]["type"] == "permission"
    assert refused.headers["WWW-Authenticate"] == "Bearer"


def test_a_token_anywhere_but_the_authorization_header_is_ignored(team: Team) -> None:
    token = team.ada.token
    assert token is not None
    for where in (
        {"params": {"token": token}},
        {"params": {"access_token": token}},
        {"headers": {"Cookie": f"token={token}"}},
        {"headers": {"Cookie": f"session={token}"}},
    ):
        assert team.anonymous.get("/auth/whoami", **where).status_code == 401, where


def test_a_logged_out_token_is_refused(team: Team) -> None:
    assert team.ada.ok("POST", "/auth/logout") == {"logged_out": True, "revoked": True}
    assert team.ada.get("/auth/whoami").status_code == 401


def test_logout_without_a_token_changes_nothing(team: Team) -> None:
    assert team.anonymous.post("/auth/logout").status_code == 204
    assert team.ada.ok("GET", "/auth/whoami")["email"] == "ada@example.com"


def test_logins_through_the_server_leave_each_others_sessions_alone(team: Team) -> None:
    again = team.anonymous.login("bo@example.com")
    assert team.ada.ok("GET", "/auth/whoami")["email"] == "ada@example.com"
    assert team.bo.ok("GET", "/auth/whoami") == again.ok("GET", "/auth/whoami")
