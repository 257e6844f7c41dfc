"""Taking a file in says how far it got: the bytes copied into the spool, then the bytes of
the copy checked, each summing to the file's size; `track add` shows them as a bar on
stderr for people at a terminal, and never with --json or when stderr is not a terminal."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Cli, Media
from tests.support import media_factory as make
from vwaza_cli.file_progress import Progress
from vwaza_cli.services import uploads

# Every decoder path: libsndfile (WAV, FLAC, AIFF) and FFmpeg (MP3, M4A, Ogg, Opus).
MAKERS: dict[str, Callable[..., Path]] = {
    "wav": make.make_wav,
    "flac": make.make_flac,
    "aiff": make.make_aiff,
    "mp3": make.make_mp3,
    "m4a": make.make_m4a,
    "ogg": make.make_ogg,
    "opus": make.make_opus,
}


class Tally:
    """A Progress whose callbacks add up what they are told, step by step."""

    def __init__(self) -> None:
        self.sums: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.order: list[str] = []

    def progress(self) -> Progress:
        return Progress(copied=self._step("copied"), checked=self._step("checked"))

    def _step(self, step: str) -> Callable[[int], None]:
        def told(done: int) -> None:
            assert done > 0
            self.sums[step] += done
            self.calls[step] += 1
            if not self.order or self.order[-1] != step:
                self.order.append(step)

        return told


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_the_copy_and_the_check_each_count_the_whole_file(
    kind: str, tmp_path: Path, home: Path
) -> None:
    from vwaza_cli.settings import load_settings

    source = MAKERS[kind](tmp_path / f"take.{kind}", seconds=20.0)
    size = source.stat().st_size
    tally = Tally()
    accepted = uploads.accept_audio(load_settings(), source, "job-1", tally.progress())
    assert accepted.staged.size == size
    assert tally.sums == {"copied": size, "checked": size}
    assert tally.order == ["copied", "checked"]  # the copy first, then its check


@pytest.mark.parametrize("kind", ["wav", "mp3"])  # one file of each decoder
def test_a_long_file_is_counted_as_it_goes_not_at_the_end(
    kind: str, tmp_path: Path, home: Path
) -> None:
    from vwaza_cli.settings import load_settings

    source = MAKERS[kind](tmp_path / f"long.{kind}", seconds=120.0)
    tally = Tally()
    uploads.accept_audio(load_settings(), source, "job-1", tally.progress())
    copy_blocks = -(-source.stat().st_size // (1024 * 1024))
    assert tally.calls["copied"] == copy_blocks
    assert tally.calls["checked"] >= 10


def test_a_refused_file_is_not_counted_as_checked(tmp_path: Path, home: Path) -> None:
    from vwaza_cli.errors import InvalidMedia
    from vwaza_cli.settings import load_settings

    cut = make.truncate(make.make_wav(tmp_path / "cut.wav", seconds=5.0), 0.5)
    tally = Tally()
    with pytest.raises(InvalidMedia):
        uploads.accept_audio(load_settings(), cut, "job-1", tally.progress())
    assert tally.sums["copied"] == cut.stat().st_size
    assert tally.sums["checked"] < cut.stat().st_size


def test_a_cover_is_counted_too(media: Media, home: Path) -> None:
    from vwaza_cli.settings import load_settings

    cover = media.cover()
    tally = Tally()
    uploads.accept_image(load_settings(), cover, "job-1", tally.progress())
    assert tally.sums == {"copied": cover.stat().st_size, "checked": cover.stat().st_size}


def test_track_add_tells_the_progress_it_is_given(ada: Cli, media: Media) -> None:
    from vwaza_cli.services import tracks
    from vwaza_cli.services.context import Context

    release = ada.ok("release", "create", "Night Drive", "--genre", "Electronic")
    wav = media.wav(seconds=5.0)
    ctx = Context.from_environment()
    ctx.token = ada.token
    tally = Tally()
    track = tracks.add_track(ctx, release["id"], wav, "Intro", progress=tally.progress())
    assert track["title"] == "Intro"
    assert tally.sums == {"copied": wav.stat().st_size, "checked": wav.stat().st_size}


# ------------------------------------------------------------------ the bar on stderr

NO_DAEMON = "warning: no upload daemon is running: start vwaza-daemon (or run vwaza-daemon --once)"


def _release(cli: Cli) -> str:
    return cli.ok("release", "create", "Night Drive", "--genre", "Electronic")["id"]


@pytest.mark.both_modes
def test_no_bar_when_stderr_is_not_a_terminal(ada: Cli, media: Media) -> None:
    outcome = ada("track", "add", _release(ada), str(media.wav(seconds=5.0)))
    assert outcome.exit_code == 0
    assert outcome.stderr.splitlines() == [NO_DAEMON]  # the warning, and nothing else


@pytest.mark.both_modes
def test_no_bar_with_json_even_at_a_terminal(
    ada: Cli, media: Media, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vwaza_cli.cli import progress

    monkeypatch.setattr(progress, "stderr_is_terminal", lambda: True)
    outcome = ada("track", "add", _release(ada), str(media.wav(seconds=5.0)), "--json")
    assert outcome.exit_code == 0
    assert outcome.stderr == ""
    assert outcome.json()["title"] == "song"


def _run_with_stderr_on_a_terminal(*args: str) -> tuple[int, str, str]:
    """`vwaza ARGS` in a child whose stderr is a pseudo-terminal and stdout a pipe."""
    import os
    import pty
    import subprocess
    import sys

    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "120"}
    child = subprocess.Popen(
        [sys.executable, "-m", "vwaza_cli", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=follower,
        env=env,
    )
    os.close(follower)
    seen = bytearray()
    while True:
        try:
            piece = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not piece:
            break
        seen += piece
    os.close(leader)
    stdout, _ = child.communicate(timeout=60)  # small: the pipe never filled meanwhile
    return child.returncode, stdout.decode(), seen.decode(errors="replace")


@pytest.mark.both_modes
def test_a_bar_says_copying_then_checking_when_stderr_is_a_terminal(
    ada: Cli, media: Media, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VWAZA_TOKEN", ada.token or "")
    if ada.server is not None:  # the child is a client of the same server
        monkeypatch.setenv("VWAZA_SERVER", ada.server)
    release = _release(ada)
    code, stdout, terminal = _run_with_stderr_on_a_terminal(
        "track", "add", release, str(media.wav(seconds=5.0))
    )
    assert code == 0, terminal
    assert "copying song.wav" in terminal
    assert "checking song.wav" in terminal
    assert terminal.index("copying") < terminal.index("checking")
    assert NO_DAEMON in terminal  # said after the bar is gone
    assert "copying" not in stdout
    assert "song" in stdout  # the track, for people, on stdout


@pytest.mark.both_modes
def test_no_bar_at_a_terminal_with_json(
    ada: Cli, media: Media, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    monkeypatch.setenv("VWAZA_TOKEN", ada.token or "")
    if ada.server is not None:  # the child is a client of the same server
        monkeypatch.setenv("VWAZA_SERVER", ada.server)
    release = _release(ada)
    code, stdout, terminal = _run_with_stderr_on_a_terminal(
        "track", "add", release, str(media.wav(seconds=5.0)), "--json"
    )
    assert code == 0, terminal
    assert terminal == ""
    assert json.loads(stdout)["title"] == "song"


@pytest.mark.both_modes
def test_the_backend_tells_the_progress_on_one_machine_and_through_a_server(
    ada: Cli, media: Media, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vwaza_cli.client import close_all, connect

    release = _release(ada)
    wav = media.wav(seconds=30.0)  # 2.6 MB: three pieces of the request body
    monkeypatch.setenv("VWAZA_TOKEN", ada.token or "")
    if ada.server is not None:
        monkeypatch.setenv("VWAZA_SERVER", ada.server)
    tally = Tally()
    try:
        added = connect().add_track(release, wav, "Intro", None, None, tally.progress())
    finally:
        close_all()
    assert added["title"] == "Intro"
    size = wav.stat().st_size
    # through a server the bytes sent are told; the server copies and checks them
    assert tally.sums == ({"copied": size} if ada.server else {"copied": size, "checked": size})
