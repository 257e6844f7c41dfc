"""What every command needs: the context built from the environment."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vwaza_cli.services.context import Context


def context() -> Context:
    from vwaza_cli.services.context import Context
    from vwaza_cli.services.session_file import resolve_token

    ctx = Context.from_environment()
    ctx.token = resolve_token(ctx.settings)
    return ctx


def with_daemon_warning(ctx: Context, result: dict[str, Any]) -> dict[str, Any]:
    """``result`` with its ``warnings`` (a list, perhaps empty), and among them that no
    daemon is running when uploads it queued would otherwise wait in silence."""
    from vwaza_cli.services import upload_watch

    warnings = list(result.get("warnings", []))
    if upload_watch.uploads_unattended(ctx):
        warnings.append(upload_watch.NO_DAEMON)
    return {**result, "warnings": warnings}
