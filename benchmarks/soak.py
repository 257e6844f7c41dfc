"""Soak: many uploads while `vwaza-daemon` and `vwaza track add` are SIGKILLed at random
moments, storage has outages and the spool's disk fills up; then nothing may be lost.

Real processes, as a user runs them: every `track add` is `python -m vwaza_cli track add`
in its own process (a few at a time, one release each, 200 tracks a release), the daemon
is `python -m daemon`, both with one VWAZA_HOME in a temp folder. The storage is the
Supabase-Storage test server (tests/support/storage_server.py) in this process, so that its
fault injection can open and close outage windows (5xx, 544, 429, dropped connections,
hangs) and add single glitches (an object that lands but is answered 500, a connection
dropped mid-body). A seeded RNG (--seed) decides everything that is random.

- Kills: half of --kills hit `track add` (at a random moment of its life, half of them in
  its last part, after the imports: the copy, the check, the commit), half the daemon (a
  random time after its start, at least 50 ms, so start-up and sweeps are hit too); a
  killed daemon is started again at once. A kill counts when it hit a live process.
- A user whose `track add` failed (killed, or refused: a full disk is exit 7) tries again.
  Only a file whose `track add` exited 0 is *accepted*: it may never be lost. A killed
  `track add` that had committed its job adds a job, which must be uploaded as well.
- Full disk: the spool is a tmpfs (as root, when `mount -t tmpfs` works) that is filled to
  the last byte, and kept full, for a few seconds, until a `track add` was refused; without
  root, a file size limit (RLIMIT_FSIZE, `ulimit -f`: EFBIG, which the product reports
  like a full disk) on the `track add`s started in the window. The output says which.
- At the end: faults cleared, the daemon stopped; the temp files that killed `track add`s
  left behind are aged by two hours (the sweep keeps young ones: a CLI may be writing
  them) so that the start-up sweep of a last `vwaza-daemon --once` removes them; jobs that
  ended FAILED (an outage longer than their retry budget) are queued again with `vwaza jobs
  retry --failed` and `--once` runs again (each retry is printed).

Then it checks, prints each figure with PASS/MISS, and exits 1 on any MISS:
- lost: accepted files not stored under their job's key, or whose track does not point at
  the stored object;
- duplicated objects: objects in the bucket that no job refers to;
- wrong bytes: stored objects whose size or SHA-256 differ from the job's (and, for accepted
  files, from the file given to `track add`);
- stuck jobs: jobs not COMPLETED;
- leftover temp files: anything left in the spool (`.incoming` temp files, staged files),
  `.part` files in the local storage folder, unfinished TUS uploads on the server, and the
  server's own temp files.

Run: .venv/bin/python benchmarks/soak.py [--uploads 500] [--kills 100] [--seed N] [--pg URL]
     [--parallel 2] [--storage supabase|local] [--full-disk auto|tmpfs|ulimit|off] [--keep]
--pg takes a PostgreSQL server URL; a throw-away database is created on it and dropped.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.support.storage_server import StorageServer
    from vwaza_cli.services.context import Context

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # `vwaza_cli` and `tests.support` when run from anywhere
# The processes run in REPO too, so `python -m` takes the code of this tree (a git
# worktree's, say) before an editable install's.

KIB, MIB = 1024, 1024**2
TICK = 0.01  # seconds between looks at the processes
TRACKS_PER_RELEASE = 200
EMAIL, PASSWORD = "soak@example.com", "soak password"
MACHINE = "soak-machine"
# The daemon, scaled down from its defaults (lease 60 s, timeout 60 s, retries 2 s..300 s
# x 20) so that a killed daemon's jobs come back within seconds and an outage of several
# seconds stays inside the retry budget.
DAEMON_OPTIONS = [
    "--concurrency", "2", "--lease", "5", "--poll", "0.5", "--grace", "2",
    "--retry-base", "0.1", "--retry-cap", "1", "--max-attempts", "20", "--timeout", "2",
]  # fmt: skip
HANG_SECONDS = 3.0  # longer than the daemon's --timeout
OUTAGE_SECONDS = (0.5, 4.0)
FULL_DISK_SECONDS = (1.5, 4.0)  # and until at least one `track add` was refused
FULL_DISK_MAX_SECONDS = 20.0
ADD_TIMEOUT = 120.0  # a `track add` still running after this is killed and reported
ULIMIT_BYTES = 2048  # the file size limit of a `track add` in a simulated full-disk window
AGE_SECONDS = 7200.0  # how old the final sweep sees what killed `track add`s left
EXEC_WITH_FSIZE = (
    "import os, resource, sys; n = int(sys.argv[1]);"
    " resource.setrlimit(resource.RLIMIT_FSIZE, (n, n));"
    " os.execv(sys.executable, [sys.executable, *sys.argv[2:]])"
)


# --- source files ----------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    index: int
    path: Path
    size: int
    sha256: str


def write_source(folder: Path, index: int, size: int, rng: random.Random) -> Source:
    """A 16-bit mono 44.1 kHz WAV of `size` bytes (even) holding random samples: genuine
    audio for the decode-through check, and bytes no other file has."""
    data = rng.randbytes(max(size - 44, 2) // 2 * 2)
    header = b"".join(
        (
            b"RIFF",
            struct.pack("<I", 36 + len(data)),
            b"WAVEfmt ",
            struct.pack("<IHHIIHH", 16, 1, 1, 44100, 88200, 2, 16),
            b"data",
            struct.pack("<I", len(data)),
        )
    )
    path = folder / f"take-{index:05d}.wav"
    path.write_bytes(header + data)
    digest = hashlib.sha256(header + data).hexdigest()
    return Source(index, path, len(header) + len(data), digest)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while block := source.read(MIB):
            digest.update(block)
    return digest.hexdigest()


# --- the spool's disk --------------------------------------------------------------------


class SpoolDisk:
    """How a full spool is made: a tmpfs filled up (root), a file size limit on the
    `track add`s of the window (anyone), or not at all; `how` says which, and why."""

    def __init__(self, wanted: str, spool: Path, size: int) -> None:
        self.spool = spool
        self.mode = "off"
        self.how = "skipped (--full-disk off)"
        self.full = False
        self._filler = spool / ".soak-filler"
        self._fd: int | None = None
        if wanted in {"auto", "tmpfs"}:
            problem = self._mount(size)
            if problem is None:
                self.mode = "tmpfs"
                self.how = f"the spool on a {size // MIB} MiB tmpfs, filled to the last byte"
                return
            if wanted == "tmpfs":
                raise SystemExit(f"--full-disk tmpfs: {problem}")
            wanted = "ulimit"
            reason = f"no tmpfs ({problem})"
        else:
            reason = "asked for"
        if wanted == "ulimit":
            self.mode = "ulimit"
            self.how = (
                f"a file size limit of {ULIMIT_BYTES} bytes (RLIMIT_FSIZE: EFBIG) on the"
                f" `track add`s started in the window; {reason}"
            )

    def _mount(self, size: int) -> str | None:
        if os.geteuid() != 0:
            return "mounting a tmpfs needs root"
        self.spool.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(self.spool)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            return done.stderr.strip() or f"mount exited {done.returncode}"
        self.mounted = True
        return None

    mounted = False

    def fill(self) -> None:
        """Start a full-disk window: the tmpfs has no byte left (call `top_up` meanwhile:
        the daemon frees space as it uploads)."""
        self.full = True
        if self.mode == "tmpfs":
            self._fd = os.open(self._filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            self.top_up()

    def top_up(self) -> None:
        if self._fd is None:
            return
        for block in (MIB, 64 * KIB, 4 * KIB, 512, 1):
            chunk = b"\0" * block
            with contextlib.suppress(OSError):
                while os.write(self._fd, chunk):
                    pass

    def release(self) -> None:
        self.full = False
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self._filler.unlink(missing_ok=True)

    def command(self, argv: list[str]) -> list[str]:
        """The command of a `track add` started now."""
        if self.full and self.mode == "ulimit":
            return [sys.executable, "-c", EXEC_WITH_FSIZE, str(ULIMIT_BYTES), *argv[1:]]
        return argv

    def close(self) -> None:
        self.release()
        if self.mounted:
            subprocess.run(["umount", "--lazy", str(self.spool)], check=False)
            self.mounted = False


# --- storage ------------------------------------------------------------------------------


class Storage:
    """Where uploads land, what is stored there, and what temp files it holds."""

    name = ""
    faults_possible = False

    def environment(self) -> dict[str, str]:
        raise NotImplementedError

    def objects(self) -> dict[str, tuple[int, str]]:
        """key -> (size, sha256)."""
        raise NotImplementedError

    def leftovers(self) -> dict[str, int]:
        raise NotImplementedError


class TestServerStorage(Storage):
    name = "the Storage test server (in this process)"
    faults_possible = True

    def __init__(self, server: StorageServer, local_dir: Path) -> None:
        self.server = server
        self.local_dir = local_dir

    def environment(self) -> dict[str, str]:
        from vwaza_cli.settings import DEFAULT_BUCKET

        return {
            "VWAZA_STORAGE": "supabase",
            "SUPABASE_URL": self.server.url,
            "SUPABASE_KEY": self.server.key,
            "VWAZA_BUCKET": DEFAULT_BUCKET,
        }

    def objects(self) -> dict[str, tuple[int, str]]:
        return self.server.objects()

    def leftovers(self) -> dict[str, int]:
        root = self.server.root
        return {
            "unfinished TUS uploads on the server": sum(
                1 for upload in self.server.tus_uploads() if not upload.finished
            ),
            "server temp files": sum(1 for _ in (root / "incoming").iterdir()),
            ".part files in the local storage folder": _part_files(self.local_dir),
        }


class LocalStorage(Storage):
    name = "the local storage folder (VWAZA_STORAGE=local)"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def environment(self) -> dict[str, str]:
        return {"VWAZA_STORAGE": "local"}

    def objects(self) -> dict[str, tuple[int, str]]:
        if not self.folder.exists():
            return {}
        return {
            str(path.relative_to(self.folder)): (path.stat().st_size, sha256_of(path))
            for path in sorted(self.folder.rglob("*"))
            if path.is_file() and not path.name.endswith(".part")
        }

    def leftovers(self) -> dict[str, int]:
        return {".part files in the local storage folder": _part_files(self.folder)}


def _part_files(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*.part")) if folder.exists() else 0


@contextlib.contextmanager
def open_storage(kind: str, work: Path, local_dir: Path) -> Iterator[Storage]:
    if kind == "local":
        yield LocalStorage(local_dir)
        return
    from tests.support.storage_server import run_storage_server
    from vwaza_cli.settings import DEFAULT_BUCKET

    with run_storage_server(work / "storage-server", bucket=DEFAULT_BUCKET) as server:
        yield TestServerStorage(server, local_dir)


# --- the store, through the service layer (set-up and the final look) ---------------------


def environment(home: Path, storage: Storage, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VWAZA_", "SUPABASE_"))}
    env |= {
        "VWAZA_HOME": str(home),
        "VWAZA_BCRYPT_ROUNDS": "4",
        "VWAZA_MACHINE_ID": MACHINE,
        "NO_COLOR": "1",
        **storage.environment(),
    }
    if database_url:
        env["VWAZA_DATABASE_URL"] = database_url
    return env


def prepare_store(env: dict[str, str]) -> Context:
    """`vwaza init`, an artist logged in (the session saved for the CLI)."""
    from vwaza_cli.services import accounts, store
    from vwaza_cli.services.context import Context
    from vwaza_cli.settings import load_settings

    ctx = Context(settings=load_settings(env))
    store.init(ctx, None, None)
    accounts.register(ctx, EMAIL, "Soak", PASSWORD)
    ctx.token = accounts.login(ctx, EMAIL, PASSWORD)["token"]
    return ctx


def new_release(ctx: Context, number: int) -> str:
    from vwaza_cli.services import releases

    return str(releases.create_release(ctx, f"Soak {number}", "Electronic")["id"])


def rows(ctx: Context, query: str, **params: Any) -> list[dict[str, Any]]:
    import sqlalchemy as sa

    from vwaza_cli.db.engine import get_engine

    with get_engine(ctx.settings.database_url).connect() as conn:
        return [dict(r) for r in conn.execute(sa.text(query), params).mappings()]


def outstanding_jobs(ctx: Context) -> int:
    from vwaza_cli.enums import JobStatus

    query = "SELECT COUNT(*) AS n FROM upload_jobs WHERE status IN (:pending, :uploading)"
    found = rows(ctx, query, pending=JobStatus.PENDING.value, uploading=JobStatus.UPLOADING.value)
    return int(found[0]["n"])


# --- processes -----------------------------------------------------------------------------


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "vwaza_cli", *args]


def daemon_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "daemon", *args]


def sigkill(process: subprocess.Popen[bytes]) -> bool:
    """SIGKILL a child of ours; True when it was still alive to be killed."""
    if process.poll() is not None:
        return False
    process.send_signal(signal.SIGKILL)
    process.wait()
    return process.returncode == -signal.SIGKILL


@dataclass
class AddRun:
    source: Source
    process: subprocess.Popen[bytes]
    started: float
    kill_at: float | None
    in_full_disk: bool


@dataclass
class Lane:
    """One user adding tracks one after the other to their release."""

    number: int
    release_id: str
    tracks: int = 0
    run: AddRun | None = None


@dataclass
class Accepted:
    source: Source
    job_id: str | None  # None: exit 0 without the JSON it promises (found by SHA-256)


@dataclass
class Tally:
    add_runs: int = 0
    add_kills: int = 0
    daemon_kills: int = 0
    daemon_starts: int = 0
    add_exits: Counter[str] = field(default_factory=Counter)
    refused_full: int = 0  # exit 7 in a full-disk window
    other_outcomes: Counter[str] = field(default_factory=Counter)  # first lines, by reason
    outages: Counter[str] = field(default_factory=Counter)
    outage_seconds: float = 0.0
    glitches: Counter[str] = field(default_factory=Counter)
    full_disk_windows: int = 0
    full_disk_seconds: float = 0.0
    timed_out_adds: int = 0
    daemon_exits: Counter[int] = field(default_factory=Counter)  # stopped by itself

    @property
    def kills(self) -> int:
        return self.add_kills + self.daemon_kills


# --- the soak -------------------------------------------------------------------------------


@dataclass
class Window:
    kind: str
    started: float
    ends: float
    refused: int = 0


class Soak:
    def __init__(
        self,
        args: argparse.Namespace,
        ctx: Context,
        env: dict[str, str],
        storage: Storage,
        disk: SpoolDisk,
        work: Path,
    ) -> None:
        self.args = args
        self.ctx = ctx
        self.env = env
        self.storage = storage
        self.disk = disk
        self.work = work
        self.rng = random.Random(args.seed)
        self.tally = Tally()
        self.accepted: list[Accepted] = []
        self.retry: list[Source] = []  # files a user must add again
        self.sources = work / "sources"
        self.sources.mkdir()
        self.next_index = 0
        self.daemon_log = work / "daemon.log"
        self.add_ema = 1.0  # seconds a `track add` takes, smoothed
        self.add_kills_planned = args.kills - args.kills // 2
        self.daemon_kills_planned = args.kills // 2
        self.daemon: subprocess.Popen[bytes] | None = None
        self.daemon_kill_at: float | None = None
        self.daemon_start_at: float | None = 0.0
        self.outage: Window | None = None
        self.full_disk: Window | None = None
        n = args.uploads
        self.outage_marks = sorted(self.rng.randrange(n) for _ in range(args.outages))
        self.glitch_marks = sorted(self.rng.randrange(n) for _ in range(args.glitches))
        disk_marks = range(n // 5, max(n * 4 // 5, n // 5 + 1))
        self.full_disk_marks = sorted(
            self.rng.choice(disk_marks) for _ in range(args.full_disk_windows)
        )
        if disk.mode == "off" or not args.full_disk_windows:
            self.full_disk_marks = []
        if not storage.faults_possible:
            self.outage_marks, self.glitch_marks = [], []
        self.lanes = [Lane(k, new_release(ctx, k)) for k in range(args.parallel)]
        self.releases = len(self.lanes)
        self.began = time.monotonic()
        self.last_progress = 0
        self.stopped: str | None = None  # why production ended early

    # --- the whole run ---

    def produce(self, deadline: float) -> bool:
        """Add files until --uploads are accepted and the `track add` kills are done;
        False (and `stopped` says why) if the deadline came first, or too many `track add`s
        failed for other reasons than a kill or the full disk."""
        self.stopped = "--time-limit reached before every file was accepted"
        while time.monotonic() < deadline:
            if sum(self.tally.other_outcomes.values()) > 20 + self.args.uploads // 5:
                self.stopped = "too many `track add`s failed (see the outcomes above)"
                break
            now = time.monotonic()
            self._windows(now)
            self._daemon_tick(now)
            for lane in self.lanes:
                self._lane_tick(lane, now)
            self._progress()
            if self._produced() and all(lane.run is None for lane in self.lanes):
                self.stopped = None
                return True
            time.sleep(TICK)
        for lane in self.lanes:
            if lane.run is not None:
                sigkill(lane.run.process)
        return False

    def drain(self, deadline: float) -> None:
        """The daemon kills that production left: keep killing it while it works."""
        while self.tally.daemon_kills < self.daemon_kills_planned and time.monotonic() < deadline:
            now = time.monotonic()
            self._windows(now)
            self._daemon_tick(now)
            time.sleep(TICK)

    def stop(self) -> None:
        """Faults cleared, disk freed, daemon stopped (SIGTERM: a clean stop)."""
        self._end_outage(time.monotonic())
        self._end_full_disk(time.monotonic())
        for lane in self.lanes:
            if lane.run is not None:
                sigkill(lane.run.process)
                lane.run = None
        if self.daemon is not None and self.daemon.poll() is None:
            self.daemon.send_signal(signal.SIGTERM)
            try:
                self.daemon.wait(30)
            except subprocess.TimeoutExpired:
                sigkill(self.daemon)
        self.daemon = None

    def _produced(self) -> bool:
        enough = len(self.accepted) >= self.args.uploads
        kills_done = self.tally.add_kills >= self.add_kills_planned
        # the kills still to do may take a few more files, never many
        overflow = len(self.accepted) >= self.args.uploads + 10 + self.add_kills_planned
        return enough and (kills_done or overflow)

    def _more_wanted(self) -> bool:
        """Another `track add`: files still to accept (counting those running), or kills."""
        if self._produced():
            return False
        running = sum(1 for lane in self.lanes if lane.run is not None)
        short = len(self.accepted) + running < self.args.uploads
        return short or self.tally.add_kills < self.add_kills_planned

    def _progress(self) -> None:
        step = max(1, self.args.uploads // 10)
        if len(self.accepted) >= self.last_progress + step:
            self.last_progress = len(self.accepted) // step * step
            print(
                f"  {time.monotonic() - self.began:7.1f}s  accepted {len(self.accepted)}"
                f"/{self.args.uploads}  kills {self.tally.kills}/{self.args.kills}"
                f"  outages {sum(self.tally.outages.values())}"
                f"  full-disk windows {self.tally.full_disk_windows}"
                f"  jobs waiting {outstanding_jobs(self.ctx)}",
                flush=True,
            )

    # --- `track add` ---

    def _lane_tick(self, lane: Lane, now: float) -> None:
        run = lane.run
        if run is None:
            if self._more_wanted():
                self._launch(lane, now)
            return
        if run.process.poll() is None:
            if run.kill_at is not None and now >= run.kill_at:
                if sigkill(run.process):
                    self.tally.add_kills += 1
            elif now - run.started > ADD_TIMEOUT:
                sigkill(run.process)
                self.tally.timed_out_adds += 1
            if run.process.poll() is None:
                return
        self._finished(lane, run, now)

    def _launch(self, lane: Lane, now: float) -> None:
        if lane.tracks >= TRACKS_PER_RELEASE:
            lane.release_id, lane.tracks = new_release(self.ctx, self.releases), 0
            self.releases += 1
        source = self.retry.pop(0) if self.retry else self._new_source()
        argv = cli_command("track", "add", lane.release_id, str(source.path), "--json")
        process = subprocess.Popen(
            self.disk.command(argv),
            cwd=REPO,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.tally.add_runs += 1
        lane.run = AddRun(source, process, now, self._add_kill_at(now), self.disk.full)

    def _new_source(self) -> Source:
        index, self.next_index = self.next_index, self.next_index + 1
        large = self.args.large_every and index % self.args.large_every == 0
        if large:
            size = 7 * MIB  # past the 6 MiB threshold: a TUS upload of two chunks
        else:
            size = self.rng.randint(self.args.min_size, self.args.max_size)
        return write_source(self.sources, index, size, self.rng)

    def _add_kill_at(self, now: float) -> float | None:
        left = self.add_kills_planned - self.tally.add_kills - self._kills_scheduled()
        if left <= 0:
            return None
        to_accept = max(self.args.uploads - len(self.accepted), 1)
        if self.rng.random() >= min(0.9, left / to_accept):
            return None
        # half anywhere in its life, half in its last part: the copy, check and commit
        earliest = 0.0 if self.rng.random() < 0.5 else 0.5
        return now + self.add_ema * self.rng.uniform(earliest, 0.95)

    def _kills_scheduled(self) -> int:
        return sum(1 for lane in self.lanes if lane.run and lane.run.kill_at is not None)

    def _finished(self, lane: Lane, run: AddRun, now: float) -> None:
        lane.run = None
        out, err = run.process.communicate()
        code = run.process.returncode
        self.tally.add_exits["killed" if code == -signal.SIGKILL else f"exit {code}"] += 1
        if code == 0:
            self.accepted.append(Accepted(run.source, _job_id(out)))
            if self.accepted[-1].job_id is None:
                self.tally.other_outcomes["exit 0 without the job in its JSON output"] += 1
            lane.tracks += 1
            self.add_ema = 0.8 * self.add_ema + 0.2 * (now - run.started)
            run.source.path.unlink()  # its size and SHA-256 are all the check needs
            return
        self.retry.append(run.source)  # the user was told it failed: they try again
        if code == -signal.SIGKILL:
            return
        window = self.full_disk if self.full_disk is not None else None
        if code == 7 and (run.in_full_disk or window is not None) and _says_full(err):
            self.tally.refused_full += 1
            if window is not None:
                window.refused += 1
            return
        text = err.decode(errors="replace").strip()
        lines = text.splitlines() or ["(nothing on stderr)"]
        reason = lines[-1] if lines[0].startswith("Traceback") else lines[0]
        self.tally.other_outcomes[f"exit {code}: {reason[:160]}"] += 1
        with (self.work / "refusals.log").open("a") as log:
            log.write(f"--- {run.source.path.name}: exit {code}\n{text}\n")

    # --- the daemon ---

    def _daemon_tick(self, now: float) -> None:
        if self.daemon is not None and self.daemon.poll() is not None:
            self.tally.daemon_exits[self.daemon.returncode] += 1
            self.daemon = None  # it stopped by itself: start it again
            self.daemon_start_at = now + 0.5
        if self.daemon is None:
            if self.daemon_start_at is not None and now >= self.daemon_start_at:
                self._start_daemon(now)
            return
        if self.daemon_kill_at is not None and now >= self.daemon_kill_at:
            if sigkill(self.daemon):
                self.tally.daemon_kills += 1
            self.daemon = None
            self.daemon_start_at = now + self.rng.uniform(0.0, 0.4)

    def _start_daemon(self, now: float) -> None:
        with self.daemon_log.open("ab") as log:
            self.daemon = subprocess.Popen(
                daemon_command(*DAEMON_OPTIONS),
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=log,
            )
        self.tally.daemon_starts += 1
        self.daemon_start_at = None
        left = self.daemon_kills_planned - self.tally.daemon_kills
        if left <= 0:
            self.daemon_kill_at = None
            return
        to_accept = max(self.args.uploads - len(self.accepted), 0)
        expected = to_accept * self.add_ema / self.args.parallel  # production still to go
        mean = min(max(expected / (left + 0.5), 0.3), 60.0)
        self.daemon_kill_at = now + self.rng.uniform(0.05, 2 * mean)

    # --- outages, glitches, full disk ---

    def _windows(self, now: float) -> None:
        done = len(self.accepted)
        if self.outage is not None and now >= self.outage.ends:
            self._end_outage(now)
        if self.outage is None and self.outage_marks and done >= self.outage_marks[0]:
            self.outage_marks.pop(0)
            self._start_outage(now)
        if self.outage is None and self.glitch_marks and done >= self.glitch_marks[0]:
            self.glitch_marks.pop(0)
            self._glitch()
        window = self.full_disk
        if window is not None:
            long_enough = now >= window.ends and window.refused > 0
            if long_enough or now - window.started > FULL_DISK_MAX_SECONDS:
                self._end_full_disk(now)
            else:
                self.disk.top_up()
        elif self.full_disk_marks and done >= self.full_disk_marks[0]:
            self.full_disk_marks.pop(0)
            self.full_disk = Window("full disk", now, now + self.rng.uniform(*FULL_DISK_SECONDS))
            self.disk.fill()
            self.tally.full_disk_windows += 1

    def _faults(self) -> Any:
        assert isinstance(self.storage, TestServerStorage)
        return self.storage.server.faults

    def _start_outage(self, now: float) -> None:
        faults, every = self._faults(), 10**9
        kind = self.rng.choice(["503", "500", "544", "429", "drop", "hang"])
        if kind == "drop":
            faults.drop_next(every, after_bytes=self.rng.choice([0, 1000, 20000]))
        elif kind == "hang":
            faults.hang_next(every, seconds=HANG_SECONDS)
        else:
            faults.fail_next(every, status=int(kind))
        self.outage = Window(kind, now, now + self.rng.uniform(*OUTAGE_SECONDS))
        self.tally.outages[kind] += 1

    def _end_outage(self, now: float) -> None:
        if self.outage is None:
            return
        self._faults().clear()
        self.tally.outage_seconds += now - self.outage.started
        self.outage = None

    def _glitch(self) -> None:
        faults = self._faults()
        kind = self.rng.choice(["landed, answered 500", "dropped mid-body", "one 503"])
        if kind == "landed, answered 500":
            faults.land_then_fail(1, method="POST", path="/object/")
        elif kind == "dropped mid-body":
            faults.drop_next(1, after_bytes=self.rng.randint(1, 4 * KIB), method="POST")
        else:
            faults.fail_next(1, status=503)
        self.tally.glitches[kind] += 1

    def _end_full_disk(self, now: float) -> None:
        if self.full_disk is None:
            return
        self.disk.release()
        self.tally.full_disk_seconds += now - self.full_disk.started
        self.full_disk = None


def _job_id(stdout: bytes) -> str | None:
    try:
        return str(json.loads(stdout)["upload_job_id"])
    except (ValueError, KeyError, TypeError):
        return None


def _says_full(stderr: bytes) -> bool:
    text = stderr.decode(errors="replace")
    return "is full" in text or "No space left" in text


# --- the end: a last clean daemon, then the check ------------------------------------------


@dataclass
class Final:
    runs: list[str] = field(default_factory=list)
    retried: int = 0
    failed_reasons: Counter[str] = field(default_factory=Counter)
    aged: dict[str, int] = field(default_factory=dict)
    finished: bool = False
    seconds: float = 0.0


def age_crash_leftovers(ctx: Context) -> dict[str, int]:
    """What killed `track add`s left in the spool, aged so the start-up sweep takes it."""
    spool = ctx.settings.spool_dir
    if not spool.exists():
        return {}
    referenced = {r["local_path"] for r in rows(ctx, "SELECT local_path FROM upload_jobs")}
    temps = [p for p in (spool / ".incoming").glob("*") if p.is_file()]
    orphans = [p for p in spool.iterdir() if p.is_file() and str(p) not in referenced]
    past = time.time() - AGE_SECONDS
    for path in (*temps, *orphans):
        os.utime(path, (past, past))
    return {"temp files in .incoming": len(temps), "staged files no job refers to": len(orphans)}


def last_daemon(ctx: Context, env: dict[str, str], work: Path, timeout: float) -> Final:
    """`vwaza-daemon --once` until no job is left; FAILED jobs are retried (twice at most)."""
    from vwaza_cli.enums import JobStatus

    final = Final(aged=age_crash_leftovers(ctx))
    began = time.monotonic()
    log = work / "daemon.log"
    for attempt in range(3):
        left = max(timeout - (time.monotonic() - began), 1.0)
        with log.open("ab") as out:
            try:
                code = subprocess.run(
                    daemon_command("--once", *DAEMON_OPTIONS),
                    cwd=REPO, env=env, stdout=out, stderr=out, timeout=left, check=False,
                ).returncode  # fmt: skip
            except subprocess.TimeoutExpired:
                final.runs.append(f"--once still running after {left:.0f}s: killed")
                break
        final.runs.append(f"--once exit {code}")
        if code == 0:
            final.finished = True
            break
        query = "SELECT error_log FROM upload_jobs WHERE status = :failed"
        failed = rows(ctx, query, failed=JobStatus.FAILED.value)
        if code != 7 or not failed or attempt == 2:
            break
        for row in failed:
            final.failed_reasons[_reason(row["error_log"])] += 1
        retried = subprocess.run(
            cli_command("jobs", "retry", "--failed", "--json"),
            cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        final.runs.append(f"`vwaza jobs retry --failed` exit {retried.returncode}")
        if retried.returncode != 0:
            break
        final.retried += int(json.loads(retried.stdout)["retried"])
    final.seconds = time.monotonic() - began
    return final


def _reason(error_log: str | None) -> str:
    text = (error_log or "no error recorded").strip().splitlines()[-1]
    return text[:160]


@dataclass
class Figure:
    name: str
    value: int
    details: list[str]

    @property
    def passed(self) -> bool:
        return self.value == 0


def check(ctx: Context, storage: Storage, accepted: list[Accepted]) -> list[Figure]:
    from vwaza_cli.enums import JobStatus

    jobs = {r["id"]: r for r in rows(ctx, "SELECT * FROM upload_jobs")}
    tracks = {r["id"]: r["audio_file"] for r in rows(ctx, "SELECT id, audio_file FROM tracks")}
    stored = storage.objects()
    by_sha = {job["sha256"]: job for job in jobs.values()}
    lost: list[str] = []
    wrong: dict[str, str] = {}  # object key -> what is wrong with it
    for item in accepted:
        job = jobs.get(item.job_id) if item.job_id else by_sha.get(item.source.sha256)
        if job is None:
            lost.append(f"{item.source.path.name}: no job {item.job_id or '(none printed)'}")
        elif job["object_key"] not in stored:
            lost.append(f"{item.source.path.name}: nothing stored at {job['object_key']}")
        elif stored[job["object_key"]] != (item.source.size, item.source.sha256):
            wrong[job["object_key"]] = f"holds other bytes than {item.source.path.name}"
        elif not str(tracks.get(job["track_id"]) or "").endswith("/" + job["object_key"]):
            lost.append(f"{item.source.path.name}: track {job['track_id']} does not point at it")
    for job in jobs.values():
        found = stored.get(job["object_key"])
        if found is not None and found != (job["size"], job["sha256"]):
            wrong.setdefault(job["object_key"], f"differs from the file job {job['id']} staged")
    keys = Counter(job["object_key"] for job in jobs.values())
    orphans = [f"{key}: no job refers to it" for key in stored if key not in keys]
    shared = [f"{key}: {n} jobs share it" for key, n in keys.items() if n > 1]
    stuck = [
        f"job {j['id']}: {j['status']} ({_reason(j['error_log'])})"
        for j in jobs.values()
        if j["status"] != JobStatus.COMPLETED
    ]
    return [
        Figure("lost", len(lost), lost),
        Figure("duplicated objects", len(orphans) + len(shared), orphans + shared),
        Figure("wrong bytes", len(wrong), [f"{key}: {why}" for key, why in wrong.items()]),
        Figure("stuck jobs", len(stuck), stuck),
        _leftovers(ctx, storage),
    ]


def _leftovers(ctx: Context, storage: Storage) -> Figure:
    spool = ctx.settings.spool_dir
    left = sorted(p for p in spool.rglob("*") if p.is_file()) if spool.exists() else []
    details = [f"spool: {p.relative_to(spool)}" for p in left]
    counts = storage.leftovers()
    details += [f"{what}: {n}" for what, n in counts.items() if n]
    return Figure("leftover temp files", len(left) + sum(counts.values()), details)


def daemon_notes(ctx: Context, log: Path) -> dict[str, int]:
    """What the daemons went through: from their log, and the jobs' failure counters."""
    text = log.read_text(errors="replace") if log.exists() else ""
    counters = rows(ctx, "SELECT COALESCE(SUM(retry_count), 0) AS n FROM upload_jobs")
    return {
        "claims": text.count(" claimed "),
        "failed attempts (expired leases included)": int(counters[0]["n"]),
        "lease losses seen": text.count("lease on "),
        "unexpected errors": text.count("unexpected error on"),
        "tracebacks": text.count("Traceback (most recent call last)"),
    }


# --- report ----------------------------------------------------------------------------------


def report(
    soak: Soak,
    final: Final,
    figures: list[Figure],
    produced: bool,
    seconds: dict[str, float],
) -> bool:
    t, args = soak.tally, soak.args
    print(
        f"\ntrack add: {t.add_runs} run(s): {len(soak.accepted)} accepted (exit 0),"
        f" {t.add_exits['killed']} killed, {t.refused_full} refused for the full disk (exit 7),"
        f" {sum(t.other_outcomes.values())} other outcome(s)"
    )
    for reason, n in t.other_outcomes.most_common():
        print(f"  {n} x {reason}")
    if t.timed_out_adds:
        print(f"  {t.timed_out_adds} still running after {ADD_TIMEOUT:.0f}s: killed (not counted)")
    extra = len({r["id"] for r in rows(soak.ctx, "SELECT id FROM upload_jobs")}) - len(
        soak.accepted
    )
    print(f"  jobs of killed `track add`s that had committed (uploaded as well): {extra}")
    print(
        f"kills: {t.kills} done of {args.kills} asked ({t.add_kills} track add,"
        f" {t.daemon_kills} daemon); the daemon was started {t.daemon_starts} time(s)"
    )
    for code, n in sorted(t.daemon_exits.items()):
        print(f"  the daemon stopped by itself {n} time(s) with exit {code} (started again)")
    if soak.storage.faults_possible:
        kinds = ", ".join(f"{k} x{n}" for k, n in sorted(t.outages.items())) or "none"
        glitches = ", ".join(f"{k} x{n}" for k, n in sorted(t.glitches.items())) or "none"
        print(f"storage outages: {sum(t.outages.values())} ({kinds}), {t.outage_seconds:.1f}s")
        print(f"single storage faults: {glitches}")
    else:
        print("storage outages: skipped (local storage has no server to fail)")
    if soak.disk.mode == "off" or not args.full_disk_windows:
        print("full disk: skipped (--full-disk off or --full-disk-windows 0)")
    else:
        print(
            f"full disk: {t.full_disk_windows} window(s), {t.full_disk_seconds:.1f}s in all,"
            f" {t.refused_full} `track add` refused; {soak.disk.how}"
        )
    aged = ", ".join(f"{n} {what}" for what, n in final.aged.items())
    print(
        f"left by kills before the final sweep: {aged or 'nothing'}"
        f" (aged {AGE_SECONDS / 3600:.0f} h: the sweep keeps younger ones)"
    )
    print(f"final: {'; '.join(final.runs)} ({final.seconds:.1f}s)")
    if final.retried:
        print(f"  FAILED jobs queued again with `vwaza jobs retry --failed`: {final.retried}")
        for reason, n in final.failed_reasons.most_common(5):
            print(f"    {n} x {reason}")
    notes = daemon_notes(soak.ctx, soak.daemon_log)
    print("daemons: " + ", ".join(f"{n} {what}" for what, n in notes.items()))
    print()
    width = max(len(f.name) for f in figures)
    for figure in figures:
        verdict = "PASS" if figure.passed else "MISS"
        print(f"  {figure.name:{width}s}  {figure.value:5d}  {verdict}")
        for line in figure.details[:10]:
            print(f"      {line}")
        if len(figure.details) > 10:
            print(f"      ... and {len(figure.details) - 10} more")
    finished = produced and final.finished
    verdict = "PASS" if finished else "MISS"
    print(f"  {'finished':{width}s}  {'yes' if finished else 'no':>5s}  {verdict}")
    if not produced:
        print(f"      uploads stopped early: {soak.stopped}")
    print(
        f"\ntime taken {seconds['total']:.1f}s (set-up {seconds['setup']:.1f}s, uploads and"
        f" kills {seconds['produce']:.1f}s, final {final.seconds:.1f}s, check"
        f" {seconds['check']:.1f}s); {len(soak.accepted)} uploads, {t.kills} kills"
    )
    return finished and all(f.passed for f in figures)


def write_report(path: Path, soak: Soak, figures: list[Figure], passed: bool, total: float) -> None:
    t = soak.tally
    document = {
        "passed": passed,
        "figures": {f.name: f.value for f in figures},
        "uploads": len(soak.accepted),
        "kills": t.kills,
        "add_kills": t.add_kills,
        "daemon_kills": t.daemon_kills,
        "outages": sum(t.outages.values()),
        "full_disk_windows": t.full_disk_windows,
        "refused_full": t.refused_full,
        "full_disk": soak.disk.how,
        "seconds": round(total, 1),
    }
    path.write_text(json.dumps(document, indent=2) + "\n")


# --- options and main -------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--uploads", type=int, default=500, help="files to get accepted (500)")
    parser.add_argument("--kills", type=int, default=100, help="SIGKILLs, half each (100)")
    parser.add_argument("--seed", type=int, default=20261202, help="of every random choice")
    parser.add_argument("--parallel", type=int, default=2, help="`track add`s at a time (2)")
    parser.add_argument("--min-size", type=int, default=4 * KIB, help="bytes (4096)")
    parser.add_argument("--max-size", type=int, default=64 * KIB, help="bytes (65536)")
    parser.add_argument(
        "--large-every", type=int, default=0, help="every Nth file 7 MiB (TUS); 0: none (0)"
    )
    parser.add_argument("--outages", type=int, help="storage outage windows (uploads/50, min 2)")
    parser.add_argument("--glitches", type=int, help="single storage faults (uploads/20)")
    parser.add_argument(
        "--full-disk", choices=["auto", "tmpfs", "ulimit", "off"], default="auto",
        help="how the spool is filled up: tmpfs when root may mount one, else ulimit (auto)",
    )  # fmt: skip
    parser.add_argument(
        "--full-disk-windows", type=int, help="full-disk windows (1 + uploads/1000)"
    )
    parser.add_argument("--storage", choices=["supabase", "local"], default="supabase")
    parser.add_argument("--pg", metavar="URL", help="a PostgreSQL server for a throw-away store")
    parser.add_argument(
        "--time-limit", type=float, help="minutes for the uploads (2 + uploads x 3 s)"
    )
    parser.add_argument("--report", type=Path, help="also write the figures here as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the work folder and logs")
    args = parser.parse_args(argv)
    if args.uploads < 1 or args.kills < 0 or args.parallel < 1:
        parser.error("--uploads and --parallel must be 1 or more, --kills 0 or more")
    if not 46 <= args.min_size <= args.max_size:
        parser.error("sizes: 46 <= --min-size <= --max-size")
    if args.outages is None:
        args.outages = max(2, args.uploads // 50)
    if args.glitches is None:
        args.glitches = args.uploads // 20
    if args.full_disk_windows is None:
        args.full_disk_windows = 1 + args.uploads // 1000
    if args.time_limit is None:
        args.time_limit = 2 + args.uploads * 3 / 60
    return args


def tmpfs_size(args: argparse.Namespace) -> int:
    """Room for every staged file at once, in case the daemon uploads nothing for a while."""
    large = args.uploads // args.large_every * 7 * MIB if args.large_every else 0
    return min(max(args.uploads * args.max_size * 2 + large, 64 * MIB), 2048 * MIB)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.pg:
        from tests.support.db import require_pg_server

        require_pg_server(args.pg)
    return run(args)


def _database(pg: str | None) -> contextlib.AbstractContextManager[str | None]:
    if not pg:
        return contextlib.nullcontext()
    from tests.support.db import fresh_pg_database

    return fresh_pg_database(pg, prefix="vwaza_soak")


def run(args: argparse.Namespace) -> int:
    work = Path(tempfile.mkdtemp(prefix="vwaza-soak-"))
    began = time.monotonic()
    store = "postgresql (throw-away database)" if args.pg else "sqlite"
    print(
        f"soak: {args.uploads} uploads of {args.min_size}..{args.max_size} bytes,"
        f" {args.kills} kills, seed {args.seed}, {args.parallel} `track add` at a time,"
        f" store {store}; {os.cpu_count()} CPU(s), work folder {work}",
        flush=True,
    )
    passed = False
    disk: SpoolDisk | None = None
    cleanup: list[Callable[[], None]] = []
    try:
        with (
            _database(args.pg) as database_url,
            open_storage(args.storage, work, work / "home" / "data" / "storage") as storage,
        ):
            env = environment(work / "home", storage, database_url)
            from vwaza_cli.settings import load_settings

            settings = load_settings(env)
            disk = SpoolDisk(args.full_disk, settings.spool_dir, tmpfs_size(args))
            print(f"storage: {storage.name}; full disk: {disk.how}", flush=True)
            ctx = prepare_store(env)
            soak = Soak(args, ctx, env, storage, disk, work)
            cleanup.append(soak.stop)
            setup = time.monotonic() - began
            produced = soak.produce(began + args.time_limit * 60)
            soak.drain(time.monotonic() + 120)
            soak.stop()
            produce = time.monotonic() - began - setup
            final = last_daemon(ctx, env, work, timeout=120 + 0.2 * len(soak.accepted))
            checked = time.monotonic()
            figures = check(ctx, storage, soak.accepted)
            total = time.monotonic() - began
            seconds = {
                "total": total,
                "setup": setup,
                "produce": produce,
                "check": time.monotonic() - checked,
            }
            passed = report(soak, final, figures, produced, seconds)
            if args.report:
                write_report(args.report, soak, figures, passed, total)
            from vwaza_cli.db.engine import dispose_engines

            dispose_engines()
    finally:
        for step in cleanup:
            with contextlib.suppress(Exception):
                step()
        if disk is not None:
            disk.close()
        if args.keep or not passed:
            print(f"\nwork folder and logs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
