"""The click layer under Typer. Typer >= 0.20 ships its own copy of click; older ones use click."""

from __future__ import annotations

try:
    from typer import _click as click  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - older Typer
    import click  # type: ignore[no-redef]

Context = click.Context
UsageError = click.exceptions.UsageError
ClickException = click.exceptions.ClickException
prompt = click.termui.prompt
confirm = click.termui.confirm

__all__ = ["ClickException", "Context", "UsageError", "confirm", "prompt"]
