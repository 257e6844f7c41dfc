"""What every command needs: the context built from the environment."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vwaza_cli.services.context import Context


def context() -> Context:
    from vwaza_cli.services.context import Context
    from vwaza_cli.services.session_file import resolve_token

    ctx = Context.from_environment()
    ctx.token = resolve_token(ctx.settings)
    return ctx
