"""`track add` through the server: the file is the request body, checked, staged and queued
on the server before it answers."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Media, spool_files
from tests.server.conftest import Api, Team


def _send(user: Api, release_id: str, path: Path, **params: str) -> object:
    with path.open("rb") as body:
        return user.post(
            f"/releases/{release_id}/tracks",
            params={"filename": path.name, **params},
            content=body,  # a file object: httpx streams it
            headers={"Content-Type": "application/octet-stream"},
        )


def _release(user: Api) -> str:
    return user.ok("POST", "/releases", json={"title": "Night Drive", "genre": "Pop"})["id"]


def test_a_sent_track_is_staged_and_queued(team: Team, media: Media, env: Path) -> None:
    release_id = _release(team.ada)
    response = _send(team.ada, release_id, media.wav("01 Intro.wav"), isrc="USRC17607839")
    assert response.status_code == 201, response.text
    track = response.json()
    assert track["title"] == "01 Intro"
    assert track["isrc"] == "USRC17607839"
    assert track["order"] == 1
    assert track["upload_status"] == "PENDING"
    assert Path(track["audio_file"]).is_relative_to(env / "data" / "spool")
    assert "no upload daemon is running" in " ".join(track["warnings"])
    assert [j["id"] for j in team.ada.ok("GET", "/jobs")] == [track["upload_job_id"]]
    assert not list((env / "data" / "server-uploads").iterdir())


def test_a_file_that_is_not_audio_is_refused_by_its_name(
    team: Team, media: Media, env: Path
) -> None:
    release_id = _release(team.ada)
    refused = _send(team.ada, release_id, media.junk("demo.wav"))
    assert refused.status_code == 422
    message = refused.json()["error"]["message"]
    assert message.startswith("demo.wav: ")
    assert "server-uploads" not in message
    assert team.ada.ok("GET", f"/releases/{release_id}/tracks") == []
    assert spool_files(env) == []


def test_a_track_for_another_artists_release_is_not_found(
    team: Team, media: Media, env: Path
) -> None:
    release_id = _release(team.ada)
    refused = _send(team.bo, release_id, media.wav())
    assert refused.status_code == 404
    assert team.ada.ok("GET", f"/releases/{release_id}/tracks") == []
    assert spool_files(env) == []


def test_a_track_without_a_session_is_refused(team: Team, media: Media) -> None:
    release_id = _release(team.ada)
    assert _send(team.anonymous, release_id, media.wav()).status_code == 401


def test_a_file_name_with_folders_keeps_only_its_name(team: Team, media: Media) -> None:
    release_id = _release(team.ada)
    path = media.wav("song.wav")
    with path.open("rb") as body:
        response = team.ada.post(
            f"/releases/{release_id}/tracks",
            params={"filename": "../../etc/Evil Song.wav"},
            content=body,
        )
    assert response.status_code == 201, response.text
    assert response.json()["title"] == "Evil Song"


def test_a_sent_cover_is_staged_and_queued(team: Team, media: Media, env: Path) -> None:
    release_id = _release(team.ada)
    path = media.cover("art.jpg")
    with path.open("rb") as body:
        response = team.ada.request(
            "PUT", f"/releases/{release_id}/cover", params={"filename": path.name}, content=body
        )
    assert response.status_code == 200, response.text
    release = response.json()
    assert Path(release["cover_art"]).is_relative_to(env / "data" / "spool")
    assert release["upload_job_id"] in {j["id"] for j in team.ada.ok("GET", "/jobs")}


def test_a_cover_that_is_not_an_image_is_refused(team: Team, media: Media, env: Path) -> None:
    release_id = _release(team.ada)
    path = media.junk("art.jpg")
    with path.open("rb") as body:
        refused = team.ada.request(
            "PUT", f"/releases/{release_id}/cover", params={"filename": path.name}, content=body
        )
    assert refused.status_code == 422
    assert refused.json()["error"]["message"].startswith("art.jpg: ")
    assert team.ada.ok("GET", f"/releases/{release_id}")["cover_art"] is None
    assert spool_files(env) == []
