"""`vwaza --help` must stay light: none of the heavy libraries may load for it."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = (
    "sqlmodel",
    "sqlalchemy",
    "supabase",
    "storage3",
    "alembic",
    "psycopg",
    "bcrypt",
    "mutagen",
    "soundfile",
    "av",
    "PIL",
    "httpx",
    "watchdog",
)

PROBE = """
import json, sys
sys.argv = ["vwaza"] + sys.argv[1:]
from vwaza_cli.cli.main import run
try:
    run()
except SystemExit:
    pass
loaded = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(HEAVY)))
sys.stderr.write("LOADED=" + json.dumps(loaded) + "\\n")
"""


def _loaded_for(*args: str) -> list[str]:
    code = PROBE.replace("json.loads(HEAVY)", repr(list(HEAVY)))
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    line = next(x for x in done.stderr.splitlines() if x.startswith("LOADED="))
    return json.loads(line.removeprefix("LOADED="))


def test_help_imports_no_heavy_library() -> None:
    assert _loaded_for("--help") == []


def test_subcommand_help_imports_no_heavy_library() -> None:
    for group in ("release", "track", "auth", "admin", "jobs", "review", "catalog", "daemon"):
        assert _loaded_for(group, "--help") == [], group


def test_version_is_printed_without_the_store() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "vwaza_cli", "--version"], capture_output=True, text=True, check=True
    )
    assert done.stdout.startswith("vwaza ")


SUBCOMMAND_MODULES = ("admin", "auth", "catalog", "db", "doctor", "jobs", "release", "review")

MODULES_PROBE = """
import sys
sys.argv = ["vwaza"] + sys.argv[1:]
from vwaza_cli.cli.main import run
try:
    run()
except SystemExit:
    pass
sys.stderr.write("MODULES=" + " ".join(sorted(sys.modules)) + "\\n")
"""


def _modules_for(*args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", MODULES_PROBE, *args], capture_output=True, text=True, check=True
    )
    line = next(x for x in done.stderr.splitlines() if x.startswith("MODULES="))
    return set(line.removeprefix("MODULES=").split())


def test_root_help_and_version_load_no_subcommand_and_no_rich_in_a_pipe() -> None:
    for args in (("--help",), ("--version",), ()):
        modules = _modules_for(*args)
        loaded = {name for name in SUBCOMMAND_MODULES if f"vwaza_cli.cli.{name}" in modules}
        assert loaded == set(), args
        assert "rich" not in modules, args
        assert "typer.rich_utils" not in modules, args


def test_a_subcommand_loads_only_its_own_module() -> None:
    modules = _modules_for("release", "--help")
    assert "vwaza_cli.cli.release" in modules
    assert "vwaza_cli.cli.admin" not in modules
    assert "vwaza_cli.cli.catalog" not in modules


def test_the_lazy_root_help_lists_what_the_loaded_commands_say() -> None:
    import typer.main

    from vwaza_cli.cli import clicks
    from vwaza_cli.cli.main import COMMANDS, app, load_command

    for name, (_, _, short) in COMMANDS.items():
        assert load_command(name).get_short_help_str(limit=1000) == short, name

    def root_help(load_all: bool) -> str:
        group = typer.main.get_command(app)
        clicks.conventional_help(group, rich=False)  # as in a pipe
        ctx = clicks.Context(group, info_name="vwaza", **group.context_settings)
        if load_all:
            for name in COMMANDS:
                group.get_command(ctx, name)
        return group.get_help(ctx)

    plain = root_help(load_all=False)
    assert "release  Create, edit, submit and delete releases." in plain
    assert plain == root_help(load_all=True)
