"""Every file of the audio corpus through `vwaza track add`, as a user would add it.

Expected outcomes come from tests/unit/test_media.py (one decision per file): broken files
and formats outside the media rules are refused with exit 6 and one line, leaving the store
and the spool as they were; valid files of accepted formats are accepted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Cli, spool_files, store_snapshot
from tests.unit.test_media import CORPUS, MANIFEST, _expected_accepted

pytestmark = [
    pytest.mark.skipif(not MANIFEST, reason=f"no corpus at {CORPUS}"),
    pytest.mark.both_modes,  # on one machine, and through a team server
]


def test_corpus_through_track_add(
    initialised: Cli, people: dict[str, str], env: Path, store_url: str
) -> None:
    ada = initialised.as_user(people["ada"])
    release = ada.ok("release", "create", "Corpus", "--genre", "Test")["id"]
    surprises = []
    accepted = refused = 0
    for row in MANIFEST:
        before_store, before_spool = store_snapshot(store_url), spool_files(env)
        outcome = ada("track", "add", release, str(CORPUS / row["filename"]), "--json")
        expected = _expected_accepted(row)
        if outcome.exit_code == 0 and expected:
            accepted += 1
            assert outcome.json()["duration"] > 0
            continue
        if outcome.exit_code == 6 and not expected:
            refused += 1
            error = outcome.error()
            assert error["type"] == "invalid"
            assert "\n" not in error["message"]
            assert row["filename"] in error["message"]
            assert store_snapshot(store_url) == before_store
            assert spool_files(env) == before_spool
            continue
        surprises.append((row["filename"], row["class"], outcome.exit_code, outcome.stderr))
    assert surprises == []
    assert accepted + refused == len(MANIFEST)
    assert ".incoming" not in " ".join(spool_files(env))


def test_refusals_in_plain_mode_are_one_line_without_traceback(
    initialised: Cli, people: dict[str, str]
) -> None:
    ada = initialised.as_user(people["ada"])
    release = ada.ok("release", "create", "Corpus", "--genre", "Test")["id"]
    broken = [row for row in MANIFEST if row["class"] == "broken"]
    for row in broken:
        outcome = ada("track", "add", release, str(CORPUS / row["filename"]))
        assert outcome.exit_code == 6
        assert outcome.stderr.startswith("error: ")
        assert outcome.stderr.count("\n") == 1
        assert "Traceback" not in outcome.stderr
