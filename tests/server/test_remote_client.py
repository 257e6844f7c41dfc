"""The CLI as a client of a team server (cli.md, "Team mode"): a machine that holds only the
server's URL and its own session. Each client here is a `vwaza` process of its own, with a
home of its own and no store: what works, works through the server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Media, store_snapshot
from tests.server.conftest import ADMIN_PASSWORD, PASSWORD, Team

STORE_LIBRARIES = (
    "sqlmodel",
    "sqlalchemy",
    "alembic",
    "psycopg",
    "bcrypt",
    "supabase",
    "storage3",
    "mutagen",
    "soundfile",
    "av",
    "PIL",
)
PROBE = """
import json, sys
sys.argv = ["vwaza"] + sys.argv[1:]
from vwaza_cli.cli.main import run
try:
    run()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
loaded = sorted({m.split(".")[0] for m in sys.modules} & set(%r))
sys.stderr.write("LOADED=" + json.dumps(loaded) + "\\n")
sys.exit(code)
"""


@dataclass
class Done:
    code: int
    stdout: str
    stderr: str
    loaded: list[str]

    def json(self) -> Any:
        return json.loads(self.stdout)


@dataclass
class Client:
    """Another machine: a home of its own, a store URL that leads nowhere, the server's URL."""

    home: Path
    server: str | None

    def __call__(self, *args: str, input: str | None = None, **env: str) -> Done:
        environment = {
            k: v for k, v in os.environ.items() if not k.startswith(("VWAZA_", "SUPABASE_"))
        }
        environment.update(
            VWAZA_HOME=str(self.home),
            VWAZA_DATABASE_URL=f"sqlite:///{self.home}/no-such-folder/none.db",
            NO_COLOR="1",
            **env,
        )
        if self.server is not None:
            environment["VWAZA_SERVER"] = self.server
        done = subprocess.run(
            [sys.executable, "-c", PROBE % (STORE_LIBRARIES,), *args],
            input=input,
            capture_output=True,
            text=True,
            env=environment,
            timeout=120,
        )
        lines = done.stderr.splitlines()
        loaded = json.loads(next(x for x in lines if x.startswith("LOADED=")).split("=", 1)[1])
        stderr = "\n".join(x for x in lines if not x.startswith("LOADED="))
        return Done(done.returncode, done.stdout, stderr, loaded)

    def ok(self, *args: str, input: str | None = None, **env: str) -> Any:
        done = self(*args, "--json", input=input, **env)
        assert done.code == 0, done.stderr
        return done.json()


@pytest.fixture
def client(team: Team, tmp_path: Path) -> Client:
    return Client(tmp_path / "artist-laptop", team.anonymous.base)


def _logged_in(client: Client, email: str, password: str = PASSWORD) -> Client:
    client.ok("auth", "login", "--email", email, "--password-stdin", input=password + "\n")
    return client


def test_a_client_works_through_the_server_and_loads_no_store_library(
    client: Client, media: Media, store_url: str
) -> None:
    ada = _logged_in(client, "ada@example.com")
    release = ada.ok("release", "create", "Night Drive", "--genre", "Electronic")
    track = ada.ok("track", "add", release["id"], str(media.wav("intro.wav")), "--title", "Intro")
    assert track["title"] == "Intro"
    assert track["duration"] > 0
    shown = ada("release", "show", release["id"][:8], "--json")
    assert shown.code == 0, shown.stderr
    assert [t["title"] for t in shown.json()["tracks"]] == ["Intro"]
    assert shown.loaded == []  # no SQLAlchemy, no media library: the server did the work
    assert ada("track", "add", release["id"], str(media.wav("two.wav")), "--json").loaded == []
    rows = store_snapshot(store_url)["tracks"]
    assert len(rows) == 2  # in the server's store


def test_a_files_checks_happen_on_the_server_with_the_clients_name(
    client: Client, tmp_path: Path, store_url: str
) -> None:
    ada = _logged_in(client, "ada@example.com")
    release = ada.ok("release", "create", "Night Drive", "--genre", "Electronic")
    fake = tmp_path / "not-audio.wav"
    fake.write_bytes(b"RIFF" + os.urandom(4000))
    before = store_snapshot(store_url)
    refused = ada("track", "add", release["id"], str(fake))
    assert refused.code == 6
    assert refused.stderr.startswith("error: not-audio.wav")
    assert "server-uploads" not in refused.stderr
    assert store_snapshot(store_url) == before


def test_a_missing_file_is_refused_before_anything_is_sent(client: Client, tmp_path: Path) -> None:
    ada = _logged_in(client, "ada@example.com")
    release = ada.ok("release", "create", "Night Drive", "--genre", "Electronic")
    missing = ada("track", "add", release["id"], str(tmp_path / "nothing.wav"))
    assert missing.code == 6
    assert "no such file" in missing.stderr


def test_the_hostile_artist_with_only_the_url_cannot_publish_or_make_an_admin(
    client: Client, media: Media
) -> None:
    ada = _logged_in(client, "ada@example.com")
    release = ada.ok("release", "create", "Night Drive", "--genre", "Electronic")
    approve = ada("review", "approve", release["id"])
    assert approve.code == 4
    assert approve.stderr == "error: only an admin may do this"
    admin = ada(
        "admin",
        "user",
        "create",
        "--email",
        "evil@example.com",
        "--role",
        "ADMIN",
        "--password-stdin",
        input="evil password\n",
    )
    assert admin.code == 4
    assert ada.ok("release", "show", release["id"])["status"] == "DRAFT"
    reset = ada.ok("auth", "password", "reset-request", "--email", "admin@example.com")
    assert "vwr_" not in json.dumps(reset)  # the token is mailed by the server, never answered


def test_another_artists_release_is_not_found_through_the_server(
    client: Client, tmp_path: Path
) -> None:
    ada = _logged_in(client, "ada@example.com")
    release = ada.ok("release", "create", "Night Drive", "--genre", "Electronic")
    bo = _logged_in(Client(tmp_path / "bo-laptop", client.server), "bo@example.com")
    for command in (("release", "show"), ("release", "delete", "--yes"), ("release", "submit")):
        seen = bo(command[0], command[1], release["id"], *command[2:])
        assert seen.code == 3, (command, seen.stderr)


def test_login_with_server_saves_it_and_later_commands_use_it(team: Team, tmp_path: Path) -> None:
    laptop = Client(tmp_path / "laptop", server=None)
    login = laptop.ok(
        "auth",
        "login",
        "--email",
        "ada@example.com",
        "--server",
        team.anonymous.base + "/",
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    saved = json.loads((laptop.home / "auth" / "session.json").read_text())
    assert saved["server"] == team.anonymous.base
    assert saved["token"] == login["token"]
    assert laptop.ok("auth", "whoami")["email"] == "ada@example.com"
    assert laptop.ok("release", "list") == []  # the store here leads nowhere: it is the server's
    init = laptop("init")
    assert init.code == 2
    assert team.anonymous.base in init.stderr
    laptop.ok("auth", "logout")
    assert not (laptop.home / "auth" / "session.json").exists()
    assert (
        team.anonymous.get(
            "/auth/whoami", headers={"Authorization": f"Bearer {login['token']}"}
        ).status_code
        == 401
    )


def test_logging_in_again_revokes_the_session_it_replaces_on_the_server(
    client: Client, team: Team
) -> None:
    first = client.ok(
        "auth", "login", "--email", "ada@example.com", "--password-stdin", input=PASSWORD + "\n"
    )["token"]
    client.ok(
        "auth", "login", "--email", "ada@example.com", "--password-stdin", input=PASSWORD + "\n"
    )
    assert team.anonymous.as_user(first).get("/auth/whoami").status_code == 401


@pytest.mark.parametrize("command", [("init",), ("db", "current"), ("db", "upgrade")])
def test_the_server_machines_commands_are_refused_on_a_client(
    client: Client, command: tuple[str, ...]
) -> None:
    done = client(*command)
    assert done.code == 2
    assert done.stderr.startswith(f"error: `vwaza {' '.join(command)}` belongs to the server")
    assert client.server in done.stderr  # type: ignore[operator]


def test_catalog_export_through_the_server_writes_the_file_here(
    client: Client, tmp_path: Path
) -> None:
    ada = _logged_in(client, "ada@example.com")
    ada.ok("release", "create", "Night Drive", "--genre", "Electronic")
    exported = tmp_path / "backup.csv"
    done = ada.ok("catalog", "export", "--output", str(exported))
    assert done["releases"] == 1
    assert "Night Drive" in exported.read_text()


def test_the_daemon_is_refused_on_a_client(client: Client) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("VWAZA_")}
    environment.update(VWAZA_HOME=str(client.home), VWAZA_SERVER=str(client.server))
    done = subprocess.run(
        [sys.executable, "-m", "daemon", "--once"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )
    assert done.returncode == 2
    assert "`vwaza-daemon` belongs to the server's machine" in done.stderr
    assert not (client.home / "data" / "spool").exists()


def test_a_server_that_does_not_answer_is_exit_7(tmp_path: Path) -> None:
    nowhere = Client(tmp_path / "laptop", "http://127.0.0.1:9")
    done = nowhere("release", "list", VWAZA_TOKEN="vws_whatever")
    assert done.code == 7
    assert done.stderr.startswith("error: cannot reach the server at http://127.0.0.1:9")
    assert len(done.stderr.splitlines()) == 1


@pytest.mark.parametrize("url", ["ftp://example.com", "127.0.0.1:8787", "http://", "http://x/?a"])
def test_a_server_url_that_is_not_one_is_a_usage_error(tmp_path: Path, url: str) -> None:
    laptop = Client(tmp_path / "laptop", server=None)
    done = laptop(
        "auth",
        "login",
        "--email",
        "ada@example.com",
        "--server",
        url,
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    assert done.code == 2
    assert "is not a server URL" in done.stderr


def test_an_admin_reviews_through_the_server(
    client: Client, team: Team, media: Media, tmp_path: Path
) -> None:
    ada = _logged_in(client, "ada@example.com")
    release = ada.ok(
        "release", "create", "Night Drive", "--genre", "Electronic", "--cover", str(media.cover())
    )
    ada.ok("track", "add", release["id"], str(media.wav()))
    submitted = ada.ok("release", "submit", release["id"])
    assert submitted["status"] == "PROCESSING"
    assert any("no upload daemon is running" in w for w in submitted["warnings"])
    daemon = subprocess.run(  # beside the server, on its spool (the test's environment)
        [sys.executable, "-m", "daemon", "--once"], capture_output=True, text=True, timeout=120
    )
    assert daemon.returncode == 0, daemon.stderr
    assert ada.ok("release", "show", release["id"])["status"] == "PENDING_REVIEW"
    admin = _logged_in(
        Client(tmp_path / "admin-laptop", client.server), "admin@example.com", ADMIN_PASSWORD
    )
    assert [r["id"] for r in admin.ok("review", "list")] == [release["id"]]
    assert admin.ok("review", "approve", release["id"][:8])["status"] == "PUBLISHED"
