"""`vwaza admin`: manage users (admins only)."""

from __future__ import annotations

from typing import Annotated

import typer

from vwaza_cli.cli import output
from vwaza_cli.cli.options import Json, PasswordStdin, RoleOption, Yes, ask_password, confirm
from vwaza_cli.client import connect
from vwaza_cli.enums import Role

app = typer.Typer(help="Administration (admins only).", no_args_is_help=True)
user_app = typer.Typer(help="Create, list and delete users.", no_args_is_help=True)
app.add_typer(user_app, name="user")


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option("--email", help="The new user's email.")],
    role: RoleOption = Role.ARTIST.value,
    artist_name: Annotated[
        str | None, typer.Option("--artist-name", help="Public name (required for artists).")
    ] = None,
    password_stdin: PasswordStdin = False,
    json: Json = False,
) -> None:
    """Create a user with a role.

    Example: vwaza admin user create --email bo@example.com --role ADMIN --password-stdin
    """
    backend = connect()
    backend.require_admin()  # before asking for a password nobody may set
    password = ask_password(password_stdin, confirm=True)
    user = backend.create_user(email, role, artist_name, password)
    output.emit(user, output.show_user)


@user_app.command("list")
def user_list(json: Json = False) -> None:
    """List every user.

    Example: vwaza admin user list --json
    """
    output.emit(connect().list_users(), output.users_table)


@user_app.command("delete")
def user_delete(
    email: Annotated[str, typer.Argument(help="Email of the user to delete.")],
    yes: Yes = False,
    json: Json = False,
) -> None:
    """Delete a user with their releases, tracks, tokens, jobs and staged files.

    Declining the question deletes nothing and exits 0.

    Example: vwaza admin user delete bo@example.com --yes
    """
    backend = connect()
    backend.require_admin()
    if not confirm(f"Delete {email} and everything of theirs?", yes):
        output.emit({"deleted": False}, output.done("nothing deleted"))
        return
    result = backend.delete_user(email)
    output.emit(result, output.done(f"deleted {result['email']}"))
