"""Catalog import throughput, against a plain insert of the same rows and a plain file copy.

Generates a label folder (default 1,000 releases x 10 tracks): small real WAVs (0.10-0.20 s,
mono, 44.1 kHz, 16-bit), one distinct JPEG cover (1000 x 1000) per release and a JSON catalog
with external_ids and ISRCs. Files are made quickly from a few templates (one WAV per length,
one JPEG): each copy gets its own first samples (WAV) or a comment segment (JPEG), so every
file stays valid and every SHA-256 differs.

The catalog is imported in-process through `services.catalog.import_catalog`, as a logged-in
artist, into SQLite and into PostgreSQL (a throw-away database on the --pg server). Phases are
timed by wrapping service functions in this script only. Two ratios, with the aims of the issue:

(a) the database part of the import (every transaction of the write phase: session, BEGIN,
    the inserts of `db.catalog.insert_release`, COMMIT) against a plain DB-API `executemany`
    of exactly the same rows (captured from the import), one per table, in one transaction on
    the same engine. Aim: <= 2x. A transaction per release (what the import does, as the spec
    asks) and, on PostgreSQL, COPY are printed too. Each plain run starts from a fresh copy of
    the store as the import found it; the median of three runs is taken.
(b) the whole import against its floor: a plain copy of the same files (same count and bytes)
    with the import's number of threads, each file read once while hashing (SHA-256), written,
    fsynced and renamed, the folder fsynced once at the end (median of three). Aim: <= 1.5x.
    For the record, the floor plus a plain decode of each copy (libsndfile, Pillow) is printed:
    the media rules ask for every file to be decoded through, which no import can skip.

The filesystem is flushed (sync) before each measurement, so that neither earlier writes nor
the discards of deleted files land in it; the machine's load is printed at the end.
Prints figures, ratios and PASS/MISS; asserts nothing. --profile adds cProfile summaries of the
import (main thread, and the file-check threads), which slows it: its figures are not the aims'.
Run: .venv/bin/python benchmarks/catalog_import.py [--quick] [--releases N --tracks M]
     [--pg URL | --no-pg] [--profile]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import statistics
import struct
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from unittest import mock

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # `vwaza_cli` and `tests.support` when run from anywhere

sys.path.insert(0, str(REPO / "benchmarks"))

from aims import Aim, add_aims_json, print_aims, write_aims  # noqa: E402

from vwaza_cli.services.context import Context  # noqa: E402

AIM_DB_RATIO, AIM_FLOOR_RATIO = 2.0, 1.5
# issue 15's: the database part against a plain executemany a transaction per release (what
# the import does), the whole against the copy + hash + fsync + decode floor
AIM_PER_RELEASE, MOONSHOT_PER_RELEASE = 2.0, 1.3
AIM_DECODE_FLOOR, MOONSHOT_DECODE_FLOOR = 1.3, 1.1
AIM_PEAK_RSS_MB = 200  # an import of a ~50 MB catalog, in its own process
MEMORY_CATALOG_MB = 50
MEMORY_POOL = (100, 20)  # distinct WAVs and covers the big catalog names over and over
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
WAV_SECONDS = tuple(round(0.10 + 0.01 * n, 2) for n in range(11))  # 0.10 .. 0.20 s
CHUNK = 1024 * 1024
BASELINE_RUNS = FLOOR_RUNS = 3  # the baselines are short, so more at the mercy of noise
ARTIST = ("bench@example.com", "Bench Artist", "bench password")


# --- the label folder -------------------------------------------------------------------------


@dataclass(frozen=True)
class Label:
    catalog: Path
    sources: list[Path]  # every file the catalog refers to, once per reference
    total_bytes: int
    releases: int
    tracks: int


def _data_offset(wav: bytes) -> int:
    """Where the samples of a RIFF/WAVE file start."""
    position = 12
    while position + 8 <= len(wav):
        chunk, size = wav[position : position + 4], struct.unpack_from("<I", wav, position + 4)[0]
        if chunk == b"data":
            return position + 8
        position += 8 + size + (size & 1)
    raise ValueError("no data chunk")


def _wav_templates(folder: Path) -> list[tuple[bytearray, int]]:
    from tests.support.media_factory import make_wav

    templates = []
    for seconds in WAV_SECONDS:
        path = make_wav(folder / f"template-{seconds}.wav", seconds=seconds, channels=1)
        data = bytearray(path.read_bytes())
        templates.append((data, _data_offset(data)))
        path.unlink()
    return templates


def _unique_wav(template: tuple[bytearray, int], number: int) -> bytes:
    """The template with its first two samples set from ``number``: still a valid WAV."""
    data, offset = template
    struct.pack_into("<hh", data, offset, number & 0x7FFF, (number >> 15) & 0x7FFF)
    return bytes(data)


def _unique_jpeg(template: bytes, number: int) -> bytes:
    """The template with a COM segment after SOI: the same picture, other bytes."""
    text = f"vwaza benchmark cover {number}".encode()
    return template[:2] + b"\xff\xfe" + struct.pack(">H", len(text) + 2) + text + template[2:]


def make_label(folder: Path, releases: int, tracks: int) -> Label:
    from tests.support.media_factory import make_cover

    (folder / "audio").mkdir(parents=True)
    (folder / "art").mkdir()
    wavs = _wav_templates(folder)
    cover = make_cover(folder / "template.jpg", size=1000)
    jpeg = cover.read_bytes()
    cover.unlink()
    entries, sources, total = [], [], 0
    for r in range(1, releases + 1):
        art = folder / "art" / f"{r:05d}.jpg"
        total += art.write_bytes(_unique_jpeg(jpeg, r))
        sources.append(art)
        entry_tracks = []
        for t in range(1, tracks + 1):
            n = (r - 1) * tracks + t
            audio = folder / "audio" / f"{r:05d}-{t:02d}.wav"
            total += audio.write_bytes(_unique_wav(wavs[n % len(wavs)], n))
            sources.append(audio)
            entry_tracks.append(
                {
                    "order": t,
                    "title": f"Track {t}",
                    "file": f"audio/{audio.name}",
                    "isrc": f"USVWZ25{n % 100_000:05d}",
                }
            )
        entries.append(
            {
                "external_id": f"BENCH-{r:05d}",
                "title": f"Benchmark Release {r}",
                "genre": "Electronic",
                "cover_art": f"art/{art.name}",
                "submit": True,
                "tracks": entry_tracks,
            }
        )
    catalog = folder / "catalog.json"
    catalog.write_text(json.dumps({"releases": entries}), encoding="utf-8")
    return Label(catalog, sources, total, releases, releases * tracks)


# --- timing the import ------------------------------------------------------------------------

Row = dict[str, Any]
Rows = list[tuple[Row, list[Row], list[Row], list[Row]]]  # per release: its tables' rows


@dataclass
class Timings:
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    rows: Rows = field(default_factory=list)  # what insert_release was given
    writing: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, key: str, seconds: float) -> None:
        with self.lock:
            self.seconds[key] += seconds
            self.calls[key] += 1


@dataclass
class TimedContext(Context):
    """The service's Context, timing every transaction (the write phase's apart)."""

    timings: Timings | None = None

    @contextlib.contextmanager
    def tx(self) -> Iterator[Any]:
        start = time.perf_counter()
        try:
            with super().tx() as session:
                yield session
        finally:
            if self.timings is not None:
                key = "db transactions" if self.timings.writing else "validation queries"
                self.timings.add(key, time.perf_counter() - start)


def _timed(timings: Timings, key: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            timings.add(key, time.perf_counter() - start)

    return wrapper


@contextlib.contextmanager
def instrumented(timings: Timings) -> Iterator[None]:
    """Wrap the import's phases (in this process only): time them, capture the rows. A
    function renamed in the service makes mock.patch fail loudly, never time nothing."""
    from vwaza_cli.db import catalog as db_catalog
    from vwaza_cli.services import catalog, spool

    def write_all(*args: Any, **kwargs: Any) -> Any:
        timings.writing = True
        try:
            return catalog_write_all(*args, **kwargs)
        finally:
            timings.writing = False

    def insert_release(session: Any, rows: Any, **options: Any) -> Any:
        timings.rows.append((rows.release, rows.tracks, rows.jobs, rows.processing))
        return db_insert_release(session, rows, **options)

    catalog_write_all, db_insert_release = catalog._write_all, db_catalog.insert_release
    patches: dict[tuple[Any, str], Any] = {
        (catalog, "_validate"): _timed(timings, "validate + check files (wall)", catalog._validate),
        (catalog, "_write_all"): _timed(timings, "write (wall)", write_all),
        (db_catalog, "insert_release"): _timed(timings, "db inserts", insert_release),
        (spool, "copy_checked_in"): _timed(timings, "copy + hash + fsync", spool.copy_checked_in),
        (spool, "commit"): _timed(timings, "rename into spool", spool.commit),
        (spool, "link_in"): _timed(timings, "link into spool", spool.link_in),
        (spool, "fsync_dir"): _timed(timings, "spool folder fsync", spool.fsync_dir),
        (catalog, "_rows"): _timed(timings, "build rows (incl. staging)", catalog._rows),
        (catalog, "_check_in_place"): _timed(
            timings, "worker: decode in place", catalog._check_in_place
        ),
    }
    with contextlib.ExitStack() as stack:
        for (owner, name), wrapper in patches.items():
            stack.enter_context(mock.patch.object(owner, name, wrapper))
        yield


class Profiles:
    """cProfile for the main thread, and one profiler per file-check thread."""

    def __init__(self) -> None:
        import cProfile

        self.main = cProfile.Profile()
        self.workers: dict[int, Any] = {}
        self._new = cProfile.Profile

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        from vwaza_cli.services import catalog

        check = catalog._check_in_place

        def profiled(*args: Any, **kwargs: Any) -> Any:
            profile = self.workers.setdefault(threading.get_ident(), self._new())
            profile.enable()
            try:
                return check(*args, **kwargs)
            finally:
                profile.disable()

        with mock.patch.object(catalog, "_check_in_place", profiled):
            self.main.enable()
            try:
                yield
            finally:
                self.main.disable()

    def print(self, engine: str, lines: int = 18) -> None:
        import pstats

        print(f"\n--- profile, {engine}: main thread (by own time) ---")
        pstats.Stats(self.main, stream=sys.stdout).sort_stats("tottime").print_stats(lines)
        if self.workers:
            print(f"--- profile, {engine}: {len(self.workers)} file-check threads, summed ---")
            stats = pstats.Stats(*self.workers.values(), stream=sys.stdout)
            stats.sort_stats("tottime").print_stats(lines)
            stats.sort_stats("cumulative").print_stats(lines)


# --- the plain inserts (ratio a) --------------------------------------------------------------


def _tables(rows: Rows) -> list[tuple[str, list[dict[str, Any]]]]:
    return [
        ("releases", [r for r, _, _, _ in rows]),
        ("tracks", [t for _, ts, _, _ in rows for t in ts]),
        ("upload_jobs", [j for _, _, js, _ in rows for j in js]),
        ("track_processing", [w for _, _, _, ws in rows for w in ws]),
    ]


def _sqlite_value(value: Any) -> Any:
    # As SQLAlchemy's SQLite DateTime stores it (naive text, microseconds).
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _insert_sql(table: str, columns: list[str], marker: str) -> str:
    names = ", ".join(f'"{c}"' for c in columns)
    return f"INSERT INTO {table} ({names}) VALUES ({', '.join([marker] * len(columns))})"


def sqlite_plain(path: str, rows: Rows, per_release: bool) -> float:
    """DB-API executemany per table, on a connection set up as vwaza's engine sets it up."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in ("busy_timeout = 30000", "foreign_keys = ON", "synchronous = NORMAL"):
            conn.execute(f"PRAGMA {pragma}")
        batches = [[row] for row in rows] if per_release else [rows]
        start = time.perf_counter()
        for batch in batches:
            conn.execute("BEGIN IMMEDIATE")
            for table, dicts in _tables(batch):
                columns = list(dicts[0])
                values = [tuple(_sqlite_value(d[c]) for c in columns) for d in dicts]
                conn.executemany(_insert_sql(table, columns, "?"), values)
            conn.execute("COMMIT")
        return time.perf_counter() - start
    finally:
        conn.close()


def pg_plain(url: str, rows: Rows, per_release: bool) -> float:
    import psycopg

    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        batches = [[row] for row in rows] if per_release else [rows]
        start = time.perf_counter()
        for batch in batches:
            with conn.transaction():
                for table, dicts in _tables(batch):
                    columns = list(dicts[0])
                    values = [tuple(d[c] for c in columns) for d in dicts]
                    cursor.executemany(_insert_sql(table, columns, "%s"), values)
        return time.perf_counter() - start


def pg_copy(url: str, rows: Rows) -> float:
    import psycopg

    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        start = time.perf_counter()
        with conn.transaction():
            for table, dicts in _tables(rows):
                columns = list(dicts[0])
                names = ", ".join(f'"{c}"' for c in columns)
                with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for d in dicts:
                        copy.write_row(tuple(d[c] for c in columns))
        return time.perf_counter() - start


class SqliteSnapshot:
    """The store as it was before the import (migrated, the artist in it): each plain run
    starts from a fresh copy of it, as the import started from the store itself."""

    def __init__(self, url: str, work: Path) -> None:
        source = url.removeprefix("sqlite:///")
        conn = sqlite3.connect(source)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
        self.template, self.copy = work / "snapshot.db", work / "plain.db"
        shutil.copyfile(source, self.template)

    @contextlib.contextmanager
    def fresh(self) -> Iterator[str]:
        shutil.copyfile(self.template, self.copy)
        try:
            yield str(self.copy)
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.copy}{suffix}").unlink(missing_ok=True)

    def close(self) -> None:
        self.template.unlink(missing_ok=True)


class PgSnapshot:
    """The same on PostgreSQL, as template databases: fresh tables, never analysed. (Emptying
    the tables and running ANALYZE instead makes the foreign-key checks' cached plans scan
    sequentially, which slows the per-release inserts three-fold.)"""

    def __init__(self, server_url: str, url: str) -> None:
        import sqlalchemy as sa

        self.server = server_url.replace("+psycopg", "")
        self.base = sa.engine.make_url(url)
        name = self.base.database
        self.template, self.copy = f"{name}_snapshot", f"{name}_plain"
        self._admin(f'CREATE DATABASE "{self.template}" TEMPLATE "{name}"')

    def _admin(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(self.server, autocommit=True) as conn:
            conn.execute(statement)

    @contextlib.contextmanager
    def fresh(self) -> Iterator[str]:
        self._admin(f'CREATE DATABASE "{self.copy}" TEMPLATE "{self.template}"')
        try:
            yield self.base.set(database=self.copy).render_as_string(hide_password=False)
        finally:
            self._admin(f'DROP DATABASE IF EXISTS "{self.copy}" WITH (FORCE)')

    def close(self) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')


def _median_of_runs(
    snapshot: SqliteSnapshot | PgSnapshot, measure: Callable[[str], float]
) -> float:
    samples = []
    for _ in range(BASELINE_RUNS):
        with snapshot.fresh() as target:
            samples.append(measure(target))
    return statistics.median(samples)


def plain_inserts(snapshot: SqliteSnapshot | PgSnapshot, rows: Rows) -> dict[str, float]:
    """Each variant on a fresh copy of the store as it was before the import."""
    plain = sqlite_plain if isinstance(snapshot, SqliteSnapshot) else pg_plain
    figures = {
        "executemany, one transaction": _median_of_runs(snapshot, lambda t: plain(t, rows, False)),
        "executemany, a transaction per release": _median_of_runs(
            snapshot, lambda t: plain(t, rows, True)
        ),
    }
    if isinstance(snapshot, PgSnapshot):
        figures["COPY, one transaction"] = _median_of_runs(snapshot, lambda t: pg_copy(t, rows))
    return figures


# --- the floor (ratio b) ----------------------------------------------------------------------


def floor_copy(sources: list[Path], target: Path, workers: int, decode: bool = False) -> float:
    """Each file read once while hashing, written, fsynced, renamed; one folder fsync.
    With ``decode``, each copy is also decoded plainly, as any media check must at least do."""
    incoming = target / ".incoming"
    incoming.mkdir(parents=True)

    def one(numbered: tuple[int, Path]) -> str:
        number, source = numbered
        digest, temp = hashlib.sha256(), incoming / f"{number}.part"
        with source.open("rb") as reader, temp.open("xb") as writer:
            while block := reader.read(CHUNK):
                digest.update(block)
                writer.write(block)
            writer.flush()
            os.fsync(writer.fileno())
        final = target / f"{number}{source.suffix}"
        os.replace(temp, final)
        if decode:
            _decode_plainly(final)
        return digest.hexdigest()

    _settle()
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        digests = list(pool.map(one, enumerate(sources)))
    folder = os.open(target, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
    elapsed = time.perf_counter() - start
    assert len(set(digests)) == len(sources), "every generated file should differ"
    _settle(target)
    return elapsed


def _decode_plainly(path: Path) -> None:
    """Every sample or pixel, with no other check: libsndfile for WAV, Pillow for JPEG."""
    if path.suffix == ".wav":
        import soundfile

        soundfile.read(path, dtype="int32")
        return
    from PIL import Image

    with Image.open(path) as image:
        image.load()


# --- one engine -------------------------------------------------------------------------------


@dataclass
class Result:
    engine: str
    tracks: int
    whole: float
    timings: Timings
    plain: dict[str, float]
    floor: float
    floor_decoding: float  # the floor, plus a plain decode of each copy (for the record)
    workers: int
    cpu: float  # this process's CPU time (all threads) during the import
    floor_cpu: float

    @property
    def db_part(self) -> float:
        return self.timings.seconds["db transactions"]

    @property
    def ratio_a(self) -> float:
        return self.db_part / self.plain["executemany, one transaction"]

    @property
    def ratio_b(self) -> float:
        return self.whole / self.floor

    @property
    def per_release_ratio(self) -> float:
        return self.db_part / self.plain["executemany, a transaction per release"]

    @property
    def decode_floor_ratio(self) -> float:
        return self.whole / self.floor_decoding


def aims_of(results: list[Result]) -> list[Aim]:
    found = []
    for r in results:
        for name, ratio, limits in (
            ("database part / executemany per release", r.per_release_ratio,
             (AIM_PER_RELEASE, MOONSHOT_PER_RELEASE)),
            ("whole import / copy+hash+fsync+decode", r.decode_floor_ratio,
             (AIM_DECODE_FLOOR, MOONSHOT_DECODE_FLOOR)),
        ):  # fmt: skip
            for limit, kind in zip(limits, ("", ", moonshot"), strict=True):
                found.append(
                    Aim(
                        f"catalog import, {name} ({r.engine}){kind}",
                        f"{ratio:.2f}x",
                        f"<= {limit}x",
                        ratio <= limit,
                    )
                )
    return found


def _context(home: Path, database_url: str | None, token: str | None = None) -> TimedContext:
    from vwaza_cli.settings import load_settings

    env = {"VWAZA_HOME": str(home), "VWAZA_BCRYPT_ROUNDS": "4", "VWAZA_MACHINE_ID": "bench"}
    if database_url:
        env["VWAZA_DATABASE_URL"] = database_url
    return TimedContext(settings=load_settings(env), token=token)


def _artist_token(ctx: Context) -> str:
    from vwaza_cli.services import accounts, store

    store.init(ctx, None, None)
    email, name, password = ARTIST
    accounts.register(ctx, email, name, password)
    return str(accounts.login(ctx, email, password)["token"])


def _snapshot(engine: str, ctx: Context, pg_server: str, work: Path) -> SqliteSnapshot | PgSnapshot:
    from vwaza_cli.db.engine import dispose_engines

    dispose_engines()  # no pooled connection may hold the store while it is copied
    url = ctx.settings.database_url
    return SqliteSnapshot(url, work) if engine == "sqlite" else PgSnapshot(pg_server, url)


def run_engine(
    engine: str, database_url: str | None, label: Label, work: Path, args: argparse.Namespace
) -> Result:
    from vwaza_cli.services import catalog

    home = work / f"home-{engine}"
    token = _artist_token(_context(home, database_url))
    snapshot = _snapshot(engine, _context(home, database_url), args.pg, work)
    try:
        ctx = _context(home, database_url, token)  # a fresh one, as each CLI run has
        whole, cpu, timings = measure_import(engine, ctx, label, args.profile)
        _settle(home)  # the spool's copies: free the space before the floor copy
        _say(f"{engine}: plain inserts of the same rows, {BASELINE_RUNS} runs each")
        plain = plain_inserts(snapshot, timings.rows)
    finally:
        snapshot.close()
    _say(f"{engine}: floor copy ({FLOOR_RUNS} runs), then floor copy + plain decode")
    workers = catalog.CHECK_WORKERS
    floor, floor_cpu = measure_floor(label, work / f"floor-{engine}", workers)
    decoding = floor_copy(label.sources, work / f"floor-{engine}", workers, decode=True)
    return Result(
        engine, label.tracks, whole, timings, plain, floor, decoding, workers, cpu, floor_cpu
    )


def measure_floor(label: Label, target: Path, workers: int) -> tuple[float, float]:
    """The median floor (short runs vary more than the import does), and its CPU seconds."""
    runs = []
    for _ in range(FLOOR_RUNS):
        cpu = time.process_time()
        seconds = floor_copy(label.sources, target, workers)
        runs.append((seconds, time.process_time() - cpu))
    return sorted(runs)[len(runs) // 2]


def measure_import(
    engine: str, ctx: TimedContext, label: Label, profile: bool
) -> tuple[float, float, Timings]:
    """The import's wall-clock and CPU seconds, and its phases."""
    from vwaza_cli.db.engine import dispose_engines
    from vwaza_cli.services import catalog

    ctx.timings = timings = Timings()
    profiles = Profiles() if profile else None
    _say(f"{engine}: importing {label.releases} releases x {label.tracks // label.releases}")
    _settle()
    with instrumented(timings), profiles.active() if profiles else contextlib.nullcontext():
        start, cpu = time.perf_counter(), time.process_time()
        report = catalog.import_catalog(ctx, label.catalog)
        whole, cpu = time.perf_counter() - start, time.process_time() - cpu
    if (report["created"], len(timings.rows)) != (label.releases, label.releases):
        raise SystemExit(f"{engine}: the import created {report['created']} releases")
    dispose_engines()
    if profiles:
        profiles.print(engine)
    return whole, cpu, timings


def _settle(*remove: Path) -> None:
    """Remove these folders, then flush the filesystem: neither the writeback of earlier
    writes nor the discards of deleted files may land in the next measurement."""
    for folder in remove:
        shutil.rmtree(folder)
    os.sync()


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextlib.contextmanager
def scratch_pg(server_url: str) -> Iterator[str]:
    """A throw-away database on the server (and the copies made of it), dropped afterwards."""
    import psycopg

    from tests.support.db import fresh_pg_database

    with fresh_pg_database(server_url, prefix="vwaza_bench") as database_url:
        name = database_url.rsplit("/", 1)[-1]
        try:
            yield database_url
        finally:
            with psycopg.connect(server_url.replace("+psycopg", ""), autocommit=True) as conn:
                for database in (f"{name}_snapshot", f"{name}_plain"):
                    conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def pg_reachable(url: str) -> str | None:
    """None when the server answers, else why not."""
    import psycopg

    try:
        with psycopg.connect(url.replace("+psycopg", ""), connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


# --- memory (a big catalog) -----------------------------------------------------------------


@dataclass(frozen=True)
class MemoryResult:
    catalog_mb: float
    releases: int
    tracks: int
    files: int
    peak_mb: float
    seconds: float
    created: int
    dry_peak_mb: float
    dry_seconds: float
    dry_written: int  # bytes the dry run added under the data folder

    @property
    def verdict(self) -> str:
        return "PASS" if self.peak_mb < AIM_PEAK_RSS_MB else "MISS"


def make_big_catalog(folder: Path, megabytes: float) -> tuple[Path, int, int, int]:
    """A JSON catalog of about ``megabytes`` MB (10 tracks a release) naming a small pool of
    real files over and over: the catalog is big, the media small. Written as it is made."""
    from tests.support.media_factory import make_cover

    (folder / "audio").mkdir(parents=True)
    (folder / "art").mkdir()
    wavs = _wav_templates(folder)
    audio_count, cover_count = MEMORY_POOL
    for n in range(audio_count):
        (folder / "audio" / f"{n:03d}.wav").write_bytes(_unique_wav(wavs[n % len(wavs)], n))
    jpeg = make_cover(folder / "template.jpg", size=1000).read_bytes()
    for n in range(cover_count):
        (folder / "art" / f"{n:03d}.jpg").write_bytes(_unique_jpeg(jpeg, n))
    path, releases = folder / "big.json", 0
    with path.open("w", encoding="utf-8") as out:
        out.write('{"releases": [')
        while out.tell() < megabytes * 1e6:
            out.write(("," if releases else "") + json.dumps(_big_release(releases)))
            releases += 1
        out.write("]}")
    return path, releases, releases * 10, audio_count + cover_count


def _big_release(r: int) -> dict[str, Any]:
    audio_count, cover_count = MEMORY_POOL
    tracks = [
        {
            "order": t,
            "title": f"Track {t}",
            "file": f"audio/{(r * 10 + t) % audio_count:03d}.wav",
            "isrc": f"USVWZ25{(r * 10 + t) % 100_000:05d}",
        }
        for t in range(1, 11)
    ]
    return {
        "external_id": f"BIG-{r:06d}",
        "title": f"Big Catalog Release {r}",
        "genre": "Electronic",
        "cover_art": f"art/{r % cover_count:03d}.jpg",
        "submit": True,
        "tracks": tracks,
    }


def _cli_import(env: dict[str, str], catalog: Path, *options: str) -> tuple[float, float, Any]:
    """`vwaza catalog import` in a process of its own: its peak RSS (MB), seconds, report."""
    import subprocess

    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "vwaza_cli",
                "catalog",
                "import",
                str(catalog),
                "--json",
                *options,
            ],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.DEVNULL,
        )
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        out.seek(0)
        report = json.loads(out.read() or b"null")
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"catalog import {' '.join(options)} exited {status}")
    return usage.ru_maxrss / 1024, seconds, report  # ru_maxrss: kB on Linux


def _tree_bytes(folder: Path) -> int:
    return sum(p.lstat().st_size for p in folder.rglob("*")) if folder.exists() else 0


def measure_memory(work: Path, megabytes: float) -> MemoryResult:
    """A dry run, then the import, of a big catalog into SQLite, each in its own process."""
    _say(f"memory: making a ~{megabytes:g} MB catalog")
    catalog, releases, tracks, files = make_big_catalog(work / "big-label", megabytes)
    home = work / "home-memory"
    token = _artist_token(_context(home, None))
    env = {
        **os.environ,
        "VWAZA_HOME": str(home),
        "VWAZA_TOKEN": token,
        "VWAZA_MACHINE_ID": "bench",
        "PYTHONPATH": str(REPO),
    }
    _say(f"memory: dry run of {releases:,} releases x 10")
    data = home / "data"
    before = _tree_bytes(data)
    dry_peak, dry_seconds, _ = _cli_import(env, catalog, "--dry-run")
    dry_written = _tree_bytes(data) - before
    _settle()
    _say(f"memory: importing {releases:,} releases x 10")
    peak, seconds, report = _cli_import(env, catalog)
    return MemoryResult(
        catalog.stat().st_size / 1e6,
        releases,
        tracks,
        files,
        peak,
        seconds,
        report["created"],
        dry_peak,
        dry_seconds,
        dry_written,
    )


def print_memory(m: MemoryResult) -> None:
    print(
        f"\nmemory: a {m.catalog_mb:.1f} MB JSON catalog, {m.releases:,} releases x 10 tracks "
        f"naming {m.files} distinct files (SQLite, `vwaza catalog import` in its own process)"
    )
    print(
        f"  import: peak RSS {m.peak_mb:.0f} MB (aim < {AIM_PEAK_RSS_MB} MB) {m.verdict}; "
        f"{m.seconds:.1f} s, {m.created:,} releases created ({m.releases / m.seconds:.0f}/s)"
    )
    print(
        f"  dry run: peak RSS {m.dry_peak_mb:.0f} MB, {m.dry_seconds:.1f} s, "
        f"{m.dry_written:,} bytes written under the data folder"
    )


# --- report -----------------------------------------------------------------------------------


def _verdict(ratio: float, aim: float) -> str:
    return "PASS" if ratio <= aim else "MISS"


def print_table(results: list[Result]) -> None:
    header = (
        f"{'engine':10s} {'tracks/s':>9s} {'DB part s':>10s} {'plain executemany s':>20s} "
        f"{'ratio (a)':>11s} {'whole import s':>15s} {'floor s':>8s} {'ratio (b)':>11s}"
    )
    print(header)
    for r in results:
        plain = r.plain["executemany, one transaction"]
        print(
            f"{r.engine:10s} {r.tracks / r.whole:9.0f} {r.db_part:10.2f} {plain:20.3f} "
            f"{r.ratio_a:6.2f} {_verdict(r.ratio_a, AIM_DB_RATIO)} {r.whole:15.2f} "
            f"{r.floor:8.2f} {r.ratio_b:6.2f} {_verdict(r.ratio_b, AIM_FLOOR_RATIO)}"
        )
    print(
        f"aims: (a) DB part <= {AIM_DB_RATIO:g}x a plain executemany of the same rows in one "
        f"transaction; (b) whole import <= {AIM_FLOOR_RATIO:g}x the floor copy"
    )


def _line(depth: int, label: str, seconds: float, note: str = "") -> None:
    indent = "  " * depth
    print(f"{indent}{label:{44 - len(indent)}s} {seconds:8.3f} s{'  ' + note if note else ''}")


def print_details(r: Result) -> None:
    s, calls = r.timings.seconds, r.timings.calls
    tx, inserts = s["db transactions"], s["db inserts"]
    print(f"\n{r.engine}: where the import's {r.whole:.2f} s went (wall clock)")
    _line(1, "validate + check files (wall)", s["validate + check files (wall)"])
    _line(2, "validation queries", s["validation queries"])
    _line(2, "(in threads, summed) decode in place", s["worker: decode in place"])
    _line(1, "write (wall)", s["write (wall)"], f"{calls['db transactions']} releases")
    _line(2, "build rows (incl. staging)", s["build rows (incl. staging)"])
    _line(
        3, "copy + hash + fsync", s["copy + hash + fsync"], f"{calls['copy + hash + fsync']} files"
    )
    _line(3, "rename into spool", s["rename into spool"], f"{calls['rename into spool']} files")
    _line(3, "link into spool", s["link into spool"], f"{calls['link into spool']} files")
    _line(2, "spool folder fsync", s["spool folder fsync"], f"{calls['spool folder fsync']} times")
    _line(2, "DB part: transactions", tx, f"{calls['db transactions']} transactions")
    _line(3, "inserts (insert_release)", inserts)
    _line(3, "session, BEGIN, COMMIT", tx - inserts)
    print(f"{r.engine}: the plain inserts of the same rows (median of {BASELINE_RUNS})")
    for name, seconds in r.plain.items():
        _line(1, name, seconds, f"DB part / this = {tx / seconds:.2f}x")
    print(f"{r.engine}: the floor ({r.workers} threads, median of {FLOOR_RUNS})")
    _line(1, "read + hash, write, fsync, rename", r.floor)
    _line(
        1,
        "the same + a plain decode of each copy",
        r.floor_decoding,
        f"import / this = {r.whole / r.floor_decoding:.2f}x",
    )
    print(
        f"CPU time of this process: import {r.cpu:.2f} s, floor {r.floor_cpu:.2f} s "
        f"({r.cpu / r.floor_cpu:.1f}x; the PostgreSQL server's CPU is not counted)"
    )


# --- main -------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--releases", type=int, default=1000)
    parser.add_argument("--tracks", type=int, default=10, help="tracks per release")
    parser.add_argument("--quick", action="store_true", help="100 releases x 10 tracks")
    parser.add_argument("--pg", metavar="URL", default=DEFAULT_PG, help="PostgreSQL server")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--profile", action="store_true", help="print cProfile summaries")
    parser.add_argument(
        "--memory-mb",
        type=float,
        default=MEMORY_CATALOG_MB,
        help="size of the big catalog whose import's peak RSS is measured (0: skip)",
    )
    parser.add_argument(
        "--memory-only", action="store_true", help="only the big catalog's peak RSS"
    )
    add_aims_json(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.releases, args.tracks = 100, 10
        args.memory_mb = min(args.memory_mb, 5)
    if args.releases < 1 or args.tracks < 1:
        parser.error("--releases and --tracks must be 1 or more")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    began = time.perf_counter()
    results, memory = [], None
    with tempfile.TemporaryDirectory(prefix="vwaza-catalog-bench-") as folder:
        work = Path(folder)
        if not args.memory_only:
            results = run_throughput(work, args)
        if args.memory_mb > 0:
            memory = measure_memory(work, args.memory_mb)
    if results:
        print()
        print_table(results)
        for result in results:
            print_details(result)
    if memory is not None:
        print_memory(memory)
    if results:
        aims = aims_of(results)
        print_aims(aims)
        write_aims(args.aims_json, aims)
    load = ", ".join(f"{n:.2f}" for n in os.getloadavg())
    print(f"\n{os.cpu_count()} CPUs, load {load}; the run took {time.perf_counter() - began:.0f} s")


def run_throughput(work: Path, args: argparse.Namespace) -> list[Result]:
    start = time.perf_counter()
    label = make_label(work / "label", args.releases, args.tracks)
    made = time.perf_counter() - start
    print(
        f"catalog: {label.releases} releases x {args.tracks} tracks, "
        f"{len(label.sources)} files (WAV 0.10-0.20 s mono 44.1 kHz, a 1000 px JPEG per "
        f"release), {label.total_bytes / 1e6:.1f} MB, made in {made:.1f} s"
    )
    results = [run_engine("sqlite", None, label, work, args)]
    why_not = None if args.no_pg else pg_reachable(args.pg)
    if args.no_pg:
        print("postgresql: skipped (--no-pg)")
    elif why_not:
        print(f"postgresql: skipped, {args.pg} does not answer ({why_not})")
    else:
        with scratch_pg(args.pg) as database_url:
            results.append(run_engine("postgresql", database_url, label, work, args))
    return results


if __name__ == "__main__":
    main()
