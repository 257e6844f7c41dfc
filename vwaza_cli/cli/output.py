"""Output: data to stdout (JSON or rich tables), talk to stderr, and the one place that
turns errors into a message and an exit code."""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from vwaza_cli.cli.options import json_mode
from vwaza_cli.enums import JobStatus, JobType, ProcessingStatus, ReleaseStatus
from vwaza_cli.errors import VwazaError
from vwaza_cli.textsafe import printable

if TYPE_CHECKING:
    from rich.console import Console

STATUS_STYLES: dict[str, str] = {
    ReleaseStatus.DRAFT: "white",
    ReleaseStatus.PROCESSING: "yellow",
    ReleaseStatus.PENDING_REVIEW: "cyan",
    ReleaseStatus.PUBLISHED: "green",
    ReleaseStatus.REJECTED: "red",
    JobStatus.PENDING: "yellow",
    JobStatus.UPLOADING: "cyan",
    JobStatus.COMPLETED: "green",
    JobStatus.FAILED: "red",
}


def stdout_console() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def say(message: str) -> None:
    """A message for people, on stderr (never in the way of data on stdout)."""
    if not json_mode.get():
        stderr_console().print(message, markup=False)


def warn(warnings: Iterable[str]) -> None:
    for warning in warnings:
        print(f"warning: {_one_line(warning)}", file=sys.stderr)


def emit(data: Any, human: Callable[[Any], None] | None = None) -> None:
    """Print ``data`` as JSON, or hand it to ``human`` to render for people."""
    if json_mode.get():
        sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")
        return
    if isinstance(data, dict) and data.get("warnings"):
        warn(data["warnings"])
    if human is not None:
        human(data)


def _one_line(text: str) -> str:
    return " ".join(printable(text).split())


def report_error(exc: VwazaError) -> None:
    if json_mode.get():
        body: dict[str, Any] = {"type": exc.kind, "message": exc.message}
        body.update({k: v for k, v in exc.details.items() if k == "problems"})
        print(json.dumps({"error": body}, ensure_ascii=False, default=str), file=sys.stderr)
        return
    print(f"error: {_one_line(exc.message)}", file=sys.stderr)
    for line in exc.details.get("lines", ()):
        print(f"  {_one_line(line)}", file=sys.stderr)


def report_internal(exc: BaseException) -> None:
    """A bug: name it without its text, which may quote SQL parameters (hashes, tokens)."""
    if os.environ.get("VWAZA_DEBUG") == "1":
        traceback.print_exception(exc, file=sys.stderr)
    cause = getattr(exc, "orig", None)
    kind = type(exc).__name__ + (f" ({type(cause).__name__})" if cause is not None else "")
    message = f"internal error: {kind}; set VWAZA_DEBUG=1 to see the traceback"
    report_error(_Internal(message))


class _Internal(VwazaError):
    kind = "internal"


class _Usage(VwazaError):
    kind = "usage"


def report_usage(message: str, usage: str, hint: str | None) -> None:
    """A bad command line: the one `error:` line, then the usage and where to find help."""
    report_error(_Usage(_clause(message)))
    if json_mode.get():
        return
    print(usage, file=sys.stderr)
    if hint:
        print(hint, file=sys.stderr)


def _clause(message: str) -> str:
    """Click's sentences ("Missing argument 'TITLE'.") in the voice of our own errors."""
    message = message.strip().removesuffix(".")
    if len(message) > 1 and message[0].isupper() and message[1].islower():
        message = message[0].lower() + message[1:]
    return message


def report_interrupted(detail: str = "") -> None:
    """Ctrl-C: exit 130, saying what became of the command's work when that is known."""
    message = f"interrupted: {detail}" if detail else "interrupted"
    if json_mode.get():
        error = {"type": "interrupted", "message": message}
        print(json.dumps({"error": error}, ensure_ascii=False), file=sys.stderr)
        return
    print(message, file=sys.stderr)


# --- renderers ---------------------------------------------------------------------------


def status_text(status: str | None) -> str:
    if not status:
        return ""
    return f"[{STATUS_STYLES.get(status, 'white')}]{status}[/]"


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    total = round(float(seconds))
    minutes, secs = divmod(total, 60)
    if minutes >= 60:
        hours, minutes = divmod(minutes, 60)
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def escape(text: Any) -> str:
    from rich.markup import escape as rich_escape

    return rich_escape(printable(text))


def table(columns: list[str], rows: Iterable[list[str]], title: str | None = None) -> None:
    from rich.table import Table

    grid = Table(title=title, show_lines=False)
    for column in columns:
        grid.add_column(column)
    for row in rows:
        grid.add_row(*row)
    stdout_console().print(grid)


def fields(pairs: list[tuple[str, Any]]) -> None:
    console = stdout_console()
    width = max(len(name) for name, _ in pairs)
    for name, value in pairs:
        console.print(f"[bold]{name.ljust(width)}[/]  {value}", soft_wrap=True)


def show_user(user: dict[str, Any]) -> None:
    fields(
        [
            ("id", escape(user["id"])),
            ("email", escape(user["email"])),
            ("role", escape(user["role"])),
            ("artist name", escape(user.get("artist_name") or "")),
        ]
    )


def users_table(users: list[dict[str, Any]]) -> None:
    rows = [
        [escape(u["id"][:8]), escape(u["email"]), escape(u["role"]), escape(u["artist_name"])]
        for u in users
    ]
    table(["id", "email", "role", "artist name"], rows, title=f"{len(users)} user(s)")


def more_rows_hint(rows: list[Any], limit: int, offset: int) -> None:
    """A full page may have a next one: say how to get it (people only, on stderr)."""
    if len(rows) == limit:
        say(
            f"a full page (rows {offset + 1} to {offset + limit}): "
            f"--offset {offset + limit} for the next"
        )


def releases_table(releases: list[dict[str, Any]]) -> None:
    rows = [
        [
            escape(r["id"][:8]),
            escape(r["title"]),
            escape(r["genre"]),
            escape(r.get("artist_name") or ""),
            status_text(r["status"]),
            escape((r["updated_at"] or "")[:16].replace("T", " ")),
        ]
        for r in releases
    ]
    table(
        ["id", "title", "genre", "artist", "status", "updated"], rows, f"{len(releases)} release(s)"
    )


def tracks_table(tracks: list[dict[str, Any]]) -> None:
    rows = [
        [
            str(t["order"]),
            escape(t["title"]),
            duration_text(t["duration"]),
            escape(t.get("format") or ""),
            escape(t["isrc"] or ""),
            status_text(t["upload_status"]),
            escape(t["id"][:8]),
        ]
        for t in tracks
    ]
    table(["#", "title", "length", "format", "ISRC", "upload", "id"], rows)


def show_release(release: dict[str, Any]) -> None:
    _release_fields(release)
    if release.get("tracks"):
        tracks_table(release["tracks"])
        measurements_table(release["tracks"])
    _said_about_processing(release)


def show_review(release: dict[str, Any]) -> None:
    """What a reviewer looks at: the release, its measurements, where to listen."""
    show_release(release)
    listen = [
        [str(t["order"]), escape(t["title"]), kind, escape(t["renditions"][kind] or "not yet")]
        for t in release.get("tracks", [])
        if "renditions" in t
        for kind in ("stream", "preview")
    ]
    if listen:
        table(["#", "title", "rendition", "listen at"], listen)


def _release_fields(release: dict[str, Any]) -> None:
    pairs = [
        ("id", escape(release["id"])),
        ("title", escape(release["title"])),
        ("genre", escape(release["genre"])),
        ("status", status_text(release["status"])),
        ("cover art", escape(release.get("cover_art") or "none: `vwaza release cover ID FILE`")),
    ]
    if release.get("artist_name"):
        pairs.insert(1, ("artist", escape(release["artist_name"])))
    if release.get("rejection_reason"):
        pairs.append(("rejected because", escape(release["rejection_reason"])))
    if "tracks" in release:
        pairs.append(
            ("tracks", f"{len(release['tracks'])}, {duration_text(release['total_duration'])}")
        )
    fields(pairs)


def _said_about_processing(release: dict[str, Any]) -> None:
    """Why tracks could not be processed, as lines on stderr (emit says the warnings)."""
    for problem in release.get("problems", []):
        print(f"problem: {_one_line(problem)}", file=sys.stderr)


def _number(value: Any, unit: str, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f} {unit}"


def measurements_table(tracks: list[dict[str, Any]]) -> None:
    """LUFS, dBTP, LRA and silences of the measured tracks (none measured: nothing)."""
    rows = [
        [
            str(t["order"]),
            escape(t["title"]),
            _number(a.get("integrated_lufs"), "LUFS"),
            _number(a.get("true_peak_dbtp"), "dBTP"),
            _number(a.get("loudness_range_lu"), "LU"),
            f"{a.get('leading_silence', 0):.1f} s / {a.get('trailing_silence', 0):.1f} s",
        ]
        for t in tracks
        if (a := t.get("analysis"))
    ]
    if rows:
        columns = ["#", "title", "loudness", "true peak", "range", "silence start/end"]
        table(columns, rows, title="measurements")


def show_track(track: dict[str, Any]) -> None:
    pairs = [
        ("id", escape(track["id"])),
        ("title", escape(track["title"])),
        ("order", str(track["order"])),
        ("duration", duration_text(track["duration"])),
        ("ISRC", escape(track["isrc"] or "")),
        ("upload", status_text(track["upload_status"])),
    ]
    if "processing" in track:
        pairs.append(("processing", _processing_text(track)))
        if track.get("preview_start") is not None:
            pairs.append(("preview from", f"{track['preview_start']:.1f} s"))
        renditions = track.get("renditions") or {}
        for kind in ("stream", "preview", "waveform"):
            pairs.append((kind, escape(renditions.get(kind) or "not yet")))
    fields(pairs)
    if track.get("analysis"):
        measurements_table([track])


def _processing_text(track: dict[str, Any]) -> str:
    work = track.get("processing")
    if work is None:
        return "not processed (staged before processing existed)"
    if work["status"] == ProcessingStatus.FAILED:
        return f"FAILED: {escape(work['error'] or '')}"
    return escape(work["status"])


def jobs_table(jobs: list[dict[str, Any]]) -> None:
    """The key column whole, the cause of a failure next to it and whole (wrapped); the titles
    shortened with an ellipsis when the terminal is narrow."""
    from rich.table import Table

    grid = Table(title=f"{len(jobs)} job(s)", show_lines=False)
    grid.add_column("id", no_wrap=True, min_width=8)
    causes = any(j["error_log"] for j in jobs)
    uploading = any(j["status"] == JobStatus.UPLOADING for j in jobs)
    if causes:
        grid.add_column("last error", overflow="fold", ratio=1, min_width=20)
    grid.add_column("status", no_wrap=True)
    if uploading:
        grid.add_column("sent", justify="right", no_wrap=True)
    grid.add_column("retries", justify="right", no_wrap=True)
    grid.add_column("upload", no_wrap=True, overflow="ellipsis", max_width=20)
    grid.add_column("release", no_wrap=True, overflow="ellipsis", max_width=20)
    for j in jobs:
        row = [escape(j["id"][:8]), status_text(j["status"]), str(j["retry_count"])]
        if uploading:
            row.insert(2, _sent_text(j))
        row += [escape(_upload_name(j)), escape(j.get("release_title") or j["release_id"][:8])]
        if causes:
            row.insert(1, escape(j["error_log"] or ""))
        grid.add_row(*row)
    stdout_console().print(grid)


def _sent_text(job: dict[str, Any]) -> str:
    """How far an upload in progress got: `300 MB of 1.0 GB (30%)`; blank for the others."""
    if job["status"] != JobStatus.UPLOADING:
        return ""
    sent, size = job.get("bytes_sent") or 0, job["size"]
    percent = f" ({sent * 100 // size}%)" if size else ""
    return f"{_bytes_text(sent)} of {_bytes_text(size)}{percent}"


def _bytes_text(n: int) -> str:
    if n >= 1_000_000_000:
        return f"{n / 1e9:.1f} GB"
    if n >= 100_000_000:
        return f"{n / 1e6:.0f} MB"
    return f"{n / 1e6:.1f} MB"


def _upload_name(job: dict[str, Any]) -> str:
    if job["type"] == JobType.COVER_ART:
        return "cover"
    return job.get("target_title") or job["target_id"][:8]


def done(message: str) -> Callable[[Any], None]:
    """A renderer that only confirms, on stderr."""

    def render(_: Any) -> None:
        stderr_console().print(message, markup=False)

    return render
