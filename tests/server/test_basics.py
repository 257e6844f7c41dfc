"""The server's front door: health, the OpenAPI document, logging in, the error object."""

from __future__ import annotations

from tests.server.conftest import PASSWORD, Api, Team


def test_health_answers_ok(api: Api) -> None:
    response = api.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_openapi_document_lists_every_operation(api: Api) -> None:
    document = api.ok("GET", "/openapi.json")
    assert document["openapi"].startswith("3.")
    assert "/api/v1/releases/{release_id}/submit" in document["paths"]
    assert "/api/v1/review/{release_id}/approve" in document["paths"]
    assert "HTTPBearer" in document["components"]["securitySchemes"]


def test_login_then_whoami(team: Team) -> None:
    me = team.ada.ok("GET", "/auth/whoami")
    assert me["email"] == "ada@example.com"
    assert me["role"] == "ARTIST"
    assert "password_hash" not in me


def test_login_answers_token_user_and_expiry(api: Api) -> None:
    body = {"email": "cy@example.com", "artist_name": "Cy", "password": PASSWORD}
    api.ok("POST", "/auth/register", json=body)
    answer = api.ok("POST", "/auth/login", json={"email": "cy@example.com", "password": PASSWORD})
    assert set(answer) == {"token", "user", "expires_at"}
    assert answer["user"]["email"] == "cy@example.com"
