"""A real `vwaza serve` stack for the server tests: uvicorn on 127.0.0.1 on a free port, over a
store on each engine (the shared `env` fixture), and httpx clients as the people using it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import Cli
from tests.support.team_server import start_server

PASSWORD = "correct horse"
ADMIN_PASSWORD = "admin password"


@dataclass
class Api:
    """An HTTP client of the server, as someone holding only its URL (and perhaps a token)."""

    base: str
    token: str | None = None

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if self.token is not None:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        with httpx.Client(base_url=self.base, timeout=30) as client:
            return client.request(method, f"/api/v1{path}", headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        assert response.is_success, response.text
        return response.json()

    def as_user(self, token: str | None) -> Api:
        return Api(self.base, token)

    def login(self, email: str, password: str = PASSWORD) -> Api:
        answer = self.ok("POST", "/auth/login", json={"email": email, "password": password})
        return self.as_user(answer["token"])


@pytest.fixture
def api(env: Any) -> Iterator[Api]:
    """A migrated store on each engine, and an anonymous client of a server over it."""
    from vwaza_cli.server.app import create_app

    Cli().ok("init")
    running = start_server(create_app())
    client = Api(running.base)
    assert client.ok("GET", "/health") == {"status": "ok"}
    yield client
    running.stop()


@dataclass
class Team:
    """A label's server: its admin, two artists, each holding only the URL and a session."""

    anonymous: Api
    admin: Api
    ada: Api
    bo: Api


def register(api: Api, email: str, name: str) -> Api:
    body = {"email": email, "artist_name": name, "password": PASSWORD}
    assert api.post("/auth/register", json=body).status_code == 201
    return api.login(email)


@pytest.fixture
def team(api: Api) -> Team:
    """The admin is made on the server's machine (`init --admin-email`); artists register."""
    Cli().ok(
        "init",
        "--admin-email",
        "admin@example.com",
        "--password-stdin",
        input=ADMIN_PASSWORD + "\n",
    )
    return Team(
        anonymous=api,
        admin=api.login("admin@example.com", ADMIN_PASSWORD),
        ada=register(api, "ada@example.com", "Ada"),
        bo=register(api, "bo@example.com", "Bo"),
    )
