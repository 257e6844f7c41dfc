"""`vwaza doctor`: check everything a user can get wrong, and say how to fix each thing."""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from vwaza_cli import clock
from vwaza_cli.db import heartbeats, jobs, schema, team_servers
from vwaza_cli.db.engine import describe_url, transaction
from vwaza_cli.db.models import TeamServer
from vwaza_cli.enums import JobStatus
from vwaza_cli.errors import VwazaError
from vwaza_cli.services import spool
from vwaza_cli.services.daemon_status import ALIVE_WITHIN
from vwaza_cli.services.mailer import check_connection
from vwaza_cli.services.sweep import GRACE_SECONDS
from vwaza_cli.settings import Settings, load_settings
from vwaza_cli.storage import Timeouts, open_store
from vwaza_cli.textsafe import printable

OK, WARN, FAIL = "ok", "warn", "fail"
MIN_FREE_BYTES = 500 * 1024 * 1024
STUCK_AFTER = timedelta(minutes=15)


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    detail: str
    fix: str = ""


def run_checks() -> dict[str, Any]:
    """Every check, in the order a user would fix things; never raises."""
    try:
        settings = load_settings()
    except VwazaError as exc:
        failed = Check("config", FAIL, exc.message, "fix or remove the config file")
        return _report([failed])
    checks = [_config(settings)]
    store = _store(settings)
    checks.append(store)
    checks.append(_spool(settings))
    checks.append(_storage(settings))
    checks.append(_smtp(settings))
    if store.status == OK:
        checks.extend(_queue_checks(settings))
        if settings.server is None:  # this machine opens the store itself
            checks.append(_team_server(settings))
    return _report(checks)


def _report(checks: list[Check]) -> dict[str, Any]:
    return {"ok": all(c.status != FAIL for c in checks), "checks": [asdict(c) for c in checks]}


def _guarded(name: str, fix: str, probe: Callable[[], Check]) -> Check:
    try:
        return probe()
    except VwazaError as exc:
        return Check(name, FAIL, exc.message, fix)
    except OSError as exc:
        return Check(name, FAIL, f"{type(exc).__name__}: {exc}", fix)


def _config(settings: Settings) -> Check:
    if settings.config_found:
        return Check("config", OK, f"{settings.config_file} is valid")
    return Check("config", OK, f"no {settings.config_file}: defaults and environment in use")


def _store(settings: Settings) -> Check:
    def probe() -> Check:
        revision = schema.current_revision(settings.database_url)
        where = _where(settings)
        if revision is None:
            return Check("store", FAIL, f"{where} has no schema", "run `vwaza init`")
        if revision != schema.HEAD_REVISION:
            return Check(
                "store",
                FAIL,
                f"{where} is at {revision}, needs {schema.HEAD_REVISION}",
                "run `vwaza db upgrade`",
            )
        return Check("store", OK, f"{where} reachable, schema {revision}")

    return _guarded("store", "check VWAZA_DATABASE_URL and that the database server runs", probe)


def _where(settings: Settings) -> str:
    return describe_url(settings.database_url)


def _spool(settings: Settings) -> Check:
    def probe() -> Check:
        folder = spool.incoming_dir(settings)
        _write_and_remove(folder / f"doctor-{uuid.uuid4().hex}.part")
        free = shutil.disk_usage(folder).free
        detail = f"{settings.spool_dir} writable, {free / 2**30:.1f} GiB free"
        if free < MIN_FREE_BYTES:
            return Check("spool", FAIL, detail, "free disk space, or move VWAZA_HOME")
        return _temp_file_check(detail, _spool_temp_files(settings), folder)

    return _guarded("spool", f"make {settings.spool_dir} writable, or set VWAZA_HOME", probe)


def _write_and_remove(probe_file: Path) -> None:
    """Proof that the folder takes writes; the file goes even if the write fails half-way."""
    try:
        probe_file.write_bytes(b"vwaza doctor")
    finally:
        probe_file.unlink(missing_ok=True)


@dataclass(frozen=True)
class TempFiles:
    """Temp files of copies into the spool (`.part`, anything in `.incoming`)."""

    count: int
    size: int
    stale: int  # older than the sweep's grace period: no copy is still writing them


def _spool_temp_files(settings: Settings) -> TempFiles:
    folder = settings.spool_dir
    found = [*folder.glob("*.part"), *(folder / spool.INCOMING).iterdir()]
    stats = [p.stat() for p in found if p.is_file()]
    oldest_live = time.time() - GRACE_SECONDS
    stale = sum(1 for stat in stats if stat.st_mtime < oldest_live)
    return TempFiles(len(stats), sum(stat.st_size for stat in stats), stale)


def _temp_file_check(detail: str, temps: TempFiles, incoming: Path) -> Check:
    if not temps.count:
        return Check("spool", OK, detail)
    detail += f"; {temps.count} temp file(s) of interrupted copies, {temps.size / 1e6:.1f} MB"
    if not temps.stale:
        return Check("spool", OK, f"{detail}, none older than an hour")
    return Check(
        "spool",
        WARN,
        f"{detail}, {temps.stale} older than an hour",
        f"start `vwaza-daemon` (its sweep removes them), or delete them from {incoming}",
    )


def _storage(settings: Settings) -> Check:
    def probe() -> Check:
        store = open_store(settings, timeouts=Timeouts(connect=5, read=10, write=10, pool=5))
        try:
            store.probe()
        finally:
            store.close()
        where = (
            settings.supabase_url if settings.storage == "supabase" else settings.local_storage_dir
        )
        return Check(
            "storage",
            OK,
            f"{settings.storage} at {where}: probe object written and removed"
            + (f", bucket {settings.bucket}" if settings.storage == "supabase" else ""),
        )

    fix = (
        "check SUPABASE_URL, SUPABASE_KEY (a service key) and VWAZA_BUCKET"
        if settings.storage == "supabase"
        else f"make {settings.local_storage_dir} writable"
    )
    return _guarded("storage", fix, probe)


def _smtp(settings: Settings) -> Check:
    if settings.smtp is None:
        return Check("smtp", OK, f"not configured: reset mail goes to {settings.outbox_dir}")
    smtp = settings.smtp

    def probe() -> Check:
        check_connection(smtp)
        return Check("smtp", OK, f"{smtp.host}:{smtp.port} ({smtp.security}) accepts us")

    return _guarded("smtp", "check the VWAZA_SMTP_* settings", probe)


def _queue_checks(settings: Settings) -> list[Check]:
    moment = clock.now()
    with transaction(settings.database_url) as session:
        beats = [
            b
            for b in heartbeats.recent(session, moment - timedelta(days=7))
            if b.machine_id == settings.machine_id
        ]
        counts = jobs.count_by_status(session, settings.machine_id)
        stuck = jobs.overdue_count(session, settings.machine_id, moment - STUCK_AFTER)
    return [_daemon_check(beats, moment, ALIVE_WITHIN, counts), _jobs_check(counts, stuck)]


def _daemon_check(
    beats: list[Any], moment: Any, alive_within: timedelta, counts: dict[str, int]
) -> Check:
    fix = "start `vwaza-daemon` (see docs/operations.md for the systemd unit)"
    live = [
        b
        for b in beats
        if b.stopped_at is None and moment - clock.as_utc(b.last_seen) <= alive_within
    ]
    if live:
        age = (moment - clock.as_utc(live[0].last_seen)).total_seconds()
        return Check("daemon", OK, f"{len(live)} alive (last heartbeat {age:.0f}s ago)")
    waiting = counts[JobStatus.PENDING] + counts[JobStatus.UPLOADING]
    if not beats:
        detail = "no daemon has run on this machine"
    else:
        age = (moment - clock.as_utc(beats[0].last_seen)).total_seconds()
        detail = f"no heartbeat for {age:.0f}s"
    if waiting:
        return Check("daemon", FAIL, f"{detail}; {waiting} upload(s) waiting", fix)
    return Check("daemon", WARN, f"{detail}; nothing waiting", fix)


def _jobs_check(counts: dict[str, int], stuck: int) -> Check:
    if counts[JobStatus.FAILED]:
        return Check(
            "jobs",
            FAIL,
            f"{counts[JobStatus.FAILED]} upload(s) FAILED (files kept)",
            "see `vwaza jobs list --status FAILED`, fix the cause, then "
            "`vwaza jobs retry --failed`",
        )
    if stuck:
        return Check(
            "jobs",
            FAIL,
            f"{stuck} upload(s) overdue by more than "
            f"{STUCK_AFTER.total_seconds() / 60:.0f} minutes",
            "check `vwaza daemon status` and the daemon's log",
        )
    return Check(
        "jobs",
        OK,
        f"{counts[JobStatus.PENDING]} pending, {counts[JobStatus.UPLOADING]} uploading, "
        f"{counts[JobStatus.COMPLETED]} completed",
    )


def _team_server(settings: Settings) -> Check:
    def probe() -> Check:
        with transaction(settings.database_url) as session:
            running = team_servers.running(session)
            return _team_server_check(list(running), settings.machine_id)

    return _guarded("server", "check VWAZA_DATABASE_URL and that the database server runs", probe)


def _team_server_check(running: list[TeamServer], machine_id: str) -> Check:
    elsewhere = [s for s in running if s.machine_id != machine_id]
    if elsewhere:
        return _bypass_warning(elsewhere[0])
    if running:
        own = printable(running[0].address)
        return Check("server", OK, f"this machine's team server ({own}) uses this store")
    return Check("server", OK, "no team server on another machine uses this store")


def _bypass_warning(server: TeamServer) -> Check:
    """A store that a team server on another machine uses is to be reached through it: its
    database URL here lets this machine skip every permission check the server makes."""
    address = printable(server.address)
    return Check(
        "server",
        WARN,
        f"the team server on machine {printable(server.machine_id)!r} at {address} (started "
        f"{clock.iso(server.started_at)}) uses this store: holding its database URL here "
        "bypasses the server's checks (permissions, review)",
        f"work through the server: `vwaza auth login --server {address}` (or "
        f"VWAZA_SERVER={address}), and remove the database URL (VWAZA_DATABASE_URL, "
        "database_url in config.toml) from this machine",
    )
