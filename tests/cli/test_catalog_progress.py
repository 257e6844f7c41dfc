"""The catalog import's progress bar (issue 12): sizes in MB/GB and counts of files, on
stderr only, and only when stderr is a terminal and the output is not --json."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.support.media_factory import make_cover, make_wav


def rendered(monkeypatch: pytest.MonkeyPatch, steps) -> str:
    from rich.console import Console

    from vwaza_cli.cli import catalog as command

    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=120, no_color=True)
    monkeypatch.setattr(command.output, "stderr_console", lambda: console)
    bar = command._Bar()
    steps(bar)
    bar.progress.refresh()
    text = screen.getvalue()
    bar.stop()
    return text


def test_the_bar_says_sizes_in_megabytes_and_counts_files(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def steps(bar) -> None:
        bar.checking()
        for _ in range(3):
            bar.checked(1_500_000)
        bar.staging(files=5, total_bytes=4_500_000_000, releases=2)
        bar.copied(1_250_000_000)
        bar.staged()
        bar.release_done()

    text = rendered(monkeypatch, steps)
    assert "3 file(s), 4.5 MB" in text
    assert "1.2 GB/4.5 GB, 1/5 file(s)" in text
    assert "1/2" in text
    assert "1250000000" not in text
    assert "4500000000" not in text


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "label"
    path.mkdir()
    make_wav(path / "01.wav", seconds=0.3, channels=1)
    make_cover(path / "c.jpg", size=3000)
    document = {
        "releases": [
            {
                "external_id": "P-1",
                "title": "T",
                "genre": "Pop",
                "cover_art": "c.jpg",
                "tracks": [{"title": "S", "file": "01.wav"}],
            }
        ]
    }
    (path / "c.json").write_text(json.dumps(document), encoding="utf-8")
    return path


def test_no_bar_when_stderr_is_not_a_terminal(ada: Cli, folder: Path) -> None:
    outcome = ada("catalog", "import", str(folder / "c.json"))
    assert outcome.exit_code == 0
    assert outcome.stderr == "1 created, 0 skipped\n"  # the summary alone: no bar drawn


def test_no_bar_with_json_even_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from vwaza_cli.cli import catalog as command
    from vwaza_cli.cli.options import json_mode

    monkeypatch.setattr(command.sys.stderr, "isatty", lambda: True, raising=False)
    token = json_mode.set(True)
    try:
        assert command._progress() is None
    finally:
        json_mode.reset(token)
    assert command._progress() is not None  # a terminal, and no --json: the bar
