"""A hostile probe of `catalog import` through a team server (issue 13): an artist in raw HTTP
naming server files, other people's uploads and the spool, the same upload twice, incomplete
or used uploads, lone surrogates, huge bodies and names; and an unlucky user with a catalog of
thousands of tracks, a catalog named meta.json, or a teammate uploading at the same moment.
The holes it found are fixed; each is kept as a plain test, beside what held."""

from __future__ import annotations

import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import spool_files, store_snapshot
from tests.server.conftest import Api, Team
from tests.server.test_remote_catalog import _release as catalog_release
from tests.server.test_remote_catalog import _send
from tests.server.test_remote_client import Client, _logged_in
from tests.support.media_factory import make_cover, make_flac, make_wav

NOT_SENT = (
    "was not sent with the catalog: through a team server, a catalog names files on the "
    "client's machine (sent with it) or https URLs"
)


def _home() -> Path:
    return Path(os.environ["VWAZA_HOME"])


def _leftovers() -> list[str]:
    """Every upload folder the server holds."""
    root = _home() / "data" / "server-uploads"
    folders = (p for p in root.rglob("*") if p.is_dir())
    return sorted(p.name for p in folders if p.name not in ("resumable", "data"))


def _release(external_id: str | None, files: list[str], cover: str | None = None) -> dict:
    return catalog_release(external_id, files, cover)  # no cover unless a test names one


def _catalog(api: Api, releases: list[dict], name: str = "catalog.json") -> str:
    return _send(api, name, json.dumps({"releases": releases}).encode())


def _raw(api: Api, route: str, body: str) -> Any:
    """A body as the attacker writes it (JSON escapes such as a lone ``\\ud800`` kept)."""
    headers = {"Content-Type": "application/json"}
    return api.post(route, content=body.encode(), headers=headers)


def _wav(tmp_path: Path, name: str = "song.wav") -> bytes:
    return make_wav(tmp_path / name, seconds=0.3, channels=1).read_bytes()


# --- holes still open ---------------------------------------------------------------------


def test_a_catalog_named_meta_json_goes_through_and_leaves_nothing(team: Team) -> None:
    document = json.dumps({"releases": [_release("M1", [])]}).encode()
    begun = team.ada.post("/uploads", json={"filename": "meta.json", "size": len(document)})
    assert begun.status_code == 201, begun.text
    upload = begun.json()["id"]
    team.ada.ok("PATCH", f"/uploads/{upload}", headers={"Upload-Offset": "0"}, content=document)
    body = {"catalog": upload, "shown": "meta.json", "dry_run": True}
    assert team.ada.ok("POST", "/catalog/import", json=body)["would_create"] == 1
    assert _leftovers() == []


@pytest.mark.parametrize(
    ("route", "fragment"),
    [
        ("plan", '"cover_art": "\\ud800.jpg"'),
        ("import", '"cover_art": "https://127.0.0.1:9/\\ud800.jpg"'),
        ("import", '"\\ud800": 1'),
    ],
)
def test_a_lone_surrogate_in_the_catalog_is_refused_never_a_500(
    team: Team, store_url: str, route: str, fragment: str
) -> None:
    release = {**_release("S1", ["song.wav"]), "cover_art": "FRAGMENT"}
    document = json.dumps({"releases": [release]}).replace('"cover_art": "FRAGMENT"', fragment)
    catalog = _send(team.ada, "catalog.json", document.encode())
    before = store_snapshot(store_url)
    answer = team.ada.post(f"/catalog/{route}", json={"catalog": catalog, "shown": "c.json"})
    team.anonymous.get("/health")  # a 500 is logged after it is sent: wait that out first
    assert answer.status_code in (200, 422), answer.text
    assert store_snapshot(store_url) == before
    if route == "import":
        assert _leftovers() == []


def test_a_catalog_of_thousands_of_tracks_imports_as_on_one_machine(
    team: Team, tmp_path: Path
) -> None:
    ada = _logged_in(Client(tmp_path / "ada-laptop", team.anonymous.base), "ada@example.com")
    folder = tmp_path / "label"
    folder.mkdir()
    master = make_wav(folder / "master.wav", seconds=0.2, channels=1)
    releases = []
    for n in range(700):
        album = f"The Artist - Album Number {n:04d}"
        (folder / album).mkdir()
        files = [f"{album}/{t:02d} - A Song With A Long Title (Remastered).wav" for t in range(10)]
        for file in files:
            os.link(master, folder / file)  # one file on disk: it goes up once
        releases.append(_release(f"BIG-{n}", files))
    path = folder / "catalog.json"
    path.write_text(json.dumps({"releases": releases}))
    done = ada("catalog", "import", str(path), "--dry-run", "--json")
    assert done.code == 0, done.stderr
    assert done.json()["would_create"] == 700
    assert _leftovers() == []


def test_a_long_shown_name_is_not_multiplied_into_a_huge_answer(team: Team) -> None:
    junk = _send(team.ada, "junk.wav", b"not audio at all")
    catalog = _catalog(team.ada, [_release(f"A{n}", ["junk.wav"]) for n in range(200)])
    body = {
        "catalog": catalog,
        "shown": "catalog.json",
        "files": {"junk.wav": {"shown": "S" * 100_000, "upload": junk}},
    }
    answer = team.ada.post("/catalog/import", json=body)
    assert answer.status_code in (400, 422)
    assert len(answer.content) < 2_000_000, f"{len(answer.content):,} bytes"


def test_two_concurrent_imports_cannot_both_use_the_same_uploads(
    team: Team, tmp_path: Path, store_url: str, mocker: Any
) -> None:
    from vwaza_cli.services import catalog as service

    song = _send(team.ada, "song.wav", _wav(tmp_path))
    catalog = _catalog(team.ada, [_release(None, ["song.wav"])])
    together = threading.Barrier(2, timeout=5)
    real = service.import_catalog

    def when_both_are_in(*args: Any, **kwargs: Any) -> Any:
        try:
            together.wait()  # both requests have taken the uploads by now
        except threading.BrokenBarrierError:
            pass  # only one got this far
        return real(*args, **kwargs)

    mocker.patch.object(service, "import_catalog", side_effect=when_both_are_in)
    body = {
        "catalog": catalog,
        "shown": "catalog.json",
        "files": {"song.wav": {"shown": "song.wav", "upload": song}},
    }
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: team.ada.post("/catalog/import", json=body), range(2)))
    assert sorted(a.status_code for a in answers) == [200, 404], [a.text for a in answers]
    assert len(store_snapshot(store_url)["releases"]) == 1
    assert _leftovers() == []


# --- what held ------------------------------------------------------------------------------


def test_an_upload_begun_while_another_is_being_created_is_not_swept(
    team: Team, mocker: Any
) -> None:
    """Beginning an upload sweeps folders that are not uploads; a teammate's being created at
    that moment (its folder made, its meta.json not yet written) is not one to sweep. (Open
    at 6174866: Ada got 503 'cannot write the upload (No such file or directory)'.)"""
    from vwaza_cli.server import resumable

    real, calls, bos = resumable.asdict, [], []

    def meanwhile(meta: Any) -> Any:
        calls.append(meta)
        if len(calls) == 1:  # Ada's folder exists, her meta.json not yet: Bo begins one
            getattr(resumable, "_forgotten_at", {}).clear()  # its sweep is due, as each minute
            bos.append(team.bo.post("/uploads", json={"filename": "bo.wav", "size": 10}))
        return real(meta)

    mocker.patch.object(resumable, "asdict", side_effect=meanwhile)
    adas = team.ada.post("/uploads", json={"filename": "catalog.json", "size": 10})
    assert len(bos) == 1
    assert bos[0].status_code == 201, bos[0].text
    assert adas.status_code == 201, adas.text
    assert team.ada.ok("GET", f"/uploads/{adas.json()['id']}")["offset"] == 0


def test_references_to_server_files_uploads_and_spool_are_refused(
    team: Team, tmp_path: Path, store_url: str
) -> None:
    """Bo's resumable upload and Bo's staged track, named by their server paths (absolute,
    file://, via ..), NUL, and plain or private URLs: all refused, none read or touched."""
    bos_master = _wav(tmp_path, "bo.wav")
    bos_upload = _send(team.bo, "bo.wav", bos_master)
    upload_path = _home() / "data" / "server-uploads" / "resumable" / bos_upload / "bo.wav"
    release = team.bo.ok("POST", "/releases", json={"title": "Bo's", "genre": "Pop"})
    track = team.bo.ok(
        "POST",
        f"/releases/{release['id']}/tracks",
        params={"filename": "staged.wav"},
        content=bos_master,
        headers={"Content-Type": "application/octet-stream"},
    )
    staged = track["audio_file"]
    assert Path(staged).is_file()  # no daemon runs: the staged copy is in the spool
    refused = {
        str(upload_path): NOT_SENT,
        f"file://{upload_path}": NOT_SENT,
        staged: NOT_SENT,
        f"file://{staged}": NOT_SENT,
        f"../../spool/{Path(staged).name}": NOT_SENT,
        f"resumable/{bos_upload}/bo.wav": NOT_SENT,
        "song\x00.wav": NOT_SENT,
        "http://127.0.0.1:9/x.wav": "could not download it: only https:// URLs are downloaded",
        "https://127.0.0.1:9/x.wav": "it is not on a public address",
        "https://[::ffff:10.0.0.1]/x.wav": "it is not on a public address",
    }
    catalog = _catalog(team.ada, [_release(f"EVIL-{n}", [r]) for n, r in enumerate(refused)])
    before, spool = store_snapshot(store_url), spool_files(_home())
    body = {"catalog": catalog, "shown": "catalog.json", "files": {}}
    answer = team.ada.post("/catalog/import", json=body)
    assert answer.status_code == 422, answer.text
    problems = answer.json()["error"]["problems"]
    assert len(problems) == len(refused)
    for problem, wanted in zip(problems, refused.values(), strict=True):
        assert problem["field"] == "file"
        assert wanted in problem["message"]
    assert store_snapshot(store_url) == before
    assert spool_files(_home()) == spool
    assert team.bo.ok("GET", f"/uploads/{bos_upload}")["offset"] == len(bos_master)
    assert _leftovers() == [bos_upload]  # Ada's catalog used; Bo's upload untouched


def test_the_same_upload_as_catalog_and_file_is_refused_and_removed(
    team: Team, store_url: str
) -> None:
    catalog = _catalog(team.ada, [_release("S1", ["catalog.json"], cover="catalog.json")])
    before = store_snapshot(store_url)
    body = {
        "catalog": catalog,
        "shown": "catalog.json",
        "files": {"catalog.json": {"shown": "catalog.json", "upload": catalog}},
    }
    answer = team.ada.post("/catalog/import", json=body)
    assert answer.status_code == 404, answer.text  # claimed as the catalog: no longer there
    assert answer.json()["error"]["type"] == "not_found"
    assert "server-uploads" not in answer.text
    assert _leftovers() == []
    assert store_snapshot(store_url) == before
    assert _leftovers() == []


def test_an_incomplete_upload_is_refused_and_kept_for_resuming(
    team: Team, tmp_path: Path, store_url: str
) -> None:
    master = _wav(tmp_path)
    part = team.ada.ok("POST", "/uploads", json={"filename": "song.wav", "size": len(master)})
    team.ada.ok(
        "PATCH", f"/uploads/{part['id']}", headers={"Upload-Offset": "0"}, content=master[:100]
    )
    half_catalog = team.ada.ok("POST", "/uploads", json={"filename": "c.json", "size": 50})
    plan = team.ada.post("/catalog/plan", json={"catalog": half_catalog["id"], "shown": "c.json"})
    assert plan.status_code == 409
    catalog = _catalog(team.ada, [_release("I1", ["song.wav"])])
    before = store_snapshot(store_url)
    body = {
        "catalog": catalog,
        "shown": "catalog.json",
        "files": {"song.wav": {"shown": "song.wav", "upload": part["id"]}},
    }
    answer = team.ada.post("/catalog/import", json=body)
    assert answer.status_code == 409, answer.text
    assert "100 of" in answer.json()["error"]["message"]
    assert store_snapshot(store_url) == before
    assert _leftovers() == sorted([part["id"], half_catalog["id"]])  # the catalog was used
    assert team.ada.ok("GET", f"/uploads/{part['id']}")["offset"] == 100


def test_a_dry_run_uses_the_uploads_and_a_real_run_must_send_them_again(
    team: Team, tmp_path: Path, store_url: str
) -> None:
    song = _send(team.ada, "song.wav", _wav(tmp_path))
    catalog = _catalog(team.ada, [_release("D1", ["song.wav"])])
    before = store_snapshot(store_url)
    body = {
        "catalog": catalog,
        "shown": "catalog.json",
        "dry_run": True,
        "files": {"song.wav": {"shown": "song.wav", "upload": song}},
    }
    assert team.ada.ok("POST", "/catalog/import", json=body)["would_create"] == 1
    assert _leftovers() == []
    answer = team.ada.post("/catalog/import", json={**body, "dry_run": False})
    assert answer.status_code == 404
    assert "no such upload" in answer.json()["error"]["message"]
    assert store_snapshot(store_url) == before


def test_another_users_catalog_upload_is_not_found_and_stays_theirs(
    team: Team, tmp_path: Path
) -> None:
    song = _send(team.ada, "song.wav", _wav(tmp_path))
    catalog = _catalog(team.ada, [_release("O1", ["song.wav"])])
    files = {"song.wav": {"shown": "song.wav", "upload": song}}
    assert team.bo.post("/catalog/plan", json={"catalog": catalog, "shown": "x"}).status_code == 404
    body = {"catalog": catalog, "shown": "x.json", "files": {}}
    assert team.bo.post("/catalog/import", json=body).status_code == 404
    assert team.admin.post("/catalog/import", json=body).status_code == 404
    assert _leftovers() == sorted([song, catalog])
    mine = {"catalog": catalog, "shown": "catalog.json", "files": files}
    assert team.ada.ok("POST", "/catalog/import", json=mine)["created"] == 1
    assert _leftovers() == []


def test_a_csv_catalog_imports_and_other_names_are_refused_in_the_clients_words(
    team: Team, tmp_path: Path
) -> None:
    song = _send(team.ada, "song.wav", _wav(tmp_path))
    csv = b"external_id,title,genre,track_order,track_title,file\nC1,Csv,Pop,1,One,song.wav\n"
    catalog = _send(team.ada, "catalog.CSV", csv)
    plan = team.ada.ok("POST", "/catalog/plan", json={"catalog": catalog, "shown": "c.csv"})
    assert plan == {"files": ["song.wav"]}
    body = {
        "catalog": catalog,
        "shown": "c.csv",
        "files": {"song.wav": {"shown": "song.wav", "upload": song}},
    }
    assert team.ada.ok("POST", "/catalog/import", json=body)["created"] == 1
    for name in ("catalog", "catalog.json.wav", ".json", "catalog.txt"):
        for route in ("plan", "import"):
            catalog = _catalog(team.ada, [_release("N1", [])], name=name)
            shown = f"/laptop/{name}"
            answer = team.ada.post(f"/catalog/{route}", json={"catalog": catalog, "shown": shown})
            assert answer.status_code == 422, (name, route, answer.text)
            assert answer.json()["error"]["message"] == f"{shown}: 1 problem"
            assert answer.json()["error"]["lines"] == [
                "catalog file: use a .json or .csv catalog file"
            ]
            assert _leftovers() == []


def test_problems_with_sent_files_name_them_as_the_client_does_never_the_server(
    team: Team, tmp_path: Path
) -> None:
    flac = make_flac(tmp_path / "song.flac", seconds=0.3).read_bytes()
    cover = make_cover(tmp_path / "cover.jpg", size=1000).read_bytes()
    broken = {
        "a.wav": b"RIFF" + os.urandom(3000),
        "b.flac": flac[: len(flac) // 2],
        "c.m4a": b"\x00\x00\x00\x18ftypM4A " + os.urandom(3000),
        "d" * 240 + ".wav": b"RIFF" + os.urandom(300),
        "new\nline'quote\".aiff": b"FORM" + os.urandom(300),
    }
    uploads = {name: _send(team.ada, name, data) for name, data in broken.items()}
    uploads["cover.jpg"] = _send(team.ada, "cover.jpg", cover[:300])
    releases = [_release(f"B{n}", [name]) for n, name in enumerate(broken)]
    releases.append(_release("B-cover", [], cover="cover.jpg"))
    catalog = _catalog(team.ada, releases)
    files = {
        name: {"shown": f"laptop-{n}", "upload": u} for n, (name, u) in enumerate(uploads.items())
    }
    body = {"catalog": catalog, "shown": "catalog.json", "files": files}
    answer = team.ada.post("/catalog/import", json=body)
    assert answer.status_code == 422, answer.text
    messages = [p["message"] for p in answer.json()["error"]["problems"]]
    assert [m.split(":")[0] for m in messages] == [f"laptop-{n}" for n in range(len(uploads))]
    for leak in (str(_home()), "server-uploads", "resumable", *uploads.values()):
        assert leak not in answer.text
    assert _leftovers() == []


def test_an_admin_imports_for_artists_through_the_server(team: Team, tmp_path: Path) -> None:
    master = _wav(tmp_path)
    for_ada = {**_release("A1", ["song.wav"]), "artist_email": "ada@example.com"}
    for_nobody = _release("A2", ["song.wav"])
    for_admin = {**_release("A3", ["song.wav"]), "artist_email": "admin@example.com"}
    catalog = _catalog(team.admin, [for_ada, for_nobody, for_admin])
    song = _send(team.admin, "song.wav", master)
    files = {"song.wav": {"shown": "song.wav", "upload": song}}
    body = {"catalog": catalog, "shown": "catalog.json", "files": files}
    answer = team.admin.post("/catalog/import", json=body)
    assert answer.status_code == 422
    assert [p["release"] for p in answer.json()["error"]["problems"]] == ["A2", "A3"]
    assert team.ada.ok("GET", "/releases") == []
    catalog, song = _catalog(team.admin, [for_ada]), _send(team.admin, "song.wav", master)
    files = {"song.wav": {"shown": "song.wav", "upload": song}}
    body = {"catalog": catalog, "shown": "catalog.json", "files": files}
    assert team.admin.ok("POST", "/catalog/import", json=body)["created"] == 1
    [release] = team.ada.ok("GET", "/releases")
    assert (release["external_id"], release["artist_email"]) == ("A1", "ada@example.com")
    assert _leftovers() == []
    # an artist naming another's email is refused, and Bo sees nothing of it
    catalog = _catalog(team.ada, [{**_release("A4", []), "artist_email": "bo@example.com"}])
    body = {"catalog": catalog, "shown": "catalog.json", "files": {}}
    answer = team.ada.post("/catalog/import", json=body)
    assert answer.json()["error"]["problems"][0]["field"] == "artist_email"
    assert team.bo.ok("GET", "/releases") == []


def test_huge_files_maps_shown_names_and_keys_are_answered_with_the_error_object(
    team: Team, store_url: str
) -> None:
    catalog = _catalog(team.ada, [_release("H1", ["song.wav"])])
    before = store_snapshot(store_url)
    too_long = {"catalog": catalog, "shown": "S" * 5_000, "files": {}}
    answer = team.ada.post("/catalog/import", json=too_long)
    assert answer.status_code == 400, answer.text[:300]  # refused unread: the catalog is kept
    assert answer.json()["error"]["type"] == "usage"
    too_big = {"catalog": catalog, "shown": "S" * 70_000_000, "files": {}}
    answer = team.ada.post("/catalog/import", json=too_big)
    assert answer.status_code == 413, answer.text[:300]
    assert answer.json()["error"]["type"] == "invalid"
    huge_map = {f"ref-{n}": {"shown": "x", "error": "gone"} for n in range(100_000)}
    body = {"catalog": catalog, "shown": "catalog.json", "files": huge_map}
    answer = team.ada.post("/catalog/import", json=body)  # 100,000 references: taken
    assert answer.status_code == 422, answer.text[:300]
    [problem] = answer.json()["error"]["problems"]
    assert problem["message"] == f"song.wav {NOT_SENT}"
    catalog = _catalog(team.ada, [_release("H1", ["song.wav"])])
    gone = {"shown": "x", "error": "gone"}
    files = {"SURROGATE": gone, "k" * 900_000: gone}
    body = json.dumps({"catalog": catalog, "shown": "catalog.json", "files": files})
    surrogate_key = body.replace('"SURROGATE"', '"\\ud800"')
    answer = _raw(team.ada, "/catalog/import", surrogate_key)
    assert answer.status_code == 422, answer.text[:300]
    [problem] = answer.json()["error"]["problems"]
    assert problem["message"] == f"song.wav {NOT_SENT}"
    assert store_snapshot(store_url) == before
    assert _leftovers() == []
