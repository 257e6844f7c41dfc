"""A second hostile probe of the team server (issue 11): what held up, kept as guards. IDs
given as prefixes with SQL wildcards, another artist's track and job by prefix, odd
Authorization headers, and login-limit variants of one email."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Media
from tests.server.conftest import PASSWORD, Team


@pytest.mark.parametrize("prefix", ["________", "%%%%%%%%", "%25%25%25%25%25%25%25%25", "********"])
def test_wildcards_in_an_id_prefix_match_nothing(team: Team, prefix: str) -> None:
    team.ada.ok("POST", "/releases", json={"title": "Mine", "genre": "Pop"})
    assert team.ada.get(f"/releases/{prefix}").status_code == 404


def test_another_artists_track_and_job_are_not_found_by_prefix(team: Team, media: Media) -> None:
    theirs = team.bo.ok("POST", "/releases", json={"title": "Bo's", "genre": "Pop"})
    track = team.bo.ok(
        "POST",
        f"/releases/{theirs['id']}/tracks",
        params={"filename": "song.wav"},
        content=media.wav().read_bytes(),
        headers={"Content-Type": "application/octet-stream"},
    )
    tid, jid = track["id"][:8], track["upload_job_id"][:8]
    assert team.ada.request("PATCH", f"/tracks/{tid}", json={"title": "x"}).status_code == 404
    assert team.ada.post(f"/tracks/{tid}/move", json={"to": 1}).status_code == 404
    assert team.ada.request("DELETE", f"/tracks/{tid}").status_code == 404
    assert team.ada.post(f"/jobs/{jid}/retry").status_code == 404
    assert team.ada.ok("GET", "/jobs") == []
    assert team.bo.ok("GET", f"/releases/{theirs['id']}/tracks")[0]["title"] == "song"


@pytest.mark.parametrize(
    "value", [b"Bearer \xff\xfe", b"Bearer", b"Basic dXNlcjpwYXNz", b"Bearer x,Bearer y"]
)
def test_odd_authorization_headers_are_401_with_the_error_object(team: Team, value: bytes) -> None:
    answer = httpx.get(
        f"{team.anonymous.base}/api/v1/auth/whoami", headers=[(b"Authorization", value)]
    )
    assert answer.status_code == 401
    assert answer.json()["error"]["type"] == "permission"


def test_the_login_limit_counts_spelling_variants_of_one_email(team: Team) -> None:
    variants = ["ada@example.com", "ADA@example.com", " ada@example.com", "ada@EXAMPLE.com\n"]
    for i in range(5):
        login = {"email": variants[i % len(variants)], "password": f"wrong {i}"}
        assert team.anonymous.post("/auth/login", json=login).status_code == 401
    for email in variants:
        login = {"email": email, "password": PASSWORD}
        assert team.anonymous.post("/auth/login", json=login).status_code == 429
