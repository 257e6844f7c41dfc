"""The click layer under Typer. Typer >= 0.26 ships its own copy of click; older ones use click."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Checked against the copy the installed Typer ships: the click package is not installed
    # beside a Typer that vendors it, and the names used here are the same in both.
    from typer import _click as click
else:
    try:
        from typer import _click as click
    except ImportError:  # pragma: no cover - Typer < 0.26
        import click

Context = click.Context
UsageError = click.exceptions.UsageError
ClickException = click.exceptions.ClickException
prompt = click.termui.prompt
confirm = click.termui.confirm

__all__ = ["ClickException", "Context", "UsageError", "confirm", "prompt"]
