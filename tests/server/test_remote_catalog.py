"""`vwaza catalog import` through a team server (issue 13): the catalog and its files are on
the client's machine; each distinct file goes up once, only for the releases still to create,
before the server imports from its copies. A client can only name files it sent (or https
URLs): never one of the server's own."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import store_snapshot
from tests.server.conftest import Api, Team
from tests.server.test_remote_client import Client, _logged_in
from tests.support.media_factory import make_cover, make_wav


def _label(tmp_path: Path) -> Path:
    """A label's folder on the artist's laptop: masters and a cover beside the catalog."""
    folder = tmp_path / "laptop-label"
    (folder / "audio").mkdir(parents=True)
    make_cover(folder / "cover.jpg", size=1000)
    for n in (1, 2, 3):
        make_wav(folder / "audio" / f"0{n}.wav", seconds=0.3, channels=1)
    return folder


def _release(external_id: str | None, files: list[str], cover: str | None = "cover.jpg") -> dict:
    return {
        "external_id": external_id,
        "title": f"Release {external_id}",
        "genre": "Pop",
        "cover_art": cover,
        "tracks": [
            {"order": n, "title": f"Song {n}", "file": file} for n, file in enumerate(files, 1)
        ],
    }


def _write(folder: Path, releases: list[dict], name: str = "catalog.json") -> Path:
    path = folder / name
    path.write_text(json.dumps({"releases": releases}))
    return path


def _server_uploads() -> list[Path]:
    root = Path(os.environ["VWAZA_HOME"]) / "data" / "server-uploads" / "resumable"
    return sorted(root.iterdir()) if root.exists() else []


@pytest.fixture
def ada(team: Team, tmp_path: Path) -> Client:
    """Ada's laptop: the catalog and its files are here, the store is the server's."""
    return _logged_in(Client(tmp_path / "ada-laptop", team.anonymous.base), "ada@example.com")


@pytest.fixture
def sent(mocker: Any) -> list[str]:
    """The name of every upload the server begins (the server runs in this process)."""
    from vwaza_cli.server import resumable

    names: list[str] = []
    real = resumable.create

    def create(settings: Any, owner: str, filename: str, size: int, max_bytes: int) -> Any:
        names.append(filename)
        return real(settings, owner, filename, size, max_bytes)

    mocker.patch.object(resumable, "create", side_effect=create)
    return names


def test_a_catalog_imports_through_the_server_each_file_sent_once(
    ada: Client, tmp_path: Path, store_url: str, sent: list[str]
) -> None:
    folder = _label(tmp_path)
    os.link(folder / "audio" / "01.wav", folder / "audio" / "01-again.wav")
    same_file_three_ways = ["audio/01.wav", str(folder / "audio" / "01.wav"), "audio/01-again.wav"]
    path = _write(
        folder,
        [
            _release("LBL-1", [*same_file_three_ways, "audio/02.wav"]),
            _release("LBL-2", ["audio/02.wav"]),
        ],
    )
    done = ada("catalog", "import", str(path), "--json")
    assert done.code == 0, done.stderr
    assert done.loaded == []  # no store, no media library on the client: the server checks
    report = done.json()
    assert report["created"] == 2
    assert [r["result"] for r in report["releases"]] == ["created", "created"]
    assert sorted(sent) == ["01.wav", "02.wav", "catalog.json", "cover.jpg"]
    rows = store_snapshot(store_url)
    assert len(rows["tracks"]) == 5
    assert len(rows["upload_jobs"]) == 7  # five masters and two covers, queued on the server
    assert _server_uploads() == []  # every upload used, none left behind


def test_a_rerun_sends_only_the_files_of_the_releases_still_to_create(
    ada: Client, tmp_path: Path, sent: list[str]
) -> None:
    folder = _label(tmp_path)
    first = _release("LBL-1", ["audio/01.wav"])
    ada.ok("catalog", "import", str(_write(folder, [first])))
    sent.clear()
    later = _release("LBL-2", ["audio/03.wav"], cover=None)
    report = ada.ok("catalog", "import", str(_write(folder, [first, later])))
    assert [r["result"] for r in report["releases"]] == ["skipped", "created"]
    assert sent == ["catalog.json", "03.wav"]


def test_problems_name_the_clients_files_never_the_servers_copies(
    ada: Client, tmp_path: Path, store_url: str
) -> None:
    folder = _label(tmp_path)
    (folder / "audio" / "broken.wav").write_bytes(b"RIFF" + os.urandom(3000))
    path = _write(folder, [_release("LBL-1", ["audio/broken.wav", "audio/gone.wav"])])
    before = store_snapshot(store_url)
    done = ada("catalog", "import", str(path))
    assert done.code == 6
    lines = [line.strip() for line in done.stderr.splitlines()]
    assert lines[0] == f"error: {path}: 2 problems"
    assert lines[1].startswith(f"LBL-1 track 1 file: {folder / 'audio' / 'broken.wav'}: ")
    assert lines[2] == f"LBL-1 track 2 file: {folder / 'audio' / 'gone.wav'}: no such file"
    assert "server-uploads" not in done.stderr
    assert store_snapshot(store_url) == before
    assert _server_uploads() == []


def test_a_dry_run_through_the_server_writes_nothing(
    ada: Client, tmp_path: Path, store_url: str
) -> None:
    folder = _label(tmp_path)
    path = _write(folder, [_release("LBL-1", ["audio/01.wav"])])
    before = store_snapshot(store_url)
    report = ada.ok("catalog", "import", str(path), "--dry-run")
    assert report["would_create"] == 1
    assert store_snapshot(store_url) == before
    assert _server_uploads() == []


def test_an_import_the_server_could_not_finish_completes_on_the_next_run(
    ada: Client, tmp_path: Path, sent: list[str], mocker: Any
) -> None:
    from vwaza_cli.errors import StoreUnavailable
    from vwaza_cli.services import catalog

    real, calls = catalog._write_release, {"n": 0}

    def fail_on_second(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise StoreUnavailable("cannot reach the store (the test cut it): retry later")
        return real(*args, **kwargs)

    folder = _label(tmp_path)
    path = _write(
        folder, [_release("LBL-1", ["audio/01.wav"]), _release("LBL-2", ["audio/02.wav"], None)]
    )
    mocker.patch.object(catalog, "_write_release", side_effect=fail_on_second)
    failed = ada("catalog", "import", str(path))
    assert failed.code == 7
    assert "retry later" in failed.stderr
    mocker.stopall()
    assert [r["external_id"] for r in ada.ok("catalog", "export")["releases"]] == ["LBL-1"]
    sent.clear()
    from vwaza_cli.server import resumable

    spy = mocker.spy(resumable, "create")
    report = ada.ok("catalog", "import", str(path))
    assert [r["result"] for r in report["releases"]] == ["skipped", "created"]
    assert [call.args[2] for call in spy.call_args_list] == ["catalog.json", "02.wav"]
    assert _server_uploads() == []


# --- a hostile client, in raw HTTP: it may name only what it sent ---------------------------


def _send(api: Api, name: str, content: bytes) -> str:
    upload = api.ok("POST", "/uploads", json={"filename": name, "size": len(content)})
    headers = {"Upload-Offset": "0"}
    api.ok("PATCH", f"/uploads/{upload['id']}", headers=headers, content=content)
    return str(upload["id"])


def _catalog_naming(api: Api, reference: str) -> str:
    document = {"releases": [_release("EVIL-1", [reference], cover=None)]}
    return _send(api, "catalog.json", json.dumps(document).encode())


@pytest.mark.parametrize(
    "reference",
    ["server-file", "file://server-file", "../../../../../etc/hostname", "/etc/hostname"],
)
def test_a_catalog_cannot_make_the_server_read_its_own_files(
    team: Team, store_url: str, reference: str
) -> None:
    server_file = Path(os.environ["VWAZA_HOME"]) / "server-master.wav"
    make_wav(server_file, seconds=0.3, channels=1)  # a real master on the server's disk
    reference = reference.replace("server-file", str(server_file))
    before = store_snapshot(store_url)
    catalog = _catalog_naming(team.ada, reference)
    answer = team.ada.post(
        "/catalog/import", json={"catalog": catalog, "shown": "catalog.json", "files": {}}
    )
    assert answer.status_code == 422, answer.text
    problem = answer.json()["error"]["problems"][0]
    assert problem["field"] == "file"
    assert problem["message"].endswith(
        "was not sent with the catalog: through a team server, a "
        "catalog names files on the client's machine (sent with "
        "it) or https URLs"
    )
    assert store_snapshot(store_url) == before
    assert _server_uploads() == []


def test_a_catalog_cannot_name_another_users_upload(
    team: Team, store_url: str, tmp_path: Path
) -> None:
    master = make_wav(tmp_path / "bo.wav", seconds=0.3, channels=1)
    bos = _send(team.bo, "bo.wav", master.read_bytes())
    catalog = _catalog_naming(team.ada, "bo.wav")
    before = store_snapshot(store_url)
    body = {
        "catalog": catalog,
        "shown": "catalog.json",
        "files": {"bo.wav": {"shown": "bo.wav", "upload": bos}},
    }
    answer = team.ada.post("/catalog/import", json=body)
    assert answer.status_code == 404
    assert store_snapshot(store_url) == before
    assert team.bo.ok("GET", f"/uploads/{bos}")["offset"] == master.stat().st_size  # still Bo's
