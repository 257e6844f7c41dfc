"""Large files go to a team server as resumable uploads (issue 13): a connection dropped in
the middle resumes from what the server holds instead of starting over, and the file staged
is byte for byte the one sent. A proxy on 127.0.0.1 cuts the connections on purpose."""

from __future__ import annotations

import hashlib
import os
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import Cli
from tests.server.conftest import Api, Team
from tests.server.test_remote_client import Client, _logged_in
from tests.support.cutting_proxy import cutting_proxy
from tests.support.media_factory import make_wav

MIB = 1024 * 1024


@pytest.fixture
def big_wav(tmp_path: Path) -> Path:
    """About 21 MiB: past the client's resumable threshold (8 MiB)."""
    return make_wav(tmp_path / "long take.wav", seconds=125, rate=44100, channels=2)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _staged(store_url: str, track_id: str) -> tuple[str, str]:
    from vwaza_cli.db.engine import get_engine

    with get_engine(store_url).connect() as connection:
        row = connection.execute(
            sa.text("SELECT local_path, sha256 FROM upload_jobs WHERE target_id = :t"),
            {"t": track_id},
        ).one()
    return str(row[0]), str(row[1])


@pytest.mark.parametrize("cuts", [[5 * MIB], [3 * MIB, 9 * MIB, 15 * MIB]])
def test_a_dropped_connection_resumes_where_the_server_is(
    team: Team,
    tmp_path: Path,
    big_wav: Path,
    store_url: str,
    cuts: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    size = big_wav.stat().st_size
    with cutting_proxy(team.anonymous.base, cuts) as (url, proxy):
        ada = _logged_in(Client(tmp_path / "laptop", url), "ada@example.com")
        release = ada.ok("release", "create", "Night Drive", "--genre", "Electronic")
        track = ada.ok("track", "add", release["id"], str(big_wav), "--title", "Long take")
    assert proxy.cut_done == len(cuts)  # every cut happened, in the body
    assert track["title"] == "Long take"
    assert proxy.carried < size + 2 * MIB  # resumed: a restart would carry the cut part again
    local_path, sha256 = _staged(store_url, track["id"])
    assert sha256 == _sha256(big_wav)
    assert _sha256(Path(local_path)) == _sha256(big_wav)


def test_the_name_is_the_clients_and_a_refused_file_leaves_nothing(
    team: Team, tmp_path: Path, store_url: str
) -> None:
    fake = tmp_path / "not audio.wav"
    fake.write_bytes(b"RIFF" + bytes(9 * MIB))
    ada = _logged_in(Client(tmp_path / "laptop", team.anonymous.base), "ada@example.com")
    release = ada.ok("release", "create", "Night Drive", "--genre", "Electronic")
    refused = ada("track", "add", release["id"], str(fake))
    assert refused.code == 6
    assert refused.stderr.startswith("error: not audio.wav")
    assert "resumable" not in refused.stderr
    server_uploads = Path(os.environ["VWAZA_HOME"]) / "data" / "server-uploads"
    assert list((server_uploads / "resumable").iterdir()) == []


def _begin(api: Api, size: int = 100, filename: str = "a.wav") -> dict:
    return api.ok("POST", "/uploads", json={"filename": filename, "size": size})


def test_an_upload_is_its_owners_alone(team: Team) -> None:
    upload = _begin(team.ada)
    for method in ("GET", "DELETE"):
        assert team.bo.request(method, f"/uploads/{upload['id']}").status_code == 404
    sent = team.bo.request(
        "PATCH", f"/uploads/{upload['id']}", headers={"Upload-Offset": "0"}, content=b"x"
    )
    assert sent.status_code == 404
    assert team.anonymous.get(f"/uploads/{upload['id']}").status_code == 401
    assert team.ada.ok("GET", f"/uploads/{upload['id']}")["offset"] == 0


def test_bytes_go_on_only_at_the_servers_offset_and_never_past_the_size(team: Team) -> None:
    upload = _begin(team.ada, size=10)
    where = f"/uploads/{upload['id']}"
    first = team.ada.request("PATCH", where, headers={"Upload-Offset": "0"}, content=b"12345")
    assert first.json()["offset"] == 5
    wrong = team.ada.request("PATCH", where, headers={"Upload-Offset": "0"}, content=b"12345")
    assert wrong.status_code == 409
    assert "at byte 5" in wrong.json()["error"]["message"]
    too_many = team.ada.request("PATCH", where, headers={"Upload-Offset": "5"}, content=b"123456")
    assert too_many.status_code == 422
    assert team.ada.ok("GET", where)["offset"] <= 10


def test_an_unfinished_upload_cannot_be_used(team: Team) -> None:
    release = team.ada.ok("POST", "/releases", json={"title": "T", "genre": "Pop"})
    upload = _begin(team.ada, size=10)
    used = team.ada.post(
        f"/releases/{release['id']}/tracks/from-upload", json={"upload": upload["id"]}
    )
    assert used.status_code == 409
    assert "0 of 10 bytes" in used.json()["error"]["message"]
    unknown = team.ada.post(
        f"/releases/{release['id']}/tracks/from-upload", json={"upload": "../../etc/passwd"}
    )
    assert unknown.status_code == 404


def test_an_upload_bigger_than_any_file_taken_is_refused_at_once(team: Team) -> None:
    refused = team.ada.post("/uploads", json={"filename": "huge.wav", "size": 10**13})
    assert refused.status_code == 422
    assert "too big" in refused.json()["error"]["message"]


def test_uploads_past_their_time_are_forgotten(team: Team) -> None:
    from vwaza_cli import clock
    from vwaza_cli.server import resumable
    from vwaza_cli.settings import load_settings

    upload = _begin(team.ada)
    settings = load_settings()
    resumable.forget_expired(settings, now=clock.now() + timedelta(hours=23))
    assert team.ada.get(f"/uploads/{upload['id']}").status_code == 200
    resumable.forget_expired(settings, now=clock.now() + resumable.KEEP_FOR + timedelta(minutes=1))
    assert team.ada.get(f"/uploads/{upload['id']}").status_code == 404
    assert not (resumable.root(settings) / upload["id"]).exists()


def test_a_folder_still_being_made_is_left_alone_until_it_is_plainly_abandoned(
    team: Team,
) -> None:
    """An upload's folder is made before its meta.json: a sweep at that moment must not take
    it; one a crash left without meta.json goes once it is older than MAKING."""
    from vwaza_cli import clock
    from vwaza_cli.server import resumable
    from vwaza_cli.settings import load_settings

    settings = load_settings()
    _begin(team.ada)  # the upload folder exists
    making = resumable.root(settings) / ("0" * 32)
    making.mkdir()
    resumable.forget_expired(settings)
    assert making.exists()
    resumable.forget_expired(settings, now=clock.now() + resumable.MAKING + timedelta(minutes=1))
    assert not making.exists()


def test_a_server_that_keeps_dropping_the_upload_gives_up_with_exit_7(
    team: Team, big_wav: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vwaza_cli.client import remote

    pauses: list[float] = []
    monkeypatch.setattr(remote, "pause", pauses.append)
    release = team.ada.ok("POST", "/releases", json={"title": "T", "genre": "Pop"})
    # every connection that carries the body is cut before a MiB of it has gone through
    cuts = [96 * 1024] * (remote.MAX_RESUMES + 5)
    with cutting_proxy(team.anonymous.base, cuts) as (url, proxy):
        done = Cli(token=team.ada.token, server=url)("track", "add", release["id"], str(big_wav))
    assert done.exit_code == 7
    assert done.stderr.startswith("error: cannot reach the server")
    assert len(pauses) == remote.MAX_RESUMES  # then it gave up
    assert pauses == sorted(pauses)  # waiting longer each time
    assert proxy.cut_done == remote.MAX_RESUMES + 1
    assert proxy.carried < (remote.MAX_RESUMES + 1) * 100 * 1024  # never more than was let by
