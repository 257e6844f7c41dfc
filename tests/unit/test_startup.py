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
