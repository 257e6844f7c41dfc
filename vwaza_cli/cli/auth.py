"""`vwaza auth`: register, log in and out, who am I, passwords."""

from __future__ import annotations

from typing import Annotated

import typer

from vwaza_cli.cli import output
from vwaza_cli.cli.options import Json, PasswordStdin, ask_password, read_stdin_line
from vwaza_cli.client import check_server_url, connect

app = typer.Typer(help="Your account: register, log in and out, passwords.", no_args_is_help=True)
password_app = typer.Typer(help="Change or reset a password.", no_args_is_help=True)
app.add_typer(password_app, name="password")

Email = Annotated[str, typer.Option("--email", help="Your email address.")]


@app.command()
def register(
    email: Email,
    artist_name: Annotated[str, typer.Option("--artist-name", help="Your public artist name.")],
    password_stdin: PasswordStdin = False,
    json: Json = False,
) -> None:
    """Create an ARTIST account.

    Example: vwaza auth register --email ada@example.com --artist-name "Ada"
    """
    password = ask_password(password_stdin, confirm=True)
    user = connect().register(email, artist_name, password)
    output.emit(
        user,
        output.done(
            f"registered {user['email']}: now run `vwaza auth login --email {user['email']}`"
        ),
    )


@app.command()
def login(
    email: Email,
    password_stdin: PasswordStdin = False,
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            metavar="URL",
            help="A team server (`vwaza serve`) to log in to; saved with the session, so "
            "later commands go through it.",
        ),
    ] = None,
    json: Json = False,
) -> None:
    """Log in and save the session (file mode 0600).

    Example: vwaza auth login --email ada@example.com --server https://vwaza.example.com
    """
    backend = connect(check_server_url(server) if server else None)  # a bad URL: before asking
    password = ask_password(password_stdin, confirm=False)
    result = backend.login(email, password)
    output.emit(result, output.done(f"logged in as {result['user']['email']}"))


@app.command()
def logout(json: Json = False) -> None:
    """Log out: revoke the session in the store and forget it here.

    Example: vwaza auth logout
    """
    output.emit(connect().logout(), output.done("logged out"))


@app.command()
def whoami(json: Json = False) -> None:
    """Show who you are logged in as.

    Example: vwaza auth whoami --json
    """
    output.emit(connect().whoami(), output.show_user)


@password_app.command("change")
def password_change(password_stdin: PasswordStdin = False, json: Json = False) -> None:
    """Change your password (stdin: the old password line, then the new one).

    Example: printf 'old\\nnew\\n' | vwaza auth password change --password-stdin
    """
    backend = connect()
    if password_stdin:
        old, new = read_stdin_line("current password"), read_stdin_line("new password")
    else:
        old = ask_password(False, confirm=False, prompt="Current password")
        new = ask_password(False, confirm=True, prompt="New password")
    output.emit(backend.change_password(old, new), output.done("password changed"))


@password_app.command("reset-request")
def password_reset_request(email: Email, json: Json = False) -> None:
    """Ask for a password-reset token by email (same answer whether or not the account exists).

    Example: vwaza auth password reset-request --email ada@example.com
    """
    result = connect().request_reset(email)
    output.emit(result, output.done(result["message"]))


@password_app.command("reset")
def password_reset(
    token: Annotated[str, typer.Option("--token", help="The token from the reset email.")],
    password_stdin: PasswordStdin = False,
    json: Json = False,
) -> None:
    """Set a new password with the token from the reset email.

    Example: vwaza auth password reset --token vwr_...
    """
    backend = connect()
    password = ask_password(password_stdin, confirm=True, prompt="New password")
    result = backend.reset_password(token, password)
    output.emit(result, output.done("password reset: log in with `vwaza auth login --email YOU`"))
