"""`vwaza init` and `vwaza db`: create and upgrade the store."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from vwaza_cli.cli import output
from vwaza_cli.cli.options import Json, PasswordStdin, ask_password
from vwaza_cli.client import refuse_on_a_client

app = typer.Typer(help="Schema migrations of the store.", no_args_is_help=True)


def _render_revision(result: dict[str, Any]) -> None:
    shown = [(k, v) for k, v in result.items() if k not in ("admin", "warnings")]
    output.fields([(k.replace("_", " "), output.escape(v)) for k, v in shown])


def init(
    admin_email: Annotated[
        str | None, typer.Option("--admin-email", help="Create this first admin account.")
    ] = None,
    password_stdin: PasswordStdin = False,
    json: Json = False,
) -> None:
    """Create or upgrade the store; optionally create the first admin.

    Example: vwaza init --admin-email admin@example.com --password-stdin
    """
    from vwaza_cli.services import store
    from vwaza_cli.services.context import Context

    refuse_on_a_client("vwaza init")
    password = ask_password(password_stdin, confirm=True) if admin_email else None
    result = store.init(Context.from_environment(), admin_email, password)
    output.emit(result, _render_revision)
    admin = result["admin"]
    if admin is not None:
        output.say(f"admin {admin['email']} {'created' if admin['created'] else 'exists'}")
    output.say("next: `vwaza auth register --email YOU --artist-name NAME`")


@app.command()
def upgrade(json: Json = False) -> None:
    """Apply pending schema migrations.

    Example: vwaza db upgrade
    """
    from vwaza_cli.services import store
    from vwaza_cli.services.context import Context

    refuse_on_a_client("vwaza db upgrade")
    output.emit(store.upgrade(Context.from_environment()), _render_revision)


@app.command()
def current(json: Json = False) -> None:
    """Show the store's schema revision.

    Example: vwaza db current --json
    """
    from vwaza_cli.services import store
    from vwaza_cli.services.context import Context

    refuse_on_a_client("vwaza db current")
    output.emit(store.current(Context.from_environment()), _render_revision)
