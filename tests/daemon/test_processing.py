"""Processing as a new user meets it (spec/processing.md): real-looking masters staged with
`track add`, a real `vwaza-daemon --once` measuring and rendering them in worker processes,
on both engines, with local and Supabase storage; values checked against what the masters
were made to be, renditions decoded back and checked for codec, rate, length and level."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
import soundfile as sf

from tests.conftest import Cli, Media
from tests.daemon.conftest import FAST_RETRIES, run_daemon, start_daemon, wait_for
from tests.support.storage_server import StorageServer
from vwaza_cli.processing.measure import Meter

RATE = 48000


# --- masters made to be what the tests expect ----------------------------------------------


def music(seconds: float, rate: int = RATE, level: float = 0.25, seed: int = 3) -> np.ndarray:
    """Music-like stereo: a few tones under a slow envelope, plus a little noise."""
    t = np.arange(round(seconds * rate)) / rate
    envelope = 0.6 + 0.4 * np.sin(2 * np.pi * 0.25 * t)
    tones = sum(np.sin(2 * np.pi * f * t + p) for f, p in ((220, 0), (330, 1), (554, 2)))
    noise = np.random.default_rng(seed).normal(0.0, 0.02, size=(t.size, 2))
    left = level * envelope * tones / 3
    return np.stack([left, 0.9 * left], axis=1) + noise


def write(path: Path, samples: np.ndarray, rate: int = RATE, subtype: str = "PCM_24") -> Path:
    sf.write(str(path), samples, rate, subtype=subtype)
    return path


def reference_lufs(samples: np.ndarray, rate: int) -> float:
    import pyloudnorm

    return float(pyloudnorm.Meter(rate).integrated_loudness(samples))


# --- helpers ---------------------------------------------------------------------------------


def make_release(cli: Cli, media: Media, masters: dict[str, Path]) -> tuple[str, dict[str, str]]:
    release = cli.ok("release", "create", "Masters", "--genre", "Test")["id"]
    ids = {}
    for title, path in masters.items():
        ids[title] = cli.ok("track", "add", release, str(path), "--title", title)["id"]
    cli.ok("release", "cover", release, str(media.cover("cover.jpg")))
    return release, ids


def processed(*extra: str) -> subprocess.CompletedProcess[str]:
    done = run_daemon("--once", *FAST_RETRIES, "--processing-workers", "2", *extra)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def stored_path(url: str, storage_server: StorageServer | None, target: Path) -> Path:
    """The bytes behind a rendition's URL, as a file to decode."""
    if url.startswith("file://"):
        return Path(url.removeprefix("file://"))
    assert storage_server is not None
    stored = storage_server.object(_key(url))
    assert stored is not None, url
    return stored.data


def _key(url: str) -> str:
    """The object key in a public URL: .../object/public/BUCKET/KEY."""
    return url.split("/object/public/", 1)[1].split("/", 1)[1]


def decoded(path: Path) -> tuple[Any, np.ndarray]:
    """(the audio stream's codec context, the samples as float planar)."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        chunks = [frame.to_ndarray() for frame in container.decode(stream)]
        return stream.codec_context, np.concatenate(chunks, axis=1)


def lufs_of(samples: np.ndarray, rate: int) -> float | None:
    meter = Meter(rate, samples.shape[0])
    meter.feed(samples.astype(np.float32))
    return meter.result().integrated_lufs


@pytest.fixture(params=["local", "supabase"])
def storage(request: pytest.FixtureRequest) -> Iterator[StorageServer | None]:
    if request.param == "supabase":
        yield request.getfixturevalue("on_supabase")
    else:
        yield None


# --- the whole way, as a new user ----------------------------------------------------------


def test_masters_are_measured_rendered_and_the_release_reaches_review(
    ada: Cli, media: Media, tmp_path: Path, storage: StorageServer | None
) -> None:
    loud = np.clip(music(70, level=1.6), -1.0, 1.0)  # clipped, hot
    quiet = music(70) * 0.03
    mono = music(20)[:, :1].repeat(2, axis=1)
    padded = np.concatenate([np.zeros((3 * RATE, 2)), music(20), np.zeros((4 * RATE, 2))])
    masters = {
        "Loud": write(tmp_path / "loud.wav", loud),
        "Quiet": write(tmp_path / "quiet.flac", quiet),
        "Mono": write(tmp_path / "mono.wav", mono, subtype="PCM_16"),
        "Padded": write(tmp_path / "padded.wav", padded),
    }
    release, _ids = make_release(ada, media, masters)
    ada.ok("release", "submit", release)
    processed()

    shown = ada.ok("release", "show", release)
    assert shown["status"] == "PENDING_REVIEW"
    tracks = {t["title"]: t for t in shown["tracks"]}
    for title, track in tracks.items():
        analysis = track["analysis"]
        assert analysis is not None, title
        assert analysis["sample_rate"] == RATE
        assert analysis["channels"] == 2
        assert all(track["renditions"][kind] for kind in ("stream", "preview", "waveform"))
        assert track["processing"]["status"] == "DONE"

    loud_a = tracks["Loud"]["analysis"]
    assert loud_a["clipped_samples"] > 1000
    assert loud_a["sample_peak_dbfs"] == pytest.approx(0.0, abs=0.01)
    assert loud_a["integrated_lufs"] == pytest.approx(reference_lufs(loud, RATE), abs=0.2)
    assert loud_a["bit_depth"] == 24
    assert loud_a["effective_bit_depth"] == 24
    quiet_a = tracks["Quiet"]["analysis"]
    assert quiet_a["integrated_lufs"] == pytest.approx(reference_lufs(quiet, RATE), abs=0.2)
    assert quiet_a["integrated_lufs"] < -30
    assert tracks["Mono"]["analysis"]["mono_as_stereo"] is True
    assert tracks["Loud"]["analysis"]["mono_as_stereo"] is False
    assert tracks["Mono"]["analysis"]["bit_depth"] == 16
    padded_a = tracks["Padded"]["analysis"]
    assert padded_a["leading_silence"] == pytest.approx(3.0, abs=0.01)
    assert padded_a["trailing_silence"] == pytest.approx(4.0, abs=0.01)

    said = "\n".join(shown["warnings"])
    assert 'track 1 "Loud": true peak' in said
    assert "clipped sample" in said
    assert 'track 2 "Quiet": integrated loudness' in said
    assert "below -30 LUFS" in said
    assert 'track 3 "Mono": mono as stereo' in said
    assert 'track 4 "Padded": 3.0 s of silence at the start' in said
    assert "4.0 s of silence at the end" in said

    stream = stored_path(tracks["Loud"]["renditions"]["stream"], storage, tmp_path / "s.m4a")
    codec, samples = decoded(stream)
    assert codec.name == "aac"
    assert codec.profile == "LC"
    assert codec.sample_rate == RATE
    assert samples.shape[1] / RATE == pytest.approx(70, abs=0.1)
    assert os.path.getsize(stream) * 8 / 70 == pytest.approx(256_000, rel=0.25)
    level = lufs_of(samples, RATE)
    assert level is not None
    assert level == pytest.approx(loud_a["integrated_lufs"], abs=0.5)

    preview = stored_path(tracks["Quiet"]["renditions"]["preview"], storage, tmp_path / "p.m4a")
    codec, samples = decoded(preview)
    assert codec.name == "aac"
    assert samples.shape[1] / RATE == pytest.approx(30, abs=0.1)
    assert os.path.getsize(preview) * 8 / 30 == pytest.approx(128_000, rel=0.3)
    first = np.abs(samples[:, : RATE // 100]).max()
    middle = np.abs(samples[:, 10 * RATE : 11 * RATE]).max()
    assert first < 0.1 * middle  # it fades in

    short_preview = stored_path(tracks["Mono"]["renditions"]["preview"], storage, tmp_path / "m")
    assert decoded(short_preview)[1].shape[1] / RATE == pytest.approx(20, abs=0.1)

    wave_path = stored_path(tracks["Padded"]["renditions"]["waveform"], storage, tmp_path / "w")
    waveform = json.loads(Path(wave_path).read_text())
    assert waveform["version"] == 2
    assert waveform["channels"] == 1
    assert waveform["bits"] == 8
    assert 1000 <= waveform["length"] <= 2000
    assert len(waveform["data"]) == 2 * waveform["length"]
    points = np.array(waveform["data"]).reshape(-1, 2)
    lead = round(3.0 / 27.0 * waveform["length"])
    assert np.all(points[: lead - 2] == 0)  # the padding is flat
    assert points[lead + 10 :, 1].max() > 10  # the music is not

    # the masters left the spool once measured and uploaded, and so did the renditions
    assert not [p for p in _spool(ada) if p.suffix in {".wav", ".flac", ".m4a", ".json"}]


def _spool(cli: Cli) -> list[Path]:
    from vwaza_cli.settings import load_settings

    folder = load_settings().spool_dir
    return [p for p in folder.rglob("*") if p.is_file() and p.name != "lock"]


@pytest.mark.both_modes
def test_track_show_prints_the_measurements_and_warnings(
    ada: Cli, media: Media, tmp_path: Path
) -> None:
    hot = np.clip(music(10, level=1.6), -1.0, 1.0)
    _release, ids = make_release(ada, media, {"Hot": write(tmp_path / "hot.wav", hot)})
    before = ada.ok("track", "show", ids["Hot"])
    assert before["analysis"] is None
    assert before["processing"]["status"] == "PENDING"
    assert before["renditions"] == {"stream": None, "preview": None, "waveform": None}
    processed()
    plain = ada("track", "show", ids["Hot"], "--json")
    assert plain.exit_code == 0
    shown = ada("track", "show", ids["Hot"])
    assert shown.exit_code == 0
    assert "LUFS" in shown.stdout
    assert "dBTP" in shown.stdout
    assert "measurements" in shown.stdout
    assert 'warning: track 1 "Hot": true peak' in shown.stderr


@pytest.mark.both_modes
def test_review_show_gives_the_reviewer_the_urls(
    ada: Cli, admin: Cli, media: Media, tmp_path: Path
) -> None:
    release, _ids = make_release(ada, media, {"One": write(tmp_path / "one.wav", music(5))})
    ada.ok("release", "submit", release)
    processed()
    shown = admin.ok("review", "show", release)
    stream = shown["tracks"][0]["renditions"]["stream"]
    assert stream
    assert stream.endswith(".m4a")
    assert "/stream/" in stream
    plain = admin("review", "show", release)
    assert stream[:40] in plain.stdout.replace("\n", "")


def test_a_release_waits_in_processing_until_every_track_is_measured(
    ada: Cli, media: Media, tmp_path: Path
) -> None:
    """Uploading alone no longer sends a release to review: the uploads finish, yet it
    stays PROCESSING while a track is unmeasured."""
    from vwaza_cli.services import queue
    from vwaza_cli.services.context import Context

    release, _ids = make_release(ada, media, {"One": write(tmp_path / "one.wav", music(3))})
    ada.ok("release", "submit", release)
    ctx = Context.from_environment()
    while (job := queue.claim(ctx, "uploader", _lease())) is not None:
        assert queue.complete(ctx, job, "uploader", f"https://cdn.test/{job.object_key}")
        assert queue.keeps_local_copy(ctx, job) is (job.type == "AUDIO")
    assert ada.ok("release", "show", release)["status"] == "PROCESSING"
    masters = [p for p in _spool(ada) if p.suffix == ".wav"]
    assert len(masters) == 1  # kept for its processing, the sweep too leaves it
    from vwaza_cli.services.sweep import sweep

    sweep(ctx, grace_seconds=0)
    assert masters[0].exists()


def _lease() -> Any:
    from datetime import timedelta

    return timedelta(seconds=60)


@pytest.mark.both_modes
def test_an_undecodable_master_sends_the_release_back_with_the_reason(
    ada: Cli, media: Media, tmp_path: Path
) -> None:
    release, _ids = make_release(ada, media, {"Broken": write(tmp_path / "b.wav", music(3))})
    ada.ok("release", "submit", release)
    staged = next(p for p in _spool(ada) if p.suffix == ".wav")
    staged.write_bytes(b"RIFF" + os.urandom(staged.stat().st_size - 4))  # damaged since
    assert run_daemon("--once", *FAST_RETRIES).returncode == 7
    shown = ada.ok("release", "show", release)
    assert shown["status"] == "DRAFT"
    track = shown["tracks"][0]
    assert track["processing"]["status"] == "FAILED"
    assert track["analysis"] is None
    assert any("processing failed" in p and '"Broken"' in p for p in shown["problems"])
    plain = ada("release", "show", release)
    assert "problem: track 1" in plain.stderr


def test_removing_a_track_removes_its_renditions(
    ada: Cli, media: Media, tmp_path: Path, storage: StorageServer | None
) -> None:
    _release, ids = make_release(
        ada,
        media,
        {"Keep": write(tmp_path / "k.wav", music(3)), "Go": write(tmp_path / "g.wav", music(3))},
    )
    processed()
    gone = ada.ok("track", "show", ids["Go"])["renditions"]
    ada.ok("track", "remove", ids["Go"])
    processed()
    for url in gone.values():
        assert not _exists(url, storage)
    kept = ada.ok("track", "show", ids["Keep"])["renditions"]
    assert all(_exists(url, storage) for url in kept.values())


def _exists(url: str, storage: StorageServer | None) -> bool:
    if url.startswith("file://"):
        return Path(url.removeprefix("file://")).exists()
    assert storage is not None
    return storage.object(_key(url)) is not None


@pytest.mark.both_modes
def test_a_new_preview_start_remakes_the_preview_from_the_uploaded_master(
    ada: Cli, media: Media, tmp_path: Path, storage: StorageServer | None
) -> None:
    """The master left the spool once uploaded: the daemon fetches it back from storage."""
    ramp = music(90) * np.linspace(0.05, 1.0, 90 * RATE)[:, None]  # louder as it goes
    _release, ids = make_release(ada, media, {"Ramp": write(tmp_path / "r.wav", ramp)})
    processed()
    first = ada.ok("track", "show", ids["Ramp"])
    assert not [p for p in _spool(ada) if p.suffix == ".wav"]
    old_url = first["renditions"]["preview"]

    edited = ada.ok("track", "edit", ids["Ramp"], "--preview-start", "0")
    assert edited["preview_start"] == 0
    assert edited["renditions"]["preview"] == old_url  # until the new one is uploaded
    processed()
    after = ada.ok("track", "show", ids["Ramp"])
    assert after["renditions"]["preview"] != old_url
    assert after["renditions"]["stream"] == first["renditions"]["stream"]
    assert after["analysis"] == first["analysis"]
    assert not _exists(old_url, storage)
    new = decoded(stored_path(after["renditions"]["preview"], storage, tmp_path / "n.m4a"))[1]
    old_start = 30.0  # a third of 90 s: the default
    assert np.abs(new).max() < 0.8 * (0.05 + 0.95 * (old_start / 90))  # from the quiet start


@pytest.mark.both_modes
@pytest.mark.parametrize("start", ["-1", "1e9", "nan"])
def test_a_bad_preview_start_changes_nothing(
    ada: Cli, media: Media, tmp_path: Path, start: str
) -> None:
    _release, ids = make_release(ada, media, {"One": write(tmp_path / "one.wav", music(5))})
    before = ada.ok("track", "show", ids["One"])
    result = ada("track", "edit", ids["One"], "--preview-start", start)
    assert result.exit_code in (2, 6)
    assert result.stderr.startswith("error:")
    assert "Traceback" not in result.stderr
    assert ada.ok("track", "show", ids["One"]) == before


def test_a_daemon_killed_while_processing_leaves_nothing_half_done(
    ada: Cli, media: Media, tmp_path: Path
) -> None:
    release, ids = make_release(ada, media, {"Long": write(tmp_path / "l.wav", music(240))})
    ada.ok("release", "submit", release)
    log = tmp_path / "daemon.log"
    daemon = start_daemon(*FAST_RETRIES, "--processing-workers", "1", "--lease", "2", log=log)
    try:
        wait_for(lambda: _partial_files(ada), timeout=60, what="processing to start writing")
        workers = _descendants(daemon.pid)
        assert workers
        daemon.send_signal(signal.SIGKILL)
        daemon.wait(10)
    finally:
        if daemon.poll() is None:
            daemon.kill()
    alive = lambda: [_cmdline(pid) for pid in workers if _alive(pid)]  # noqa: E731
    wait_for(lambda: not alive(), timeout=10, what=f"workers to die: {alive()}")
    shown = ada.ok("track", "show", ids["Long"])
    assert shown["analysis"] is None  # nothing half-done recorded
    assert shown["renditions"] == {"stream": None, "preview": None, "waveform": None}
    wait_for(_lease_expired, timeout=10, what="the killed daemon's lease to run out")
    processed("--lease", "2")
    assert not _partial_files(ada)
    done = ada.ok("release", "show", release)
    assert done["status"] == "PENDING_REVIEW"
    assert done["tracks"][0]["analysis"]["duration"] == pytest.approx(240, abs=0.01)
    assert done["tracks"][0]["processing"]["attempts"] == 1  # the killed attempt counted


def _partial_files(cli: Cli) -> list[Path]:
    return [p for p in _spool(cli) if p.suffix == ".part"]


def _lease_expired() -> bool:
    import sqlalchemy as sa

    from vwaza_cli import clock
    from vwaza_cli.db.engine import transaction
    from vwaza_cli.db.models import TrackProcessing
    from vwaza_cli.settings import load_settings

    with transaction(load_settings().database_url) as session:
        until = session.scalar(sa.select(TrackProcessing.lease_expires_at))  # type: ignore[arg-type]
    return until is None or until < clock.now()


def _descendants(pid: int) -> list[int]:
    children = _children(pid)
    return children + [d for child in children for d in _descendants(child)]


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry.name))
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "?"


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.both_modes
def test_submit_says_what_the_measurements_found(ada: Cli, media: Media, tmp_path: Path) -> None:
    hot = np.clip(music(10, level=1.6), -1.0, 1.0)
    release, _ids = make_release(ada, media, {"Hot": write(tmp_path / "hot.wav", hot)})
    processed()  # measured before the artist submits
    submitted = ada("release", "submit", release)
    assert submitted.exit_code == 0
    assert 'warning: track 1 "Hot": true peak' in submitted.stderr
    as_json = ada.ok("release", "show", release)
    assert as_json["status"] == "PENDING_REVIEW"  # warnings never block


def test_a_catalog_import_gets_the_same_processing(ada: Cli, media: Media, tmp_path: Path) -> None:
    write(tmp_path / "a.wav", music(4))
    write(tmp_path / "b.flac", np.zeros((2 * RATE, 2)))
    media.cover("cover.jpg").rename(tmp_path / "cover.jpg")
    catalog = {
        "releases": [
            {
                "external_id": "CAT-1",
                "title": "From a catalog",
                "genre": "Test",
                "cover_art": "cover.jpg",
                "submit": True,
                "tracks": [
                    {"order": 1, "title": "A", "file": "a.wav"},
                    {"order": 2, "title": "Silent", "file": "b.flac"},
                ],
            }
        ]
    }
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    imported = ada.ok("catalog", "import", str(tmp_path / "catalog.json"))
    release = imported["releases"][0]["id"]
    assert ada.ok("release", "show", release)["status"] == "PROCESSING"
    processed()
    shown = ada.ok("release", "show", release)
    assert shown["status"] == "PENDING_REVIEW"
    a, silent = shown["tracks"]
    assert a["analysis"]["integrated_lufs"] is not None
    assert silent["analysis"]["integrated_lufs"] is None  # digital silence: null, no error
    assert all(a["renditions"].values())
    assert all(silent["renditions"].values())


def test_once_on_a_store_never_initialised_exits_7_at_once(home: Path) -> None:
    """It used to log "the store is not initialised" until killed (a script waited forever)."""
    done = run_daemon("--once", *FAST_RETRIES, timeout=60)
    assert done.returncode == 7
    assert "not initialised: run `vwaza init`" in done.stderr
