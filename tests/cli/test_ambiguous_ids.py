"""An ID prefix that matches several rows lists them, as git lists the candidates of a short
hash; the exit code stays that of invalid input (6)."""

from __future__ import annotations

import pytest

from tests.conftest import Cli, Media, store_snapshot

pytestmark = pytest.mark.both_modes  # on one machine, and through a team server

PREFIX = "1f2e3d4c"


def _release_with_id(cli: Cli, store_url: str, new_id: str, title: str) -> None:
    """A release whose ID is chosen, so that several can share a prefix."""
    import sqlalchemy as sa

    from vwaza_cli.db.engine import get_engine

    made = cli.ok("release", "create", title, "--genre", "Electronic")
    with get_engine(store_url).begin() as conn:
        conn.execute(
            sa.text("UPDATE releases SET id = :new WHERE id = :old"),
            {"new": new_id, "old": made["id"]},
        )


def test_an_ambiguous_prefix_lists_the_candidates(ada: Cli, store_url: str) -> None:
    _release_with_id(ada, store_url, f"{PREFIX}-aaaa-4aaa-8aaa-aaaaaaaaaaaa", "Night Drive")
    _release_with_id(ada, store_url, f"{PREFIX}-bbbb-4bbb-8bbb-bbbbbbbbbbbb", "Day Drive")
    before = store_snapshot(store_url)
    outcome = ada("release", "show", PREFIX)
    assert outcome.exit_code == 6
    assert outcome.stderr == (
        f'error: {PREFIX} is ambiguous: {PREFIX}-a\u2026 (release "Night Drive"), '
        f'{PREFIX}-b\u2026 (release "Day Drive"): give more characters\n'
    )
    assert store_snapshot(store_url) == before
    longer = ada.ok("release", "show", f"{PREFIX}-a")  # the shown prefix is enough
    assert longer["title"] == "Night Drive"


def test_the_candidates_are_shown_until_they_differ(ada: Cli, store_url: str) -> None:
    _release_with_id(ada, store_url, f"{PREFIX}-aaaa-4aaa-8aaa-aaaaaaaaaaaa", "One")
    _release_with_id(ada, store_url, f"{PREFIX}-aaab-4aaa-8aaa-aaaaaaaaaaaa", "Two")
    message = ada("release", "edit", PREFIX, "--title", "X", "--json").error()["message"]
    assert message == (
        f'{PREFIX} is ambiguous: {PREFIX}-aaaa\u2026 (release "One"), '
        f'{PREFIX}-aaab\u2026 (release "Two"): give more characters'
    )


def test_at_most_five_candidates_are_listed(ada: Cli, store_url: str) -> None:
    for n in range(7):
        _release_with_id(ada, store_url, f"{PREFIX}-000{n}-4aaa-8aaa-aaaaaaaaaaaa", f"R{n}")
    message = ada("release", "show", PREFIX, "--json").error()["message"]
    assert message.count("(release ") == 5
    assert message.endswith(", and more: give more characters")


def test_only_rows_the_caller_may_see_are_candidates(
    ada: Cli, people: dict, store_url: str
) -> None:
    bo = ada.as_user(people["bo"])
    _release_with_id(ada, store_url, f"{PREFIX}-aaaa-4aaa-8aaa-aaaaaaaaaaaa", "Ada's")
    _release_with_id(bo, store_url, f"{PREFIX}-bbbb-4bbb-8bbb-bbbbbbbbbbbb", "Bo's")
    assert ada.ok("release", "show", PREFIX)["title"] == "Ada's"  # Bo's is not visible


def test_an_ambiguous_job_prefix_names_each_jobs_kind(
    ada: Cli, media: Media, store_url: str
) -> None:
    import sqlalchemy as sa

    from vwaza_cli.db.engine import get_engine

    release = ada.ok("release", "create", "Night Drive", "--genre", "Electronic")
    ada.ok("track", "add", release["id"], str(media.wav()))
    ada.ok("release", "cover", release["id"], str(media.cover()))
    with get_engine(store_url).begin() as conn:
        ids = sorted(conn.execute(sa.text("SELECT id FROM upload_jobs")).scalars())
        for n, old in enumerate(ids):
            new = f"{PREFIX}-000{n}-4aaa-8aaa-aaaaaaaaaaaa"
            conn.execute(
                sa.text("UPDATE upload_jobs SET id = :new WHERE id = :old"),
                {"new": new, "old": old},
            )
    message = ada("jobs", "retry", PREFIX, "--json").error()["message"]
    assert message.startswith(f"{PREFIX} is ambiguous: {PREFIX}-0000\u2026 (job ")
    assert "AUDIO PENDING" in message
    assert "COVER_ART PENDING" in message
