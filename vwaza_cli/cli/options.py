"""Options shared by every command, defined once; the prompts people answer."""

from __future__ import annotations

import enum
import sys
from collections.abc import Callable
from typing import Annotated

import typer

from vwaza_cli.cli import clicks
from vwaza_cli.cli.mode import json_mode
from vwaza_cli.enums import JobStatus, ReleaseStatus, Role


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


def completes(values: type[enum.StrEnum]) -> Callable[[str], list[str]]:
    """Shell completion offering the members of ``values``, in the case being typed (any
    case is accepted). The option stays a plain string, so that a wrong value is refused by
    the service, in its words."""

    def complete(incomplete: str) -> list[str]:
        names = [member.value for member in values]
        if incomplete.islower():
            names = [name.lower() for name in names]
        return [name for name in names if name.startswith(incomplete)]

    return complete


def _one_of(values: type[enum.StrEnum]) -> str:
    names = [member.value for member in values]
    return ", ".join(names[:-1]) + " or " + names[-1]


ReleaseStatusOption = Annotated[
    str | None,
    typer.Option(
        "--status",
        metavar="STATUS",
        autocompletion=completes(ReleaseStatus),
        help=f"Only this status: {_one_of(ReleaseStatus)} (any case).",
    ),
]
JobStatusOption = Annotated[
    str | None,
    typer.Option(
        "--status",
        metavar="STATUS",
        autocompletion=completes(JobStatus),
        help=f"Only this status: {_one_of(JobStatus)} (any case).",
    ),
]
RoleOption = Annotated[
    str,
    typer.Option(
        "--role", metavar="ROLE", autocompletion=completes(Role), help=f"{_one_of(Role)}."
    ),
]


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, with what became of the command's work (`interrupted: <that>`, exit 130)."""

    def __init__(self, outcome: str = "nothing was saved") -> None:
        super().__init__(outcome)


def on_terminal() -> bool:
    """Whether a person can answer a prompt (stdin is a terminal)."""
    return sys.stdin.isatty()


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
    if not on_terminal():
        raise clicks.UsageError(
            "no terminal to ask for the password on: pass it on stdin with --password-stdin"
        )
    try:
        return clicks.prompt(prompt, hide_input=True, confirmation_prompt=confirm, err=True)
    except clicks.Abort as exc:
        _raise_if_interrupted(exc)
        from vwaza_cli.errors import InvalidInput

        raise InvalidInput(f"no {prompt.lower()} given (end of input): nothing was saved") from None


def confirm(question: str, yes: bool) -> bool:
    """Ask before destroying something: True to go ahead. Scripts without a terminal must
    say --yes; an answer of no (or the end of input) is False."""
    if yes:
        return True
    if not on_terminal():
        raise clicks.UsageError(f"no terminal to ask on ({question}): add --yes to confirm")
    try:
        return clicks.confirm(question, err=True)
    except clicks.Abort as exc:
        if isinstance(exc.__context__, KeyboardInterrupt):
            print(file=sys.stderr)  # end the question's line (click does so for passwords only)
        _raise_if_interrupted(exc)
        return False


def _raise_if_interrupted(exc: BaseException) -> None:
    # click turns both Ctrl-C and the end of input at a prompt into Abort; what it was
    # remains the exception that Abort was raised while handling
    if isinstance(exc.__context__, KeyboardInterrupt):
        raise Interrupted() from None


PAGE_SIZE = 100  # rows a listing shows unless --limit says otherwise
MAX_OFFSET = 1_000_000_000  # far past any catalog; keeps the offset a number every engine holds

Limit = Annotated[int, typer.Option("--limit", min=1, max=1000, help="Rows to show.")]
Offset = Annotated[
    int | None,
    typer.Option("--offset", min=0, max=MAX_OFFSET, help="Rows to skip first (default 0)."),
]
Page = Annotated[
    int | None,
    typer.Option("--page", min=1, max=1_000_000, help="Page number, from 1 (or --offset)."),
]


def rows_to_skip(limit: int, offset: int | None, page: int | None) -> int:
    """The offset a listing starts at: --offset, or --page in pages of --limit (not both)."""
    if offset is not None and page is not None:
        raise clicks.UsageError("give --offset or --page, not both")
    if page is not None:
        return (page - 1) * limit
    return offset or 0
