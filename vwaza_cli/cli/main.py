"""The `vwaza` command: sub-apps wired in one place, errors mapped to exit codes here."""

from __future__ import annotations

import importlib
import sys
from typing import Annotated, Any, NoReturn

import typer
import typer.main
from typer.core import TyperGroup

from vwaza_cli import __version__
from vwaza_cli.cli import clicks
from vwaza_cli.cli.mode import json_mode
from vwaza_cli.errors import VwazaError

# The top-level commands, in the order of `vwaza --help`: (module, attribute, short help).
# A command is imported and built only when it runs or its help is asked for, so `vwaza
# --help`, `--version` or `vwaza auth whoami` pay for none of the others. The short help is
# what the plain root help lists without importing them (a test holds it to the real one).
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": ("db", "init", "Create or upgrade the store; optionally create the first admin."),
    "doctor": (
        "doctor",
        "doctor",
        "Check config, store, spool, storage, SMTP, daemon, jobs, team server: "
        "exit 0 if all is well.",
    ),
    "serve": (
        "serve",
        "serve",
        "Run the team server in the foreground: one request log line each on stderr.",
    ),
    "db": ("db", "app", "Schema migrations of the store."),
    "auth": ("auth", "app", "Your account: register, log in and out, passwords."),
    "admin": ("admin", "app", "Administration (admins only)."),
    "release": ("release", "app", "Create, edit, submit and delete releases."),
    "track": ("track", "app", "Add, list, edit, reorder and remove tracks."),
    "review": ("review", "app", "Review submitted releases (admins)."),
    "jobs": ("jobs", "app", "See and retry upload jobs."),
    "catalog": ("catalog", "app", "Import and export whole catalogs (JSON or CSV)."),
    "daemon": ("daemon", "app", "The upload daemon (run it with `vwaza-daemon`)."),
}


def load_command(name: str) -> clicks.Command:
    """Import and build one top-level command (a sub-app becomes its group)."""
    module_name, attribute, _ = COMMANDS[name]
    target = getattr(importlib.import_module(f"vwaza_cli.cli.{module_name}"), attribute)
    if isinstance(target, typer.Typer):
        return typer.main.get_group(target)
    single = typer.Typer(rich_markup_mode="rich", add_completion=False)
    single.command(name)(target)
    return typer.main.get_command(single)


class VwazaGroup(TyperGroup):
    """Runs a command and turns any error into one line and its exit code; loads each
    top-level command on first use."""

    converts_on_load = True  # clicks.convert_tree: each command as get_command loads it

    def main(self, *args: Any, **kwargs: Any) -> Any:
        # rich help in a terminal, plain click text for a pipe or a file (the loaded
        # commands follow the root's markup mode)
        clicks.conventional_help(self, rich=sys.stdout.isatty())
        return super().main(*args, **kwargs)

    def list_commands(self, ctx: clicks.Context) -> list[str]:
        return [*COMMANDS, *(name for name in super().list_commands(ctx) if name not in COMMANDS)]

    def get_command(self, ctx: clicks.Context, cmd_name: str) -> clicks.Command | None:
        if cmd_name in COMMANDS and cmd_name not in self.commands:
            command = self.commands[cmd_name] = load_command(cmd_name)
            child_ctx = clicks.Context(
                command, info_name=cmd_name, parent=ctx, **command.context_settings
            )
            clicks.convert_tree(command, child_ctx, rich=self.rich_markup_mode is not None)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: clicks.Context, formatter: Any) -> None:
        """The plain root help lists the commands from COMMANDS, importing none of them."""
        loaded = [name for name in COMMANDS if name in self.commands]
        if loaded and len(loaded) == len(COMMANDS):
            return super().format_commands(ctx, formatter)
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [
            (name, clicks.short_help(help_text, limit))
            for name, (_, _, help_text) in COMMANDS.items()
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def parse_args(self, ctx: clicks.Context, args: list[str]) -> list[str]:
        ctx.meta["vwaza.argv"] = list(args)
        json_mode.set(False)
        try:
            return super().parse_args(ctx, args)
        except clicks.UsageError as exc:
            _refuse(ctx, exc)

    def invoke(self, ctx: clicks.Context) -> Any:
        try:
            return super().invoke(ctx)
        except clicks.UsageError as exc:
            _refuse(ctx, exc)
        except VwazaError as exc:
            _output().report_error(exc)
            ctx.exit(exc.exit_code)
        except (typer.Exit, typer.Abort, clicks.ClickException, EOFError):
            raise
        except KeyboardInterrupt as exc:
            _output().report_interrupted(str(exc))
            ctx.exit(130)
        except Exception as exc:  # a bug: say so in one line, keep the traceback for VWAZA_DEBUG
            _output().report_internal(exc)
            ctx.exit(1)
        finally:
            _close_connections()


def _refuse(ctx: clicks.Context, exc: clicks.UsageError) -> NoReturn:
    """A bad command line: one `error:` line, the usage and where to get help; exit 2."""
    if isinstance(exc, clicks.NoArgsIsHelpError):
        raise exc  # the help is the answer (already printed); Typer exits 2
    json_mode.set("--json" in ctx.meta.get("vwaza.argv", ()))
    where = exc.ctx or ctx
    _output().report_usage(exc.format_message(), where.get_usage(), _help_hint(where))
    ctx.exit(2)


def _output() -> Any:
    """cli.output, loaded when there is something to report (not for help or --version)."""
    from vwaza_cli.cli import output

    return output


def _close_connections() -> None:
    """The end of a command: connections to a team server are closed (if any was opened)."""
    client = sys.modules.get("vwaza_cli.client")
    if client is not None:
        client.close_all()


def _help_hint(ctx: clicks.Context) -> str | None:
    if ctx.command.get_help_option(ctx) is None:
        return None
    return f"Try '{ctx.command_path} {ctx.help_option_names[0]}' for help."


app = typer.Typer(
    cls=VwazaGroup,
    name="vwaza",  # its help is the docstring of root()
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,  # errors are reported in one line by VwazaGroup
)


def _version(value: bool) -> None:
    if value:
        print(f"vwaza {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Vwaza Release Manager: prepare releases, upload them safely, review them.

    Start with `vwaza init`, then `vwaza auth register`. Files upload in the background:
    keep `vwaza-daemon` running (or run `vwaza-daemon --once`).

    Exit codes: 0 ok, 1 internal error, 2 usage, 3 not found, 4 permission, 5 conflict,
    6 invalid input, 7 unavailable, 130 interrupted (Ctrl-C).
    """


def run() -> None:
    app()
