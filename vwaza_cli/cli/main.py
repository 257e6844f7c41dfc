"""The `vwaza` command: sub-apps wired in one place, errors mapped to exit codes here."""

from __future__ import annotations

import sys
from typing import Annotated, Any

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
    track,
)
from vwaza_cli.cli.options import json_mode
from vwaza_cli.cli.output import report_error, report_internal
from vwaza_cli.errors import VwazaError


class _Usage(VwazaError):
    kind = "usage"


class VwazaGroup(TyperGroup):
    """Runs a command and turns any error into one line and its exit code."""

    def parse_args(self, ctx: clicks.Context, args: list[str]) -> list[str]:
        ctx.meta["vwaza.argv"] = list(args)
        json_mode.set(False)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: clicks.Context) -> Any:
        try:
            return super().invoke(ctx)
        except clicks.UsageError as exc:
            if "--json" not in ctx.meta.get("vwaza.argv", ()):
                raise
            json_mode.set(True)
            report_error(_Usage(exc.format_message()))
            ctx.exit(2)
        except VwazaError as exc:
            report_error(exc)
            ctx.exit(exc.exit_code)
        except (typer.Exit, typer.Abort, clicks.ClickException, EOFError):
            raise
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            ctx.exit(130)
        except Exception as exc:  # a bug: say so in one line, keep the traceback for VWAZA_DEBUG
            report_internal(exc)
            ctx.exit(1)


app = typer.Typer(
    cls=VwazaGroup,
    name="vwaza",
    help="Vwaza Release Manager: prepare releases, upload them safely, review them.",
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

    Start with `vwaza init`, then `vwaza auth register`.
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


def run() -> None:
    app()
