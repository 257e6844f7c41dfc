"""Catalog downloads from the command line (catalog.md): https only, public addresses only,
dry run included, size capped; a refusal changes nothing and connects to nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Cli, spool_files, store_snapshot
from tests.support.hostile import catalog, label_folder, problems
from tests.support.https_server import ConnectionRecorder, HttpsServer, TlsFiles, write_tls_files

pytestmark = pytest.mark.both_modes


@pytest.fixture(autouse=True)
def no_private_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    """The guard as shipped, whatever the developer's shell says; tests that need loopback
    set VWAZA_ALLOW_PRIVATE_URLS themselves."""
    monkeypatch.delenv("VWAZA_ALLOW_PRIVATE_URLS", raising=False)


@pytest.fixture
def private_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """VWAZA_ALLOW_PRIVATE_URLS=1 where the import runs: asked for before the CLI, so that
    a team server started for the test has it too (a server reads its settings at start)."""
    monkeypatch.setenv("VWAZA_ALLOW_PRIVATE_URLS", "1")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return label_folder(tmp_path)


@pytest.fixture
def unchanged(people: dict[str, str], env: Path, store_url: str) -> Iterator[None]:
    """The test's refusals (after the accounts are made) leave every row and every staged
    file as they were."""
    before, staged = store_snapshot(store_url), spool_files(env)
    yield
    assert store_snapshot(store_url) == before
    assert spool_files(env) == staged


@pytest.fixture
def tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TlsFiles:
    pytest.importorskip("cryptography")
    files = write_tls_files(tmp_path / "tls")
    monkeypatch.setenv("SSL_CERT_FILE", str(files.ca))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    return files


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("dry_run", [False, True])
@pytest.mark.parametrize(
    "form",
    [
        "https://127.0.0.1:{port}/internal",
        "https://localhost:{port}/internal",
        "https://2130706433:{port}/internal",
        "http://127.0.0.1:{port}/internal",
    ],
)
def test_a_catalog_cannot_make_the_importer_reach_loopback(
    ada: Cli, folder: Path, form: str, dry_run: bool
) -> None:
    with ConnectionRecorder() as internal:
        url = form.format(port=internal.port)
        path = catalog(folder, file=url)
        outcome = ada("catalog", "import", str(path), *(["--dry-run"] if dry_run else []))
        assert internal.connections() == 0
    assert outcome.exit_code == 6
    [problem] = problems(outcome.stderr)
    assert problem.startswith(f"LBL-1 track 1 file: {url}: could not download it: ")


@pytest.mark.usefixtures("private_allowed", "unchanged")
def test_an_oversized_download_is_cut_off_and_leaves_nothing(
    ada: Cli, folder: Path, tls: TlsFiles
) -> None:
    with HttpsServer(tls).running() as server:
        server.endless("/cover.jpg")
        outcome = ada("catalog", "import", str(catalog(folder, cover_art=server.url("/cover.jpg"))))
    assert outcome.exit_code == 6
    assert problems(outcome.stderr) == [
        f"LBL-1 cover_art: {server.url('/cover.jpg')}: too big (more than 20 MB)"
    ]


def test_with_the_setting_an_https_file_on_loopback_is_imported(
    private_allowed: None, ada: Cli, folder: Path, tls: TlsFiles
) -> None:
    with HttpsServer(tls).running() as server:
        server.file("/cover.jpg", (folder / "cover.jpg").read_bytes())
        report = ada.ok(
            "catalog", "import", str(catalog(folder, cover_art=server.url("/cover.jpg")))
        )
    assert report["created"] == 1
    assert [s.path for s in server.seen] == ["/cover.jpg"]


def test_through_a_server_the_clients_setting_lets_nothing_private_through(
    ada: Cli, folder: Path, tls: TlsFiles, monkeypatch: pytest.MonkeyPatch, cli_mode: str
) -> None:
    """The server fetches a catalog's https files: only its own setting may allow private
    addresses, never the client's (which would make the server a scanner of its network)."""
    if cli_mode == "local":
        pytest.skip("on one machine the setting is this machine's own")
    monkeypatch.setenv("VWAZA_ALLOW_PRIVATE_URLS", "1")  # on the client only
    with HttpsServer(tls).running() as server:
        server.file("/cover.jpg", (folder / "cover.jpg").read_bytes())
        url = server.url("/cover.jpg")
        outcome = ada("catalog", "import", str(catalog(folder, cover_art=url)))
    assert outcome.exit_code == 6
    assert problems(outcome.stderr) == [
        f"LBL-1 cover_art: {url}: could not download it: it is not on a public address "
        "(VWAZA_ALLOW_PRIVATE_URLS=1 allows private ones)"
    ]
    assert ada.ok("release", "list") == []
