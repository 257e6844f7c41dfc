"""`vwaza catalog`: import and export whole catalogs (labels, CI pipelines)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vwaza_cli.cli import output
from vwaza_cli.cli.options import Json, json_mode

if TYPE_CHECKING:
    from rich.progress import TaskID

app = typer.Typer(help="Import and export whole catalogs (JSON or CSV).", no_args_is_help=True)


class _Bar:
    """A rich progress bar on stderr: files checked (count and size), then files staged and
    releases written; sizes in kB/MB/GB."""

    checks: TaskID
    copies: TaskID
    written: TaskID
    sends: TaskID

    def __init__(self) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeRemainingColumn(),
            console=output.stderr_console(),
            transient=True,
        )
        self.files = self.checked_bytes = self.staged_files = self.copied_bytes = 0
        self.to_stage = self.to_copy = 0

    def checking(self) -> None:
        self.progress.start()
        self.checks = self.progress.add_task("checking files", total=None, detail="")

    def checked(self, size: int) -> None:
        self.files += 1
        self.checked_bytes += size
        detail = f"{self.files:,} file(s), {_size(self.checked_bytes)}"
        self.progress.update(self.checks, detail=detail)

    def staging(self, files: int, total_bytes: int, releases: int) -> None:
        self.progress.update(self.checks, total=1, completed=1)
        self.to_stage, self.to_copy = files, total_bytes
        self.copies = self.progress.add_task(
            "staging files", total=total_bytes or None, detail=self._staged()
        )
        self.written = self.progress.add_task(
            "releases written", total=releases, detail=f"0/{releases:,}"
        )

    def _staged(self) -> str:
        shown = f"{_size(self.copied_bytes)}/{_size(self.to_copy)}"
        return f"{shown}, {self.staged_files:,}/{self.to_stage:,} file(s)"

    def copied(self, size: int) -> None:
        self.copied_bytes += size
        self.progress.update(self.copies, advance=size, detail=self._staged())

    def staged(self) -> None:
        self.staged_files += 1
        self.progress.update(self.copies, detail=self._staged())

    def sending(self, files: int, total_bytes: int) -> None:
        """Through a team server: the files go up first, then the server checks them."""
        self.progress.start()
        self.to_send, self.sent_bytes = total_bytes, 0
        detail = f"0 B/{_size(total_bytes)}, {files:,} file(s)"
        self.sends = self.progress.add_task(
            "sending files", total=total_bytes or None, detail=detail
        )
        self.send_files = files

    def sent(self, size: int) -> None:
        self.sent_bytes += size
        detail = f"{_size(self.sent_bytes)}/{_size(self.to_send)}, {self.send_files:,} file(s)"
        self.progress.update(self.sends, advance=size, detail=detail)

    def release_done(self) -> None:
        self.progress.advance(self.written)
        task = self.progress.tasks[self.written]
        self.progress.update(self.written, detail=f"{task.completed:,.0f}/{task.total:,.0f}")

    def stop(self) -> None:
        self.progress.stop()


def _size(count: int) -> str:
    from rich.filesize import decimal

    return decimal(count)


def _progress() -> _Bar | None:
    if json_mode.get() or not sys.stderr.isatty():
        return None
    return _Bar()


def _render(report: dict[str, Any]) -> None:
    output.warn(
        f"{r['external_id'] or r['title']} {warning}"
        for r in report["releases"]
        for warning in r["warnings"]
    )
    rows = [
        [
            output.escape(r["external_id"] or ""),
            output.escape(r["title"]),
            output.escape((r["id"] or "")[:8]),
            output.status_text(r["status"]),
            str(r["tracks"]),
            output.escape(r["result"]),
        ]
        for r in report["releases"]
    ]
    output.table(["external id", "title", "id", "status", "tracks", "result"], rows)
    if "would_create" in report:
        output.say(f"dry run: {report['would_create']} to create, {report['would_skip']} to skip")
    else:
        output.say(f"{report['created']} created, {report['skipped']} skipped")


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="A .json or .csv catalog file.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate and show what would happen; write nothing.")
    ] = False,
    submit: Annotated[
        bool, typer.Option("--submit", help="Submit every imported release for review.")
    ] = False,
    json: Json = False,
) -> None:
    """Import a catalog: validate everything first, then one transaction per release.

    Example: vwaza catalog import releases.json --dry-run --json
    """
    from vwaza_cli.client import connect

    bar = _progress()
    try:
        report = connect().import_catalog(file, dry_run, submit, bar)
    finally:
        if bar is not None:
            bar.stop()
    output.emit(report, _render)


EXPORT_SUFFIXES = (".json", ".csv")  # the formats services.catalog_format writes


def _refuse_unknown_format(path: Path | None) -> None:
    """The format follows the file name: a name that gives none is refused before anything
    is read or written (exit 6, as `catalog import` refuses one)."""
    if path is None or path.suffix.lower() in EXPORT_SUFFIXES or path.is_dir():
        return  # stdout is JSON; a folder is refused by the writer, naming it
    from vwaza_cli.errors import InvalidInput

    raise InvalidInput(f"{path.name!r} names no catalog format: end the file name in .json or .csv")


@app.command()
def export(
    output_file: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write here instead of stdout: .json or .csv, as the name ends.",
        ),
    ] = None,
    json: Json = False,
) -> None:
    """Export your releases (an admin: everyone's) in the import format.

    Example: vwaza catalog export --output catalog.json
    """
    from vwaza_cli.client import connect
    from vwaza_cli.services import catalog_format

    _refuse_unknown_format(output_file)
    document = connect().export_catalog()
    if output_file is None:
        sys.stdout.write(catalog_format.render_catalog(document, "json"))
        return
    catalog_format.write_catalog(document, output_file)
    summary = {"output": str(output_file), "releases": len(document["releases"])}
    output.emit(summary, output.done(f"wrote {summary['releases']} release(s) to {output_file}"))
