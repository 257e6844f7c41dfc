"""The `vwaza` command: sub-apps wired in one place, errors mapped to exit codes here."""

from __future__ import annotations

from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from vwaza_cli import __version__
from vwaza_cli.cli import (
    admin,
    auth,
    catalog,
    clicks,
    daemon,
    db,
    doctor,
    jobs,
    release,
    review,
    serve,
    track,
)
from vwaza_cli.cli.options import json_mode
from vwaza_cli.cli.output import report_error, report_internal, report_interrupted, report_usage
from vwaza_cli.client import close_all
from vwaza_cli.errors import VwazaError


class VwazaGroup(TyperGroup):
    """Runs a command and turns any error into one line and its exit code."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        clicks.conventional_help(self)  # the whole tree is built (completion options too)
        return super().main(*args, **kwargs)

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
            report_error(exc)
            ctx.exit(exc.exit_code)
        except (typer.Exit, typer.Abort, clicks.ClickException, EOFError):
            raise
        except KeyboardInterrupt as exc:
            report_interrupted(str(exc))
            ctx.exit(130)
        except Exception as exc:  # a bug: say so in one line, keep the traceback for VWAZA_DEBUG
            report_internal(exc)
            ctx.exit(1)
        finally:
            close_all()


def _refuse(ctx: clicks.Context, exc: clicks.UsageError) -> NoReturn:
    """A bad command line: one `error:` line, the usage and where to get help; exit 2."""
    if isinstance(exc, clicks.NoArgsIsHelpError):
        raise exc  # the help is the answer (already printed); Typer exits 2
    json_mode.set("--json" in ctx.meta.get("vwaza.argv", ()))
    where = exc.ctx or ctx
    report_usage(exc.format_message(), where.get_usage(), _help_hint(where))
    ctx.exit(2)


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


app.command("init")(db.init)
app.command("doctor")(doctor.doctor)
app.add_typer(db.app, name="db")
app.add_typer(auth.app, name="auth")
app.add_typer(admin.app, name="admin")
app.add_typer(release.app, name="release")
app.add_typer(track.app, name="track")
app.add_typer(review.app, name="review")
app.add_typer(jobs.app, name="jobs")
app.add_typer(catalog.app, name="catalog")
app.add_typer(daemon.app, name="daemon")
app.command("serve")(serve.serve)


def run() -> None:
    app()
