"""The click layer under Typer. Typer >= 0.26 ships its own copy of click; older ones use click.

Also how parameters look in help, usage lines and errors: the conventions of click, git and
most command lines, instead of Typer's `<bool>` / `<str>` placeholders and `{title}`:

    Usage: vwaza release create [OPTIONS] TITLE      a required argument, in capitals
    Usage: vwaza jobs retry [OPTIONS] [JOB_ID]       an optional one, in brackets
      --json                                         a flag takes no value: no placeholder
      --genre TEXT    --cover PATH   --to INTEGER    a value: its kind (or the option's metavar)

Typer builds every parameter as a TyperArgument or TyperOption and has no setting for these
conventions, nor a hook for the parameter class; the two subclasses below change nothing but
how a parameter is shown, and `conventional_help` gives the built command tree their class once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

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
Command = click.Command
UsageError = click.exceptions.UsageError
NoArgsIsHelpError = click.exceptions.NoArgsIsHelpError
BadParameter = click.exceptions.BadParameter
ClickException = click.exceptions.ClickException
Abort = typer.Abort  # where both click and Typer's copy raise it
prompt = click.termui.prompt
confirm = click.termui.confirm
short_help = click.utils.make_default_short_help

# the words click uses for a value's kind
_KINDS: dict[object, str] = {str: "TEXT", int: "INTEGER", float: "FLOAT", bool: "BOOLEAN"}
_PATH_KINDS = {"file": "FILE", "dir": "DIRECTORY"}


def value_kind(param: TyperArgument | TyperOption) -> str:
    """What a parameter's value is, in capitals: TEXT, INTEGER, PATH, [A|B]."""
    descriptor = param.type_descriptor
    if descriptor.is_choice:
        return "[" + "|".join(str(choice) for choice in descriptor.choices or ()) + "]"
    if descriptor.is_path:
        return _PATH_KINDS.get(descriptor.path_type, "PATH")
    if descriptor.is_datetime:
        return "DATETIME"
    annotation = descriptor.annotation
    return _KINDS.get(annotation) or str(getattr(annotation, "__name__", "VALUE")).upper()


class ConventionalOption(TyperOption):
    """`--json` (a flag: no placeholder), `--genre TEXT`, `--status STATUS` (its metavar)."""

    def display_type_rich(self, ctx: click.Context) -> str | None:
        if self.metavar is not None:
            return self.metavar
        if self.is_flag or self.count:
            return None
        return value_kind(self)


class ConventionalArgument(TyperArgument):
    """`TITLE` in capitals in usage, help and errors; `[JOB_ID]` in usage when optional."""

    @property
    def display_name_raw(self) -> str:
        return self.metavar or (self.name or "").upper()

    def get_usage_pieces(self, ctx: click.Context) -> list[str]:
        name = self.display_name_raw + ("..." if self.nargs != 1 else "")
        return [name if self.required else f"[{name}]"]

    def display_type_rich(self, ctx: click.Context) -> str | None:
        return value_kind(self)


def conventional_help(root: click.Command, rich: bool = True) -> None:
    """Give every parameter of the command tree under ``root`` its conventional look,
    the help options included (idempotent: run before each use of the tree).

    ``rich=False`` renders help as plain click text: for a pipe or a file, where rich's
    boxes are noise and loading it (typer.rich_utils, rich and markdown-it) costs more than
    the rest of the start-up."""
    convert_tree(root, click.Context(root, **root.context_settings), rich)


def convert_tree(command: click.Command, ctx: click.Context, rich: bool) -> None:
    """`conventional_help` for a command built later, in the context it runs in."""
    if not rich and isinstance(command, (TyperGroup, TyperCommand)):
        command.rich_markup_mode = None
    # get_params creates each command's help option (click caches it on the command), with
    # the help option names its context inherits, exactly as a run would
    for param in command.get_params(ctx):
        if type(param) is TyperOption:
            param.__class__ = ConventionalOption
        elif type(param) is TyperArgument:
            param.__class__ = ConventionalArgument
    if not isinstance(command, TyperGroup) or getattr(command, "converts_on_load", False):
        return  # a group that loads its commands lazily converts each one as it loads
    for name in command.list_commands(ctx):
        child = command.get_command(ctx, name)
        if child is not None:
            convert_tree(
                child,
                click.Context(child, info_name=name, parent=ctx, **child.context_settings),
                rich,
            )


__all__ = [
    "Abort",
    "BadParameter",
    "ClickException",
    "Context",
    "NoArgsIsHelpError",
    "UsageError",
    "confirm",
    "conventional_help",
    "prompt",
    "short_help",
]
