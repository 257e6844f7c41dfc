"""A real `vwaza serve` stack for the server tests: uvicorn on 127.0.0.1 on a free port, over a
store on each engine (the shared `env` fixture), and httpx clients as the people using it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import Cli

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


@dataclass
class Running:
    server: Any
    thread: threading.Thread

    @property
    def base(self) -> str:
        host, port = self.server.servers[0].sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"


def start_server(app: Any) -> Running:
    """uvicorn in a thread on a port the OS picks; returns once it is listening."""
    import uvicorn

    from vwaza_cli.server.run import KEEP_LOGGING, uvicorn_config

    server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", 0, log_config=KEEP_LOGGING))
    started = threading.Event()
    original = server.startup

    async def startup(sockets: Any = None) -> None:
        await original(sockets)
        started.set()

    server.startup = startup  # type: ignore[method-assign]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    if not started.wait(timeout=60) or not server.started:
        pytest.fail("the server did not start")
    return Running(server, thread)


@pytest.fixture
def api(env: Any) -> Iterator[Api]:
    """A migrated store on each engine, and an anonymous client of a server over it."""
    from vwaza_cli.server.app import create_app

    Cli().ok("init")
    running = start_server(create_app())
    client = Api(running.base)
    assert client.ok("GET", "/health") == {"status": "ok"}
    yield client
    running.server.should_exit = True
    running.thread.join(timeout=30)


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
