"""Upload throughput, per-file overhead and peak memory of `vwaza-daemon`.

The daemon uploads genuine staged jobs to the Supabase-Storage-protocol test server (aiohttp,
run in its own process so that its CPU never shares a GIL with what is measured). The baseline
is a plain httpx upload of the same staged files, in its own process, with the same number of
threads sharing one client and the same protocol (multipart POST up to 6 MiB, TUS above).

Aims (from the issues): daemon/plain throughput >= 0.8x (moonshot 0.95x); the daemon's own
CPU a file < 5 ms (moonshot 2 ms); peak RSS < 100 MB while uploading a 1 GB file. Prints
figures, ratios and each aim with PASS or MISS; asserts nothing. The machine's load is
printed too: on a busy machine, run again (or use --repeat, which keeps the fastest run of
each side). With few cores, the server, the
uploader and this script share them, so the throughput ratio mostly compares the CPU each side
spends a file; against a distant Supabase the daemon's extra work overlaps with the network.

The daemon runs as `python -c "...daemon.main.run()"`, which is what the `vwaza-daemon` script
does, with millisecond log timestamps: the upload window (first claim to last completion) is
read from them, apart from start-up and shut-down, which the wall clock includes.

Run: .venv/bin/python benchmarks/uploads.py [--quick] [--concurrency N] [--pg URL]
--pg takes a PostgreSQL server URL (postgresql://user@host/db); a throw-away database is
created on it for each batch and dropped afterwards.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # `vwaza_cli` and `tests.support` when run from anywhere
sys.path.insert(0, str(REPO / "benchmarks"))

from aims import Aim, add_aims_json, print_aims, write_aims  # noqa: E402

KIB, MIB, GIB = 1024, 1024**2, 1024**3
TUS_CHUNK = 6 * MIB  # as vwaza_cli.storage.supabase: larger files go through TUS
PIECE = 256 * KIB
CONTENT_TYPE = "audio/wav"
AIM_RATIO, MOONSHOT_RATIO, AIM_RSS_MB = 0.8, 0.95, 100.0
AIM_CPU_MS, MOONSHOT_CPU_MS = 5.0, 2.0  # the daemon's own CPU a file (claim, complete...)
OVERHEAD_CONCURRENCY = 1  # one thread: no overlap hides any of the per-file cost

DAEMON = """
import logging, sys
logging.basicConfig(level=logging.INFO, format="%(created).6f %(message)s", stream=sys.stderr)
sys.argv[0] = "vwaza-daemon"
from daemon.main import run
run()
"""


# --- sizes and files ------------------------------------------------------------------


def size_arg(text: str) -> int:
    """'1MiB', '500KiB', '1GiB', '2048' -> bytes."""
    found = re.fullmatch(r"\s*(\d+)\s*([KMG]i?B?)?\s*", text, re.IGNORECASE)
    if not found:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 1MiB, 100KiB, 1GiB)")
    unit = (found.group(2) or "B")[0].upper()
    return int(found.group(1)) * {"B": 1, "K": KIB, "M": MIB, "G": GIB}[unit]


def human(size: int) -> str:
    for unit, scale in (("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} B"


def write_wav(path: Path, size: int) -> Path:
    """A silent 16-bit mono 44.1 kHz WAV of exactly `size` bytes (sparse: fast to make)."""
    data = size - 44
    if data < 2 or data % 2:
        raise SystemExit(f"a WAV of {size} bytes is impossible: use an even size of 46 or more")
    header = b"".join(
        (
            b"RIFF",
            struct.pack("<I", 36 + data),
            b"WAVEfmt ",
            struct.pack("<IHHIIHH", 16, 1, 1, 44100, 88200, 2, 16),
            b"data",
            struct.pack("<I", data),
        )
    )
    with path.open("wb") as out:
        out.write(header)
        out.truncate(size)
    return path


# --- the storage server, in its own process ----------------------------------------------


@dataclass(frozen=True)
class Server:
    url: str
    key: str
    bucket: str


@contextlib.contextmanager
def storage_server(root: Path) -> Iterator[Server]:
    command = [sys.executable, "-m", "tests.support.storage_server", "--root", str(root)]
    with (root.parent / "storage-server.log").open("wb") as log:
        process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=log)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        if not first:
            raise SystemExit(f"the storage server did not start: see {log.name}")
        found = json.loads(first)
        yield Server(found["url"], found["key"], found["bucket"])
    finally:
        process.terminate()
        process.wait(15)


# --- a store with staged jobs, through the service layer ---------------------------------


def fresh_pg_database(server_url: str) -> contextlib.AbstractContextManager[str]:
    from tests.support.db import fresh_pg_database as fresh

    return fresh(server_url, prefix="vwaza_bench")


def environment(home: Path, server: Server, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VWAZA_", "SUPABASE_"))}
    env |= {
        "VWAZA_HOME": str(home),
        "VWAZA_STORAGE": "supabase",
        "SUPABASE_URL": server.url,
        "SUPABASE_KEY": server.key,
        "VWAZA_BUCKET": server.bucket,
        "VWAZA_BCRYPT_ROUNDS": "4",
        "NO_COLOR": "1",
    }
    if database_url:
        env["VWAZA_DATABASE_URL"] = database_url
    return env


def stage(env: dict[str, str], source: Path | None, count: int) -> list[Path]:
    """`vwaza init`, an artist, a release and `count` tracks of `source`: genuine jobs (the
    tracks' processing left out, so that the daemon uploads and does nothing else)."""
    import sqlalchemy as sa

    from vwaza_cli.db.engine import dispose_engines
    from vwaza_cli.services import accounts, releases, store, tracks
    from vwaza_cli.services.context import Context
    from vwaza_cli.settings import load_settings

    ctx = Context(settings=load_settings(env))
    store.init(ctx, None, None)
    accounts.register(ctx, "bench@example.com", "Bench", "bench password")
    ctx.token = accounts.login(ctx, "bench@example.com", "bench password")["token"]
    release = releases.create_release(ctx, "Benchmark", "Electronic")["id"]
    staged = [
        Path(tracks.add_track(ctx, release, source, title=f"Take {n}")["audio_file"])
        for n in range(count)
        if source is not None
    ]
    with ctx.tx() as session:  # uploads only: processing is benchmarks/processing.py's
        session.execute(sa.text("DELETE FROM track_processing"))
    dispose_engines()  # hold no connection while the daemon works
    return staged


def job_statuses(env: dict[str, str]) -> dict[str, int]:
    from collections import Counter

    from vwaza_cli.db.engine import dispose_engines
    from vwaza_cli.services import jobs
    from vwaza_cli.services.context import Context
    from vwaza_cli.services.session_file import load_token
    from vwaza_cli.settings import load_settings

    settings = load_settings(env)
    ctx = Context(settings=settings, token=load_token(settings))
    counted = Counter(job["status"] for job in jobs.list_jobs(ctx, None))
    dispose_engines()
    return dict(counted)


# --- runs --------------------------------------------------------------------------------


@dataclass
class Run:
    files: int
    size: int  # bytes a file
    wall: float = 0.0  # process start to exit, seconds
    window: float = 0.0  # first upload started to last one finished, seconds
    startup: float = 0.0  # process start to first claim (daemon only)
    cpu: float = 0.0  # user + system seconds of the process
    peak_rss: int = 0  # bytes
    ok: bool = True
    note: str = ""

    @property
    def total(self) -> int:
        return self.files * self.size

    def mb_per_s(self, seconds: float) -> float:
        return self.total / seconds / 1e6 if seconds > 0 else float("inf")


def spawn(argv: list[str], env: dict[str, str] | None, log: Path) -> tuple[Run, float, int]:
    """Run a process to its end; its wall clock, CPU and peak RSS, its start time, its code.

    Peak RSS is the kernel's VmHWM of the process, read while it runs: the rusage figure of a
    child would include this script's own memory (Linux keeps the larger across fork/exec).
    """
    started, clock = time.time(), time.perf_counter()
    with log.open("wb") as out:
        process = subprocess.Popen(argv, cwd=REPO, env=env, stdout=out, stderr=out)
    status_file, peak = Path(f"/proc/{process.pid}/status"), 0
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        peak = max(peak, _vm_hwm(status_file))
        time.sleep(0.01)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - clock
    run = Run(0, 0, wall=wall, cpu=usage.ru_utime + usage.ru_stime, peak_rss=peak)
    return run, started, process.returncode


def _vm_hwm(status_file: Path) -> int:
    with contextlib.suppress(OSError):
        for line in status_file.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def run_daemon(env: dict[str, str], files: int, size: int, concurrency: int, log: Path) -> Run:
    argv = [sys.executable, "-c", DAEMON, "--once", "--concurrency", str(concurrency)]
    run, started, code = spawn(argv, env, log)
    run.files, run.size = files, size
    claims, completions = _log_times(log)
    if code != 0 or len(completions) != files:
        run.ok, run.note = False, f"daemon: exit {code}, {len(completions)}/{files} completed"
    elif files:
        run.window = max(completions) - min(claims)
        run.startup = min(claims) - started
    return run


def _log_times(log: Path) -> tuple[list[float], list[float]]:
    claims, completions = [], []
    for line in log.read_text(errors="replace").splitlines():
        stamp, _, message = line.partition(" ")
        if message.startswith("claimed "):
            claims.append(float(stamp))
        elif message.startswith("completed "):
            completions.append(float(stamp))
    return claims, completions


def run_plain(server: Server, staged: list[Path], size: int, concurrency: int, log: Path) -> Run:
    manifest = log.with_suffix(".json")
    fields = {"url": server.url, "key": server.key, "bucket": server.bucket}
    files = [str(p) for p in staged]
    manifest.write_text(json.dumps({**fields, "concurrency": concurrency, "files": files}))
    run, _, code = spawn([sys.executable, __file__, "--plain-worker", str(manifest)], None, log)
    run.files, run.size = len(staged), size
    lines = log.read_text(errors="replace").strip().splitlines() or [""]
    if code != 0:
        run.ok, run.note = False, f"plain upload: exit {code}: {lines[-1]}"
    else:
        run.window = json.loads(lines[-1])["window"]
    return run


# --- the plain uploader (runs in its own process) ----------------------------------------


def plain_worker(manifest_path: Path) -> None:
    import httpx

    manifest = json.loads(manifest_path.read_text())
    base = f"{manifest['url'].rstrip('/')}/storage/v1/"
    auth = {"apikey": manifest["key"], "Authorization": f"Bearer {manifest['key']}"}
    prefix = f"plain/{uuid.uuid4().hex}"
    files = [Path(p) for p in manifest["files"]]
    with httpx.Client(headers=auth, timeout=60) as client:

        def upload(numbered: tuple[int, Path]) -> None:
            n, path = numbered
            key = f"{prefix}/{n}.wav"
            size = path.stat().st_size
            if size > TUS_CHUNK:
                _plain_tus(client, base, manifest["bucket"], key, path, size)
            else:
                _plain_post(client, base, manifest["bucket"], key, path)

        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=manifest["concurrency"]) as pool:
            list(pool.map(upload, enumerate(files)))
        window = time.perf_counter() - start
    print(json.dumps({"window": window}))


def _plain_post(client: httpx.Client, base: str, bucket: str, key: str, path: Path) -> None:
    """What storage3's upload sends: a multipart form streamed from the open file."""
    with path.open("rb") as source:
        response = client.post(
            f"{base}object/{bucket}/{key}",
            files={"file": (path.name, source, CONTENT_TYPE)},
            data={"cacheControl": "3600"},
            headers={"x-upsert": "false"},
        )
    response.raise_for_status()


def _plain_tus(
    client: httpx.Client, base: str, bucket: str, key: str, path: Path, size: int
) -> None:
    """A TUS upload in chunks of exactly 6 MiB, each streamed in 256 KiB pieces."""
    fields = {"bucketName": bucket, "objectName": key, "contentType": CONTENT_TYPE}
    metadata = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in fields.items())
    created = client.post(
        f"{base}upload/resumable",
        headers={"Tus-Resumable": "1.0.0", "Upload-Length": str(size), "Upload-Metadata": metadata},
    )
    created.raise_for_status()
    location = str(created.url.join(created.headers["Location"]))
    offset = 0
    with path.open("rb") as source:
        while offset < size:
            length = min(TUS_CHUNK, size - offset)
            headers = {
                "Tus-Resumable": "1.0.0",
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
                "Content-Length": str(length),
            }
            sent = client.patch(location, headers=headers, content=_pieces(source, length))
            sent.raise_for_status()
            offset = int(sent.headers["Upload-Offset"])


def _pieces(source: BinaryIO, length: int) -> Iterator[bytes]:
    while length > 0 and (piece := source.read(min(PIECE, length))):
        length -= len(piece)
        yield piece


# --- one batch: stage, plain upload, daemon upload -----------------------------------------


@dataclass(frozen=True)
class Idle:
    """Processes with nothing to upload: what every run pays before and after the work."""

    plain: Run
    daemon: Run


@dataclass
class Batch:
    label: str
    plain: Run
    daemon: Run

    @property
    def ok(self) -> bool:
        return self.plain.ok and self.daemon.ok

    @property
    def ratio(self) -> float:
        """Daemon throughput as a share of the plain upload's, over the upload window."""
        return self.plain.window / self.daemon.window

    @property
    def wall_ratio(self) -> float:
        return self.plain.wall / self.daemon.wall

    @property
    def overhead_ms(self) -> float:
        return (self.daemon.window - self.plain.window) / self.daemon.files * 1000


def measure_batch(
    label: str,
    server: Server,
    work: Path,
    *,
    files: int,
    size: int,
    concurrency: int,
    pg: str | None,
) -> Batch:
    folder = Path(tempfile.mkdtemp(prefix="batch-", dir=work))
    try:
        with fresh_pg_database(pg) if pg else contextlib.nullcontext() as database_url:
            env = environment(folder / "home", server, database_url)
            began = time.perf_counter()
            source = write_wav(folder / "source.wav", size) if files else None
            staged = stage(env, source, files)
            if files:
                print(f"  staged {files} x {human(size)} in {time.perf_counter() - began:.1f}s")
            plain = run_plain(server, staged, size, concurrency, work / f"plain-{label}.log")
            daemon = run_daemon(env, files, size, concurrency, work / f"daemon-{label}.log")
            if daemon.ok and files and set(statuses := job_statuses(env)) != {"COMPLETED"}:
                daemon.ok, daemon.note = False, f"daemon: jobs left {statuses}"
        return Batch(label, plain, daemon)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def measure_idle(server: Server, work: Path) -> Idle:
    idle = measure_batch("idle", server, work, files=0, size=0, concurrency=1, pg=None)
    plain, daemon = idle.plain, idle.daemon
    print(
        f"  idle (nothing to upload): plain process {plain.wall:.2f}s, CPU {plain.cpu:.2f}s,"
        f" RSS {mb(plain.peak_rss):.0f} MB; daemon process {daemon.wall:.2f}s,"
        f" CPU {daemon.cpu:.2f}s, RSS {mb(daemon.peak_rss):.0f} MB"
    )
    return Idle(plain, daemon)


def report_batch(batch: Batch, idle: Idle, work: Path) -> None:
    for run in (batch.plain, batch.daemon):
        if not run.ok:
            print(f"    FAILED: {run.note} (log in {work}; run with --keep-logs)")
    if not batch.ok:
        return
    for name, run, base in (
        ("plain", batch.plain, idle.plain),
        ("daemon", batch.daemon, idle.daemon),
    ):
        startup = f" (start-up {run.startup:.2f}s)" if name == "daemon" else ""
        print(
            f"    {name:6s} upload {run.window:7.3f}s {run.mb_per_s(run.window):7.1f} MB/s |"
            f" process {run.wall:6.2f}s{startup}, CPU {run.cpu:5.2f}s{_cpu_a_file(run, base)},"
            f" peak RSS {mb(run.peak_rss):.0f} MB"
        )
    print(
        f"    daemon/plain throughput {batch.ratio:.2f} over the upload"
        f" ({batch.wall_ratio:.2f} process to process);"
        f" daemon overhead {batch.overhead_ms:+.2f} ms a file"
    )


def _cpu_a_file(run: Run, idle: Run) -> str:
    if run.files < 100:  # too few files: the start-up's own variation would dominate
        return ""
    return f" ({(run.cpu - idle.cpu) / run.files * 1000:.2f} ms a file beyond idle)"


def mb(size: int) -> float:
    return size / 1e6


# --- the whole benchmark -------------------------------------------------------------------


def own_cpu_ms(batch: Batch, idle: Idle) -> float:
    """The daemon's own CPU a file: its CPU beyond its idle run, less what the plain
    uploader spends beyond its own idle run on the same files (the upload itself)."""
    daemon = batch.daemon.cpu - idle.daemon.cpu
    plain = batch.plain.cpu - idle.plain.cpu
    return (daemon - plain) / batch.daemon.files * 1000


def aims_for(store: str, throughput: Batch, overhead: Batch, idle: Idle) -> list[Aim]:
    ratio = throughput.ratio if throughput.ok else None
    cpu = own_cpu_ms(overhead, idle) if overhead.ok else None
    shown = "failed" if ratio is None else f"{ratio:.2f}x"
    cpu_shown = "failed" if cpu is None else f"{cpu:.2f} ms"

    def at_least(limit: float) -> bool | None:
        return None if ratio is None else ratio >= limit

    def below(limit: float) -> bool | None:
        return None if cpu is None else cpu < limit

    return [
        Aim(f"daemon / plain httpx, 1 MiB files ({store})", shown, f">= {AIM_RATIO}x",
            at_least(AIM_RATIO)),
        Aim(f"daemon / plain httpx, moonshot ({store})", shown, f">= {MOONSHOT_RATIO}x",
            at_least(MOONSHOT_RATIO)),
        Aim(f"daemon's own CPU a file ({store})", cpu_shown, f"< {AIM_CPU_MS:.0f} ms",
            below(AIM_CPU_MS)),
        Aim(f"daemon's own CPU a file, moonshot ({store})", cpu_shown,
            f"< {MOONSHOT_CPU_MS:.0f} ms", below(MOONSHOT_CPU_MS)),
    ]  # fmt: skip


def measure_best(repeat: int, label: str, server: Server, work: Path, **batch: Any) -> Batch:
    """The fastest plain run and the fastest daemon run of `repeat` batches (noise only ever
    slows a run down), with the largest peak RSS seen."""
    runs = [measure_batch(label, server, work, **batch) for _ in range(repeat)]
    done = [b for b in runs if b.ok] or runs
    plain = min((b.plain for b in done), key=lambda r: r.window)
    daemon = min((b.daemon for b in done), key=lambda r: r.window)
    daemon = replace(daemon, peak_rss=max(b.daemon.peak_rss for b in done))
    return Batch(label, plain, daemon)


def run_store(
    args: argparse.Namespace, server: Server, work: Path, idle: Idle, pg: str | None
) -> list[Aim]:
    store = "postgresql" if pg else "sqlite"
    batches = []
    for what, files, size, concurrency in (
        ("throughput", args.files, args.size, args.concurrency),
        ("overhead", args.tiny_files, args.tiny_size, OVERHEAD_CONCURRENCY),
    ):
        print(f"\n[{store}] {what}: {files} x {human(size)}, concurrency {concurrency}")
        batch = measure_best(
            args.repeat,
            f"{store}-{what}",
            server,
            work,
            files=files,
            size=size,
            concurrency=concurrency,
            pg=pg,
        )
        report_batch(batch, idle, work)
        batches.append(batch)
    return aims_for(store, *batches, idle)


def run_memory(args: argparse.Namespace, server: Server, work: Path, idle: Idle) -> Aim:
    size = human(args.big_size)
    print(f"\n[sqlite] memory: one file of {size} (TUS), concurrency {args.concurrency}")
    batch = measure_best(
        args.repeat,
        "sqlite-big",
        server,
        work,
        files=1,
        size=args.big_size,
        concurrency=args.concurrency,
        pg=None,
    )
    report_batch(batch, idle, work)
    name = f"daemon peak RSS, {size} upload"
    if not batch.daemon.ok:
        return Aim(name, "failed", f"< {AIM_RSS_MB:.0f} MB", None)
    rss = mb(batch.daemon.peak_rss)
    print(
        f"    peak RSS {rss:.0f} MB, {rss - mb(idle.daemon.peak_rss):+.0f} MB over the idle daemon"
    )
    return Aim(name, f"{rss:.0f} MB", f"< {AIM_RSS_MB:.0f} MB", rss < AIM_RSS_MB)


def print_summary(aims: list[Aim], repeat: int) -> None:
    print_aims(
        aims,
        "summary (throughput over the upload window; own CPU on the tiny files at concurrency"
        f" 1; best of {repeat} run(s))",
    )


def machine() -> str:
    one, five, _ = os.getloadavg()
    return f"{os.cpu_count()} CPU(s), load average {one:.2f} (1 min) {five:.2f} (5 min)"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200, help="files for throughput (200)")
    parser.add_argument("--size", type=size_arg, default=MIB, help="their size (1MiB)")
    parser.add_argument("--tiny-files", type=int, default=500, help="files for overhead (500)")
    parser.add_argument("--tiny-size", type=size_arg, default=KIB, help="their size (1KiB)")
    parser.add_argument("--big-size", type=size_arg, default=GIB, help="memory test (1GiB)")
    parser.add_argument("--concurrency", type=int, default=2, help="upload threads (2)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each batch; best kept (1)")
    parser.add_argument("--pg", metavar="URL", help="also measure on this PostgreSQL server")
    parser.add_argument(
        "--quick", action="store_true", help="100 files, 200 tiny files, a 100 MiB big file"
    )
    parser.add_argument("--keep-logs", action="store_true", help="keep the process logs")
    parser.add_argument("--plain-worker", type=Path, help=argparse.SUPPRESS)
    add_aims_json(parser)
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.concurrency < 1:
        parser.error("--repeat and --concurrency must be 1 or more")
    if args.quick:
        args.files, args.tiny_files, args.big_size = 100, 200, 100 * MIB
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.plain_worker:
        plain_worker(args.plain_worker)
        return
    if args.pg:
        from tests.support.db import require_pg_server

        require_pg_server(args.pg)
    work = Path(tempfile.mkdtemp(prefix="vwaza-bench-"))
    print(f"machine: {machine()}")
    began = time.perf_counter()
    try:
        with storage_server(work / "server") as server:
            print(f"storage server {server.url} in its own process")
            idle = measure_idle(server, work)
            aims = run_store(args, server, work, idle, None)
            aims.append(run_memory(args, server, work, idle))
            if args.pg:
                aims += run_store(args, server, work, idle, args.pg)
    finally:
        shutil.rmtree(work / "server", ignore_errors=True)
        if args.keep_logs:
            print(f"\nlogs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print_summary(aims, args.repeat)
    write_aims(args.aims_json, aims)
    print(f"\n{time.perf_counter() - began:.0f}s in all; machine at the end: {machine()}")


if __name__ == "__main__":
    main()
