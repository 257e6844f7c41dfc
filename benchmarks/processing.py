"""Processing speed and memory of `vwaza-daemon`: measuring and rendering staged masters.

Masters are generated into a temp folder (a music-like signal: a melody of enveloped tones, a
bass, a pad and a little noise, stereo, written with soundfile): (a) 5 minutes 44.1 kHz/16-bit
WAV, (b) 5 minutes 96 kHz/24-bit FLAC, (c) 60 minutes 48 kHz/24-bit WAV; with --quick 1, 1 and
6 minutes. The full run adds two masters measured for memory only: 20 minutes 48 kHz/24-bit
(the spec: "under 200 MiB peak in all") and 60 minutes 96 kHz/24-bit (the issue: "< 150 MB RSS").

The product: each master is staged into a throw-away VWAZA_HOME (embedded SQLite store,
VWAZA_STORAGE=local) with the real CLI (`python -m vwaza_cli` init, auth register, auth login,
release create, track add, release cover), then a real `vwaza-daemon --once` (the venv's
console script; `python -m daemon --once` when there is none) measures it, makes its
renditions and uploads everything. The time a master takes is the daemon's processing window
for its track: the arrival of its log line "processing track ..." to that of "processed track
... in X s" (read from its stderr as it comes); the whole --once run is timed too. While the
daemon runs, /proc is sampled every 50 ms: the RSS of the daemon and all its descendants
(forkserver, worker processes) summed, their PSS summed (shared pages counted once), and each
process's own peak (the larger of its sampled RSS and its VmHWM). The same samples split a lone
track's window: until the forkserver and the worker appear, the worker's life, after it.

The baselines, measured in the same run on the same file: Debian's `ffmpeg` command
(/usr/bin/ffmpeg, an anchor only, never a dependency of the product) doing the same work
- in separate commands, their wall times summed: `-af ebur128=peak=true` (integrated loudness,
  range, true peak) to `-f null`; the stream (`-c:a aac -b:a 256k`, at the master's rate when
  44.1 or 48 kHz, else `-ar 48000`, .m4a with +faststart); the 30 s preview (`-ss START -t 30`
  before `-i`, i.e. a seek, `afade` in and out 1 s, 128k); the peaks (a full decode, a mono
  downmix at the master's rate, `astats` Min_level/Max_level, to `-f null`);
- in one command: the decoded audio split four ways (`asplit`) into ebur128, the peaks' astats
  and the two AAC outputs (the preview's branch `atrim`s the decoded audio, as the product does).
Aims: product <= 1.2x ffmpeg's separate commands; moonshot product <= 1.0x ffmpeg's one command.
The figures are medians of --runs runs (3; 1 for masters of 20 minutes or more), the runs of
the product and of ffmpeg alternating. Then the throughput: 4 copies of master (a) in one
release, one --once run with the default --processing-workers, in tracks per minute.

Finally a breakdown of process_master itself, in a process of its own: one pass with its parts
timed (decode, conversion, the meter and its parts, the waveform, the resampler, each AAC
encoder, the finishing of each output) on masters (a) and (b); --profile adds cProfile's top.
And what a worker process starts from: the forkserver preloads the renderer, whose imports'
time and RSS are printed (python alone, numpy + av, the renderer; and scipy.signal, which the
renderer no longer loads, for comparison).

Prints figures, ratios and each aim with PASS or MISS; asserts nothing. The machine's load is
printed at the start and the end: the figures are wall times, so a busy machine slows both sides
(CPU seconds are printed beside them).
Run: .venv/bin/python benchmarks/processing.py [--quick] [--runs N] [--profile] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # `vwaza_cli` when run from anywhere
sys.path.insert(0, str(REPO / "benchmarks"))

from aims import Aim, add_aims_json, print_aims, verdict, write_aims  # noqa: E402

FFMPEG = "/usr/bin/ffmpeg"
AIM_RATIO = 1.2  # product / ffmpeg in separate commands
MOONSHOT_RATIO = 1.0  # product / ffmpeg in one command
AIM_RSS_MIB_20 = 200.0  # the spec: 20-minute 48 kHz 24-bit master, daemon and workers in all
AIM_RSS_MB_60_96 = 150.0  # the issue: 60-minute 96 kHz 24-bit master
SAMPLE_SECONDS = 0.05
COPIES = 4  # tracks in the throughput run
MIB, MB = 1024**2, 1e6
PAGE = os.sysconf("SC_PAGE_SIZE")
TICK = os.sysconf("SC_CLK_TCK")
ADMIN = ("admin@example.com", "admin password")
ARTIST = ("bench@example.com", "bench password")
STREAM_RATES = (44100, 48000)


# --- masters ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Master:
    key: str
    minutes: float
    rate: int
    bits: int
    container: str  # WAV or FLAC
    timed: bool = True  # False: memory only (no ffmpeg anchors)

    @property
    def seconds(self) -> float:
        return self.minutes * 60

    @property
    def name(self) -> str:
        kind = "" if self.timed else ", memory only"
        return (
            f"({self.key}) {self.minutes:g}-min {self.rate / 1000:g} kHz/{self.bits}-bit"
            f" stereo {self.container}{kind}"
        )

    @property
    def file_name(self) -> str:
        return f"master-{self.key}.{self.container.lower()}"


def masters_for(quick: bool) -> list[Master]:
    if quick:
        return [
            Master("a", 1, 44100, 16, "WAV"),
            Master("b", 1, 96000, 24, "FLAC"),
            Master("c", 6, 48000, 24, "WAV"),
        ]
    return [
        Master("a", 5, 44100, 16, "WAV"),
        Master("b", 5, 96000, 24, "FLAC"),
        Master("c", 60, 48000, 24, "WAV"),
        Master("d", 20, 48000, 24, "WAV", timed=False),
        Master("e", 60, 96000, 24, "WAV", timed=False),
    ]


SCALE = (0, 2, 4, 7, 9, 12, 14, 16)  # semitones above A3: a pentatonic run
MELODY = (0, 4, 2, 5, 7, 3, 6, 1, 4, 2, 0, 7)
NOTE_SECONDS = 0.25


def music(start: int, frames: int, rate: int, rng: np.random.Generator) -> np.ndarray:
    """(frames, 2) float64 of a music-like signal from sample ``start``: a melody of notes with
    an attack and a decay, a bass, a pad, a slow swell (a loudness range) and a little noise."""
    t = (start + np.arange(frames)) / rate
    note = np.floor(t / NOTE_SECONDS).astype(np.int64)
    into = t - note * NOTE_SECONDS
    pitch = 220.0 * 2.0 ** (np.take(SCALE, np.take(MELODY, note % len(MELODY))) / 12)
    envelope = (1 - np.exp(-into / 0.005)) * np.exp(-into * 6)
    melody = envelope * (np.sin(2 * np.pi * pitch * t) + 0.3 * np.sin(4 * np.pi * pitch * t))
    bass = np.sin(2 * np.pi * 55.0 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * t / NOTE_SECONDS / 4))
    pad = np.sin(2 * np.pi * 329.63 * t + 0.5 * np.sin(2 * np.pi * 0.3 * t))
    swell = 0.65 + 0.35 * np.sin(2 * np.pi * t / 47.0)
    noise = rng.standard_normal((2, frames)) * 0.01
    left = swell * (0.30 * melody + 0.22 * bass + 0.08 * pad) + noise[0]
    right = swell * (0.22 * melody + 0.22 * bass + 0.12 * pad) + noise[1]
    return np.stack([left, right], axis=1)


def write_master(path: Path, master: Master, seed: int = 1) -> Path:
    import soundfile as sf

    rng = np.random.default_rng(seed)
    total, block = round(master.seconds * master.rate), master.rate * 10
    subtype = f"PCM_{master.bits}"
    with sf.SoundFile(
        str(path), "w", master.rate, 2, subtype=subtype, format=master.container
    ) as out:
        for start in range(0, total, block):
            out.write(music(start, min(block, total - start), master.rate, rng))
    return path


def write_cover(path: Path) -> Path:
    from PIL import Image

    y, x = np.mgrid[0:1000, 0:1000]
    pixels = np.stack([x * 255 // 999, y * 255 // 999, (x + y) * 255 // 1998], axis=2)
    Image.fromarray(pixels.astype(np.uint8), "RGB").save(path, quality=85)
    return path


# --- the product: staging with the CLI, the daemon under /proc sampling ------------------------


def product_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VWAZA_", "SUPABASE_"))}
    env |= {
        "VWAZA_HOME": str(home),
        "VWAZA_STORAGE": "local",
        "VWAZA_BCRYPT_ROUNDS": "4",
        "NO_COLOR": "1",
    }
    return env


def cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "vwaza_cli", *args],
        cwd=REPO,
        env=env,
        input=stdin,
        text=True,
        capture_output=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"`vwaza {' '.join(args)}` failed ({done.returncode}): {done.stderr}")
    return done.stdout


@dataclass
class Staged:
    env: dict[str, str]
    release: str
    tracks: list[str]
    seconds: float  # staging wall time


def stage(home: Path, masters: list[Path], cover: Path) -> Staged:
    """init, an artist registered and logged in, a release, its tracks and its cover."""
    began = time.perf_counter()
    env = product_env(home)
    cli(env, "init", "--admin-email", ADMIN[0], "--password-stdin", stdin=ADMIN[1] + "\n")
    cli(
        env,
        "auth",
        "register",
        "--email",
        ARTIST[0],
        "--artist-name",
        "Bench",
        "--password-stdin",
        stdin=ARTIST[1] + "\n",
    )
    cli(env, "auth", "login", "--email", ARTIST[0], "--password-stdin", stdin=ARTIST[1] + "\n")
    release = json.loads(cli(env, "release", "create", "Bench", "--genre", "Electronic", "--json"))
    tracks = [
        json.loads(cli(env, "track", "add", release["id"], str(p), "--title", f"T{n}", "--json"))[
            "id"
        ]
        for n, p in enumerate(masters, start=1)
    ]
    cli(env, "release", "cover", release["id"], str(cover))
    return Staged(env, release["id"], tracks, time.perf_counter() - began)


@dataclass
class Proc:
    role: str
    peak_rss: int = 0
    hwm: int = 0
    cpu: float = 0.0  # utime + stime, last seen
    timeline: list[tuple[float, int]] = field(default_factory=list)

    @property
    def peak(self) -> int:
        return max(self.peak_rss, self.hwm)


KNOWN_ROLES = ("daemon", "worker", "forkserver", "resource tracker")


class TreeSampler(threading.Thread):
    """Samples the RSS (and PSS) of a process and all its descendants every 50 ms."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.began = time.perf_counter()
        self.procs: dict[int, Proc] = {}
        self.peak_sum = 0
        self.peak_pss = 0
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            self.sample()
            self.halt.wait(SAMPLE_SECONDS)

    def sample(self) -> None:
        children: dict[int, list[int]] = defaultdict(list)
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                stat = _read(f"/proc/{entry.name}/stat")
                if stat:
                    children[int(stat.rsplit(")", 1)[1].split()[1])].append(int(entry.name))
        tree, todo = [], [self.root]
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo += children.get(pid, [])
        now, total, pss = time.perf_counter(), 0, 0
        for pid in tree:
            status = _read(f"/proc/{pid}/status")
            stat = _read(f"/proc/{pid}/stat")
            if not status or not stat:
                continue
            rss, hwm = _kib(status, "VmRSS"), _kib(status, "VmHWM")
            proc = self.procs.get(pid) or self._new(pid)
            if proc.role not in KNOWN_ROLES:
                proc.role = self._role(pid)
            proc.peak_rss, proc.hwm = max(proc.peak_rss, rss), max(proc.hwm, hwm)
            fields = stat.rsplit(")", 1)[1].split()
            proc.cpu = (int(fields[11]) + int(fields[12])) / TICK
            proc.timeline.append((now, rss))
            total += rss
            pss += _kib(_read(f"/proc/{pid}/smaps_rollup") or "", "Pss")
        self.peak_sum, self.peak_pss = max(self.peak_sum, total), max(self.peak_pss, pss)

    def _new(self, pid: int) -> Proc:
        self.procs[pid] = Proc(self._role(pid))
        return self.procs[pid]

    def _role(self, pid: int) -> str:
        """What the process is; a child caught between fork and exec still shows its
        parent's command line, so a process of no known role is looked at again."""
        cmdline = (_read(f"/proc/{pid}/cmdline") or "").replace("\0", " ")
        stat = _read(f"/proc/{pid}/stat") or ") x 0"
        parent = self.procs.get(int(stat.rsplit(")", 1)[1].split()[1]))
        if pid == self.root:
            role = "daemon"
        elif parent is not None and parent.role == "forkserver":
            role = "worker"
        elif "forkserver" in cmdline:
            role = "forkserver"
        elif "resource_tracker" in cmdline:
            role = "resource tracker"
        else:
            role = cmdline.split(" ")[0].rsplit("/", 1)[-1] or "other"
        return role

    @property
    def cpu(self) -> float:
        return sum(p.cpu for p in self.procs.values())


def _read(path: str) -> str | None:
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return None


def _kib(text: str, key: str) -> int:
    found = re.search(rf"^{key}:\s+(\d+) kB", text, re.MULTILINE)
    return int(found.group(1)) * 1024 if found else 0


LINE = re.compile(r"(processing|processed) track ([0-9a-f-]{36})(?: in ([\d.]+)s)?")


@dataclass
class DaemonRun:
    wall: float
    cpu: float
    code: int
    windows: dict[str, tuple[float, float]]  # track -> (start, end), perf_counter seconds
    logged: dict[str, float]  # track -> the seconds the daemon logged
    peak_sum: int
    peak_pss: int
    procs: list[Proc]
    analysis: dict[str, Any]  # track -> its analysis (release show --json)
    problems: list[str]

    def seconds(self, track: str) -> float:
        start, end = self.windows[track]
        return end - start

    @property
    def largest(self) -> Proc:
        return max(self.procs, key=lambda p: p.peak)

    def split(self) -> str | None:
        """A lone track's window: until the forkserver and the worker appear, the worker's
        life, and after it (sampled every 50 ms)."""
        if len(self.windows) != 1:
            return None
        start, end = next(iter(self.windows.values()))
        seen = {p.role: p for p in self.procs if p.timeline}
        worker, server = seen.get("worker"), seen.get("forkserver")
        if worker is None or server is None:
            return None
        born, gone = worker.timeline[0][0], worker.timeline[-1][0]
        return (
            f"forkserver seen +{server.timeline[0][0] - start:.2f} s, worker seen"
            f" +{born - start:.2f} s, worker lived {gone - born:.2f} s, after it"
            f" {end - gone:.2f} s"
        )

    def window(self) -> float:
        starts = [s for s, _ in self.windows.values()]
        ends = [e for _, e in self.windows.values()]
        return max(ends) - min(starts)


def run_daemon(staged: Staged, log: Path, extra: tuple[str, ...] = ()) -> DaemonRun:
    os.sync()  # the staged copies written back before the clock starts
    script = Path(sys.executable).with_name("vwaza-daemon")
    entry = [str(script)] if script.exists() else [sys.executable, "-m", "daemon"]
    argv = [*entry, "--once", *extra]
    began = time.perf_counter()
    process = subprocess.Popen(
        argv, cwd=REPO, env=staged.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    sampler = TreeSampler(process.pid)
    sampler.start()
    windows: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    logged: dict[str, float] = {}
    assert process.stderr is not None
    with log.open("w") as out:
        for line in process.stderr:
            now = time.perf_counter()
            out.write(line)
            found = LINE.search(line)
            if found:
                kind, track, seconds = found.groups()
                windows[track][0 if kind == "processing" else 1] = now
                if seconds:
                    logged[track] = float(seconds)
    code = process.wait()
    wall = time.perf_counter() - began
    sampler.halt.set()
    sampler.join()
    problems = [] if code == 0 else [f"daemon exit {code} (log {log})"]
    analysis = _check(staged, logged, problems)
    return DaemonRun(
        wall=wall,
        cpu=sampler.cpu,
        code=code,
        windows={t: (w[0], w[1]) for t, w in windows.items()},
        logged=logged,
        peak_sum=sampler.peak_sum,
        peak_pss=sampler.peak_pss,
        procs=list(sampler.procs.values()),
        analysis=analysis,
        problems=problems,
    )


def _check(staged: Staged, logged: dict[str, float], problems: list[str]) -> dict[str, Any]:
    """Every track measured and rendered, its renditions uploaded: else the run is a miss."""
    shown = json.loads(cli(staged.env, "release", "show", staged.release, "--json"))
    analysis = {}
    for track in shown["tracks"]:
        analysis[track["id"]] = track["analysis"]
        if track["analysis"] is None or None in track["renditions"].values():
            problems.append(f"track {track['id'][:8]} not processed: {track['processing']}")
        if track["id"] not in logged:
            problems.append(f"track {track['id'][:8]}: no 'processed track' line")
    return analysis


# --- the baseline: ffmpeg ----------------------------------------------------------------------


@dataclass(frozen=True)
class Timed:
    wall: float
    cpu: float
    stderr: str


def timed_command(argv: list[str], log: Path) -> Timed:
    os.sync()
    began = time.perf_counter()
    with log.open("w") as err:
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - began
    code = os.waitstatus_to_exitcode(status)
    text = log.read_text(errors="replace")
    if code != 0:
        raise SystemExit(f"ffmpeg failed ({code}): {' '.join(argv)}\n{text[-2000:]}")
    return Timed(wall, usage.ru_utime + usage.ru_stime, text)


def preview_window(duration: float) -> tuple[float, float]:
    from vwaza_cli.processing.render import preview_window as product_window

    return product_window(duration, None)


PEAKS = (
    "aformat=channel_layouts=mono,"
    "astats=measure_perchannel=Min_level+Max_level:measure_overall=none"
)
EBUR128 = "ebur128=peak=true:framelog=verbose"  # the summary only, not a line per 100 ms


def ffmpeg_separate(path: Path, master: Master, out: Path) -> dict[str, list[str]]:
    base = [FFMPEG, "-nostdin", "-hide_banner", "-nostats", "-y"]
    rate = [] if master.rate in STREAM_RATES else ["-ar", "48000"]
    start, length = preview_window(master.seconds)
    fade = f"afade=t=in:st=0:d=1,afade=t=out:st={length - 1:.3f}:d=1"
    m4a = ["-movflags", "+faststart"]
    source = str(path)
    return {
        "ebur128": [*base, "-i", source, "-af", EBUR128, "-f", "null", "-"],
        "stream": [
            *base,
            *("-i", source, "-vn", "-c:a", "aac", "-b:a", "256k", *rate, *m4a),
            str(out / "stream.m4a"),
        ],
        "preview": [
            *base,
            *("-ss", f"{start:.3f}", "-t", f"{length:.3f}", "-i", source, "-af", fade),
            *("-c:a", "aac", "-b:a", "128k", *rate, *m4a),
            str(out / "preview.m4a"),
        ],
        "peaks": [*base, "-i", source, "-af", PEAKS, "-f", "null", "-"],
    }


def ffmpeg_one(path: Path, master: Master, out: Path) -> list[str]:
    resample = "anull" if master.rate in STREAM_RATES else "aresample=48000"
    start, length = preview_window(master.seconds)
    fade = f"afade=t=in:st=0:d=1,afade=t=out:st={length - 1:.3f}:d=1"
    graph = ";".join(
        (
            "[0:a]asplit=4[m][w][s][p]",
            f"[m]{EBUR128},anullsink",
            f"[w]{PEAKS},anullsink",
            f"[s]{resample}[so]",
            f"[p]atrim=start={start:.3f}:duration={length:.3f},asetpts=PTS-STARTPTS,"
            f"{fade},{resample}[po]",
        )
    )
    m4a = ["-movflags", "+faststart"]
    return [
        *(FFMPEG, "-nostdin", "-hide_banner", "-nostats", "-y", "-i", str(path)),
        *("-filter_complex", graph),
        *("-map", "[so]", "-c:a", "aac", "-b:a", "256k", *m4a, str(out / "one-stream.m4a")),
        *("-map", "[po]", "-c:a", "aac", "-b:a", "128k", *m4a, str(out / "one-preview.m4a")),
    ]


@dataclass
class FfmpegRun:
    parts: dict[str, Timed]
    one: Timed

    @property
    def separate(self) -> float:
        return sum(t.wall for t in self.parts.values())

    @property
    def separate_cpu(self) -> float:
        return sum(t.cpu for t in self.parts.values())


def run_ffmpeg(path: Path, master: Master, out: Path) -> FfmpegRun:
    parts = {
        name: timed_command(argv, out / f"ffmpeg-{name}.log")
        for name, argv in ffmpeg_separate(path, master, out).items()
    }
    one = timed_command(ffmpeg_one(path, master, out), out / "ffmpeg-one.log")
    for name in ("stream.m4a", "preview.m4a", "one-stream.m4a", "one-preview.m4a"):
        (out / name).unlink(missing_ok=True)
    return FfmpegRun(parts, one)


def ebur128_summary(stderr: str) -> str:
    summary = stderr[stderr.rfind("Summary:") :]
    lufs = re.search(r"I:\s+(-?[\d.]+) LUFS", summary)
    lra = re.search(r"LRA:\s+(-?[\d.]+) LU", summary)
    peak = re.search(r"Peak:\s+(-?[\d.inf]+) dBFS", summary)
    if not (lufs and lra and peak):
        return "ffmpeg: no ebur128 summary"
    return f"ffmpeg {lufs[1]} LUFS, LRA {lra[1]} LU, true peak {peak[1]} dBTP"


# --- one master -------------------------------------------------------------------------------


@dataclass
class Result:
    master: Master
    size: int
    product: list[DaemonRun]
    ffmpeg: list[FfmpegRun]
    track: list[str]  # the track of each product run
    staging: float

    @property
    def ok(self) -> bool:
        return all(not r.problems for r in self.product)

    def product_seconds(self) -> float:
        return statistics.median(
            r.seconds(t) for r, t in zip(self.product, self.track, strict=True)
        )

    def product_cpu(self) -> float:
        return statistics.median(r.cpu for r in self.product)

    def once_seconds(self) -> float:
        return statistics.median(r.wall for r in self.product)

    def separate(self) -> float:
        return statistics.median(f.separate for f in self.ffmpeg)

    def one(self) -> float:
        return statistics.median(f.one.wall for f in self.ffmpeg)

    def peak_sum(self) -> int:
        return max(r.peak_sum for r in self.product)

    def peak_pss(self) -> int:
        return max(r.peak_pss for r in self.product)

    def largest(self) -> Proc:
        return max((r.largest for r in self.product), key=lambda p: p.peak)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def measure_master(master: Master, work: Path, cover: Path, runs: int) -> Result:
    folder = work / master.key
    folder.mkdir()
    began = time.perf_counter()
    path = write_master(folder / master.file_name, master)
    size = path.stat().st_size
    say(f"  {master.name}: {size / MB:.0f} MB written in {time.perf_counter() - began:.1f}s")
    product: list[DaemonRun] = []
    ffmpeg: list[FfmpegRun] = []
    tracks: list[str] = []
    staging = 0.0
    try:
        for n in range(runs):
            home = folder / f"home-{n}"
            staged = stage(home, [path], cover)
            staging = staged.seconds
            run = run_daemon(staged, folder / f"daemon-{n}.log")
            product.append(run)
            tracks.append(staged.tracks[0])
            shutil.rmtree(home, ignore_errors=True)
            say(
                f"    run {n + 1}: staged in {staged.seconds:.1f}s; product"
                f" {run.seconds(staged.tracks[0]) if not run.problems else float('nan'):.2f}s"
                f" (--once {run.wall:.2f}s), RSS in all {run.peak_sum / MIB:.0f} MiB"
                + (f" PROBLEMS: {run.problems}" if run.problems else "")
            )
            if run.problems:
                break
            if master.timed:
                ff = run_ffmpeg(path, master, folder)
                ffmpeg.append(ff)
                say(
                    f"           ffmpeg separate {ff.separate:.2f}s, one command {ff.one.wall:.2f}s"
                )
    finally:
        path.unlink(missing_ok=True)
    return Result(master, size, product, ffmpeg, tracks, staging)


# --- reports ----------------------------------------------------------------------------------


def memory_line(result: Result) -> str:
    largest = result.largest()
    by_role: dict[str, int] = defaultdict(int)
    for run in result.product:
        for proc in run.procs:
            by_role[proc.role] = max(by_role[proc.role], proc.peak)
    roles = ", ".join(f"{role} {peak / MIB:.0f}" for role, peak in sorted(by_role.items()))
    return (
        f"  peak RSS in all {result.peak_sum() / MIB:.0f} MiB ({result.peak_sum() / MB:.0f} MB;"
        f" PSS in all {result.peak_pss() / MIB:.0f} MiB); largest process"
        f" {largest.peak / MIB:.0f} MiB ({largest.role}); each role's peak (MiB): {roles}"
    )


def growth_line(result: Result) -> str | None:
    """The largest worker's RSS through its life: flat, or growing with the track."""
    workers = [p for r in result.product for p in r.procs if p.role == "worker" and p.timeline]
    if not workers:
        return None
    worker = max(workers, key=lambda p: p.peak)
    first, last = worker.timeline[0][0], worker.timeline[-1][0]
    points = []
    for share in (0.1, 0.25, 0.5, 0.75, 0.95):
        moment = first + share * (last - first)
        rss = next(rss for t, rss in worker.timeline if t >= moment)
        points.append(f"{share:.0%} {rss / MIB:.0f}")
    return f"  worker RSS through its {last - first:.0f}s life (MiB): " + ", ".join(points)


def report_master(result: Result) -> list[Aim]:
    master = result.master
    runs = len(result.product)
    print(f"\n{master.name}: {result.size / MB:.0f} MB, {runs} run(s), medians")
    if not result.ok:
        for run in result.product:
            for problem in run.problems:
                print(f"  FAILED: {problem}")
        return [Aim(f"product/ffmpeg separate ({master.key})", "failed", "", None)]
    product = result.product_seconds()
    print(
        f"  {'product (daemon processing window)':38s} {product:8.2f} s"
        f"   ({master.seconds / product:.0f}x real time; tree CPU {result.product_cpu():.1f} s"
        f" over the whole --once run)"
    )
    print(f"  {'product, whole --once run':38s} {result.once_seconds():8.2f} s")
    aims: list[Aim] = []
    if result.ffmpeg:
        separate, one = result.separate(), result.one()
        parts = ", ".join(
            f"{name} {statistics.median(f.parts[name].wall for f in result.ffmpeg):.2f}"
            for name in result.ffmpeg[0].parts
        )
        cpu_sep = statistics.median(f.separate_cpu for f in result.ffmpeg)
        cpu_one = statistics.median(f.one.cpu for f in result.ffmpeg)
        print(
            f"  {'ffmpeg, separate commands (sum)':38s} {separate:8.2f} s   ({parts};"
            f" CPU {cpu_sep:.1f} s)"
        )
        print(f"  {'ffmpeg, one command (asplit)':38s} {one:8.2f} s   (CPU {cpu_one:.1f} s)")
        ratio_sep, ratio_one = product / separate, product / one
        print(
            f"  product/ffmpeg separate {ratio_sep:5.2f}x  aim <= {AIM_RATIO}x"
            f" {verdict(ratio_sep <= AIM_RATIO)};  product/ffmpeg one command {ratio_one:5.2f}x"
            f"  moonshot <= {MOONSHOT_RATIO}x {verdict(ratio_one <= MOONSHOT_RATIO)}"
        )
        aims += [
            Aim(
                f"product/ffmpeg separate, master ({master.key})",
                f"{ratio_sep:.2f}x",
                f"<= {AIM_RATIO}x",
                ratio_sep <= AIM_RATIO,
            ),
            Aim(
                f"product/ffmpeg one command, master ({master.key})",
                f"{ratio_one:.2f}x",
                f"<= {MOONSHOT_RATIO}x",
                ratio_one <= MOONSHOT_RATIO,
            ),
        ]
    splits = [s for s in (r.split() for r in result.product) if s]
    if splits:
        print("  the daemon's window, run by run: " + "; ".join(splits))
    print(memory_line(result))
    growth = growth_line(result)
    if growth:
        print(growth)
    analysis = result.product[0].analysis[result.track[0]]
    print(
        f"  product {analysis['integrated_lufs']} LUFS, LRA {analysis['loudness_range_lu']} LU,"
        f" true peak {analysis['true_peak_dbtp']} dBTP"
        + (
            f"; {ebur128_summary(result.ffmpeg[0].parts['ebur128'].stderr)}"
            if result.ffmpeg
            else ""
        )
        + f"; staging (CLI) {result.staging:.1f} s"
    )
    return aims


def print_table(results: list[Result]) -> None:
    print(
        "\nper master (seconds are medians; ratios are product / ffmpeg; RSS in MiB, the worst run)"
    )
    head = (
        f"  {'master':34s} {'product':>8s} {'ff sep':>7s} {'ff one':>7s} {'p/sep':>6s}"
        f" {'<=1.2':>5s} {'p/one':>6s} {'<=1.0':>5s} {'RSS all':>8s} {'PSS all':>8s}"
        f" {'RSS max':>8s}"
    )
    print(head)
    for r in results:
        if not r.ok:
            print(f"  {r.master.name[:34]:34s} failed")
            continue
        product = r.product_seconds()
        if r.ffmpeg:
            sep, one = r.separate(), r.one()
            times = f"{sep:7.2f} {one:7.2f} {product / sep:5.2f}x"
            times += f" {verdict(product / sep <= AIM_RATIO):>5s}"
            times += f" {product / one:5.2f}x {verdict(product / one <= MOONSHOT_RATIO):>5s}"
        else:
            times = f"{'-':>7s} {'-':>7s} {'-':>6s} {'':5s} {'-':>6s} {'':5s}"
        print(
            f"  {r.master.name[:34]:34s} {product:8.2f} {times} {r.peak_sum() / MIB:8.0f}"
            f" {r.peak_pss() / MIB:8.0f} {r.largest().peak / MIB:8.0f}"
        )


def memory_aims(results: list[Result], quick: bool) -> list[Aim]:
    aims = []
    by = {(r.master.minutes, r.master.rate, r.master.bits): r for r in results if r.ok}
    twenty = by.get((20, 48000, 24)) or (by.get((6, 48000, 24)) if quick else None)
    if twenty is not None:
        stand_in = "" if twenty.master.minutes == 20 else " (6-min stand-in: --quick)"
        peak = twenty.peak_sum() / MIB
        aims.append(
            Aim(
                f"peak RSS in all, {twenty.master.minutes:g}-min 48/24{stand_in}",
                f"{peak:.0f} MiB",
                f"< {AIM_RSS_MIB_20:.0f} MiB",
                peak < AIM_RSS_MIB_20,
            )
        )
    hour = by.get((60, 96000, 24))
    if hour is not None:
        for what, value in (
            ("in all", hour.peak_sum()),
            (f"largest process ({hour.largest().role})", hour.largest().peak),
        ):
            aims.append(
                Aim(
                    f"peak RSS {what}, 60-min 96/24",
                    f"{value / MB:.0f} MB",
                    f"< {AIM_RSS_MB_60_96:.0f} MB",
                    value / MB < AIM_RSS_MB_60_96,
                )
            )
    return aims


# --- throughput: several tracks in one --once run -----------------------------------------------


def measure_throughput(master: Master, work: Path, cover: Path, alone: float | None) -> None:
    folder = work / "throughput"
    folder.mkdir()
    path = write_master(folder / master.file_name, master)
    try:
        staged = stage(folder / "home", [path] * COPIES, cover)
        run = run_daemon(staged, folder / "daemon.log")
    finally:
        path.unlink(missing_ok=True)
    from daemon.processing import default_workers

    print(
        f"\nthroughput: {COPIES} copies of master ({master.key}) in one --once run,"
        f" default --processing-workers ({default_workers()}); os.cpu_count() {os.cpu_count()}"
    )
    if run.problems:
        print(f"  FAILED: {run.problems}")
        return
    window = run.window()
    each = ", ".join(f"{run.seconds(t):.1f}" for t in staged.tracks)
    print(
        f"  processing window {window:.2f} s: {COPIES / window * 60:.2f} tracks/minute"
        f" ({COPIES * master.minutes / window * 60:.1f} minutes of audio a minute);"
        f" whole --once run {run.wall:.2f} s: {COPIES / run.wall * 60:.2f} tracks/minute"
    )
    print(f"  each track's processing window (s): {each}")
    if alone:
        print(
            f"  one track alone took {alone:.2f} s ({60 / alone:.2f} tracks/minute in series):"
            f" the workers give {COPIES * alone / window:.2f}x"
        )
    print(
        f"  peak RSS in all {run.peak_sum / MIB:.0f} MiB (PSS {run.peak_pss / MIB:.0f} MiB);"
        f" largest process {run.largest.peak / MIB:.0f} MiB ({run.largest.role});"
        f" tree CPU {run.cpu:.1f} s"
    )


# --- the breakdown of process_master (in a process of its own) -----------------------------------


def breakdown_worker(master: str, folder: str, profile: bool) -> None:
    """Prints JSON: process_master's wall time plain, then one pass with its parts timed."""
    from vwaza_cli.enums import JobType
    from vwaza_cli.processing import measure, render
    from vwaza_cli.processing.work import Request

    make = (JobType.STREAM, JobType.PREVIEW, JobType.WAVEFORM)

    def request() -> Request:
        return Request(master, folder, "bench", measure=True, make=make)

    def clean(outcome: Any) -> None:
        for rendition in outcome.renditions:
            Path(rendition.path).unlink(missing_ok=True)

    began = time.perf_counter()
    clean(render.process_master(request()))
    plain = time.perf_counter() - began
    parts: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)

    def timing(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                parts[name] += time.perf_counter() - start
                counts[name] += 1

        return timed

    def by_kind(what: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(self: Any, *args: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(self, *args)
            finally:
                parts[f"{what} {self.kind.value.lower()}"] += time.perf_counter() - start

        return timed

    frames_of = render._frames

    def frames(container: Any, stream: Any) -> Iterator[Any]:
        decoded = frames_of(container, stream)
        while True:
            start = time.perf_counter()
            try:
                frame = next(decoded)
            except StopIteration:
                return
            finally:
                parts["decode (PyAV)"] += time.perf_counter() - start
            counts["decode (PyAV)"] += 1
            yield frame

    resampler_class = render.AudioResampler

    class Resampler:
        def __init__(self, **kwargs: Any) -> None:
            self.inner = resampler_class(**kwargs)
            self.resample = timing("resample to fltp/stream rate", self.inner.resample)

    patches: list[tuple[Any, str, Any]] = [
        (render, "_frames", frames),
        (render, "AudioResampler", Resampler),
        (render, "_planar", timing("to float32 planar", render._planar)),
        (render, "_outputs", timing("open the outputs", render._outputs)),
        (render, "_feed_encoders", timing("encoders (to_ndarray + feeds)", render._feed_encoders)),
        (render._BitDepth, "feed", timing("bit depth", render._BitDepth.feed)),
        (render._Waveform, "feed", timing("waveform feed", render._Waveform.feed)),
        (render._Aac, "feed", by_kind("AAC feed", render._Aac.feed)),
        (
            render._Output,
            "finish",
            by_kind("finish (flush, close, fsync, hash)", render._Output.finish),
        ),
        (measure.Meter, "feed", timing("meter", measure.Meter.feed)),
        (measure.Meter, "result", timing("meter result", measure.Meter.result)),
        (measure._Staging, "add", timing("meter: staging", measure._Staging.add)),
        (measure._Loudness, "feed", timing("meter: K-weighting (sosfilt)", measure._Loudness.feed)),
        (measure._TruePeak, "feed", timing("meter: true peak", measure._TruePeak.feed)),
        (measure._ClipCounter, "feed", timing("meter: clipping", measure._ClipCounter.feed)),
        (measure._SilenceFinder, "feed", timing("meter: silence", measure._SilenceFinder.feed)),
    ]
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    for owner, name, replacement in patches:
        setattr(owner, name, replacement)
    began = time.perf_counter()
    clean(render.process_master(request()))
    instrumented = time.perf_counter() - began
    top = None
    if profile:
        import cProfile
        import io
        import pstats

        for owner, name, original in originals:  # the profile of the product as it is
            setattr(owner, name, original)
        profiler = cProfile.Profile()
        profiler.enable()
        clean(render.process_master(request()))
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(18)
        top = text.getvalue()
    print(
        json.dumps(
            {
                "plain": plain,
                "instrumented": instrumented,
                "parts": parts,
                "frames": counts["decode (PyAV)"],
                "profile": top,
            }
        )
    )


def report_breakdown(
    master: Master, path: Path, folder: Path, profile: bool, daemon_window: float | None
) -> None:
    argv = [sys.executable, __file__, "--breakdown-worker", str(path), str(folder)]
    done = subprocess.run(
        [*argv, *(["--profile"] if profile else [])],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        print(f"  breakdown of master ({master.key}) failed: {done.stderr[-2000:]}")
        return
    found = json.loads(done.stdout.strip().splitlines()[-1])
    parts: dict[str, float] = found["parts"]
    total = found["instrumented"]
    print(
        f"\nprocess_master on master {master.name}, in-process: {found['plain']:.2f} s plain"
        f" ({master.seconds / found['plain']:.0f}x real time), {total:.2f} s with its parts timed;"
        f" {found['frames']} decoded frames"
        f" ({master.seconds * master.rate / max(1, found['frames']):.0f} samples each)"
    )
    if daemon_window is not None:
        beyond = daemon_window - found["plain"]
        print(
            f"  the daemon's processing window for this master was {daemon_window:.2f} s:"
            f" {beyond:+.2f} s ({beyond / daemon_window:.0%}) beyond process_master in-process"
            " (worker start through the forkserver, the hand-over, recording, spool renames)"
        )
    aac_feeds = sum(v for k, v in parts.items() if k.startswith("AAC feed"))
    meter_inner = sum(v for k, v in parts.items() if k.startswith("meter: "))
    top_level = [k for k in parts if not k.startswith(("AAC feed", "meter: "))]
    shown: list[tuple[str, float]] = []
    for key in sorted(top_level, key=lambda k: -parts[k]):
        if key == "encoders (to_ndarray + feeds)":
            shown.append(("encoders: to_ndarray of resampled frames", parts[key] - aac_feeds))
            shown += [(k, parts[k]) for k in sorted(parts) if k.startswith("AAC feed")]
        elif key == "meter":
            shown.append(("meter (all)", parts[key]))
            shown += [
                (f"  {k}", parts[k])
                for k in sorted(parts, key=lambda k: -parts[k])
                if k.startswith("meter: ")
            ]
            shown.append(
                ("  meter: the rest (abs, max, channel difference)", parts[key] - meter_inner)
            )
        else:
            shown.append((key, parts[key]))
    accounted = sum(v for k, v in parts.items() if k in top_level)
    shown.append(("the rest (loop, open/close the master, analysis)", total - accounted))
    for name, seconds in shown:
        print(f"  {name:52s} {seconds:7.2f} s  {seconds / total:6.1%}")
    if found["profile"]:
        print("  cProfile (uninstrumented pass), by own time:")
        for line in found["profile"].splitlines():
            if line.strip():
                print(f"    {line}")


# --- the whole benchmark -------------------------------------------------------------------------


def fingerprint() -> str:
    """Which code was measured: the files under test change while others work."""
    import hashlib

    files = (
        "vwaza_cli/processing/render.py",
        "vwaza_cli/processing/measure.py",
        "daemon/processing.py",
        "daemon/worker.py",
    )
    return ", ".join(
        f"{name.rsplit('/', 1)[-1]} {hashlib.sha256((REPO / name).read_bytes()).hexdigest()[:10]}"
        for name in files
        if (REPO / name).exists()
    )


IMPORT_PROBE = """
import re, sys, time
began = time.perf_counter()
for name in sys.argv[1:]:
    __import__(name)
spent = time.perf_counter() - began
rss = re.search(r"VmRSS:\\s+(\\d+)", open("/proc/self/status").read())
print(spent, int(rss.group(1)) * 1024, len(sys.modules))
"""


def report_imports() -> None:
    """What a worker process starts from: the forkserver preloads the renderer."""
    print("\nimports (a fresh interpreter each): seconds, RSS after, modules")
    for modules in (
        (),
        ("numpy", "av"),
        ("scipy.signal",),
        ("vwaza_cli.processing.render",),
    ):
        done = subprocess.run(
            [sys.executable, "-c", IMPORT_PROBE, *modules],
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            print(f"  {' + '.join(modules)}: failed: {done.stderr[-300:]}")
            continue
        spent, rss, count = done.stdout.split()
        name = " + ".join(modules) or "python alone"
        print(f"  {name:32s} {float(spent):5.2f} s {int(rss) / MIB:6.0f} MiB {count:>5s} modules")


def machine() -> str:
    one, five, _ = os.getloadavg()
    return f"{os.cpu_count()} CPU(s), load average {one:.2f} (1 min) {five:.2f} (5 min)"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1-, 1- and 6-minute masters")
    parser.add_argument("--runs", type=int, default=3, help="runs a master, medians kept (3)")
    parser.add_argument("--profile", action="store_true", help="cProfile's top in the breakdown")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (logs)")
    parser.add_argument("--only", help="master keys to measure, e.g. ab (default: all)")
    parser.add_argument("--breakdown-worker", nargs=2, help=argparse.SUPPRESS)
    add_aims_json(parser)
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be 1 or more")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.breakdown_worker:
        master, folder = args.breakdown_worker
        breakdown_worker(master, folder, profile=args.profile)
        return
    if not Path(FFMPEG).exists():
        raise SystemExit(f"{FFMPEG} is missing: the baseline needs Debian's ffmpeg")
    ffmpeg_version = subprocess.run(
        [FFMPEG, "-version"], capture_output=True, text=True
    ).stdout.split("\n")[0]
    import av

    print(f"machine: {machine()}")
    print(f"baseline: {ffmpeg_version}; product: PyAV {av.__version__} (its own FFmpeg)")
    print(f"code measured: {fingerprint()}")
    work = Path(tempfile.mkdtemp(prefix="vwaza-bench-processing-"))
    began = time.perf_counter()
    try:
        cover = write_cover(work / "cover.jpg")
        masters = [m for m in masters_for(args.quick) if not args.only or m.key in args.only]
        results = []
        for master in masters:
            runs = args.runs if master.minutes < 20 else 1
            results.append(measure_master(master, work, cover, runs))
        aims: list[Aim] = []
        for result in results:
            aims += report_master(result)
        print_table(results)
        first = masters_for(args.quick)[0]
        alone = next(
            (r.product_seconds() for r in results if r.master.key == first.key and r.ok), None
        )
        measure_throughput(first, work, cover, alone)
        for master in masters_for(args.quick)[:2]:
            folder = work / f"breakdown-{master.key}"
            folder.mkdir()
            path = write_master(folder / master.file_name, master)
            window = next(
                (r.product_seconds() for r in results if r.master.key == master.key and r.ok),
                None,
            )
            report_breakdown(master, path, folder, args.profile and master.key == "a", window)
            path.unlink()
        report_imports()
        aims += memory_aims(results, args.quick)
        print_aims(aims, "aims")
        write_aims(args.aims_json, aims)
    finally:
        if args.keep:
            print(f"\nkept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\n{time.perf_counter() - began:.0f}s in all; machine at the end: {machine()}")


if __name__ == "__main__":
    main()
