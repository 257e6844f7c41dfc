"""Options shared by every command, defined once."""

from __future__ import annotations

import sys
from contextvars import ContextVar
from typing import Annotated

import typer

from vwaza_cli.cli import clicks

json_mode: ContextVar[bool] = ContextVar("json_mode", default=False)


def _remember_json(value: bool) -> bool:
    json_mode.set(bool(value))
    return value


Json = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Print one JSON document on stdout (errors as JSON on stderr).",
        callback=_remember_json,
        is_eager=True,
    ),
]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password as one line from stdin (scripts)."),
]


def read_stdin_line(what: str) -> str:
    line = sys.stdin.readline()
    if not line:
        from vwaza_cli.errors import InvalidInput

        raise InvalidInput(f"expected the {what} as a line on stdin (--password-stdin)")
    return line.rstrip("\r\n")


def ask_password(from_stdin: bool, *, confirm: bool, prompt: str = "Password") -> str:
    """A password from stdin (scripts) or a hidden prompt on the terminal (people)."""
    if from_stdin:
        return read_stdin_line(prompt.lower())
    if not sys.stdin.isatty():
        raise clicks.UsageError(
            "no terminal to ask for the password on: pass it on stdin with --password-stdin"
        )
    return clicks.prompt(prompt, hide_input=True, confirmation_prompt=confirm, err=True)


def confirm(question: str, yes: bool) -> None:
    """Ask before destroying something; scripts without a terminal must say --yes."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise clicks.UsageError(f"{question} Add --yes to confirm when not on a terminal.")
    clicks.confirm(question, abort=True, err=True)
