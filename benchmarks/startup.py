"""How long the commands that touch no store take, against `python -c "import typer"`.

Every case runs in turn (interleaved), `runs` times, and each figure is its median over the
anchor's median in the same run: the ratio holds on a noisy machine where the seconds do not.
Prints the figures and the aims (PASS/MISS); asserts nothing (speed goals live here).

Run: .venv/bin/python benchmarks/startup.py [--runs N] [--quick] [--aims-json PATH]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from aims import Aim, add_aims_json, interleaved_medians, print_aims, write_aims

ANCHOR = "python -c 'import typer'"
HELP_AIM, HELP_MOONSHOT, NO_STORE_AIM = 1.5, 1.2, 1.5
NO_STORE = (
    "vwaza --version",
    "vwaza auth whoami (no session)",
    "vwaza release create (usage error)",
)


def vwaza() -> list[str]:
    """The console script users run (beside this interpreter), else the module."""
    script = Path(sys.executable).with_name("vwaza")
    return [str(script)] if script.exists() else [sys.executable, "-m", "vwaza_cli"]


def cases() -> dict[str, list[str]]:
    command = vwaza()
    return {
        ANCHOR: [sys.executable, "-c", "import typer"],
        "vwaza --help": [*command, "--help"],
        "vwaza --version": [*command, "--version"],
        "vwaza auth whoami (no session)": [*command, "auth", "whoami"],
        "vwaza release create (usage error)": [*command, "release", "create"],
        "vwaza release --help": [*command, "release", "--help"],
    }


def isolated_environment(home: Path) -> dict[str, str]:
    """A home of its own, with no session and no store: nothing to find but the defaults."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("VWAZA_")}
    environment["VWAZA_HOME"] = str(home)
    environment["HOME"] = str(home)
    environment["XDG_CONFIG_HOME"] = str(home / "config")
    environment["XDG_DATA_HOME"] = str(home / "data")
    return environment


def measure(runs: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="vwaza-startup-") as home:
        return interleaved_medians(cases(), runs, env=isolated_environment(Path(home)))


def ratio_aim(name: str, ratio: float, limit: float) -> Aim:
    return Aim(name, f"{ratio:.2f}x", f"<= {limit}x", ratio <= limit)


def aims_of(times: dict[str, float]) -> list[Aim]:
    ratio = {name: seconds / times[ANCHOR] for name, seconds in times.items()}
    helped = ratio["vwaza --help"]
    return [
        ratio_aim(f"vwaza --help / {ANCHOR}", helped, HELP_AIM),
        ratio_aim("vwaza --help, moonshot", helped, HELP_MOONSHOT),
        *(ratio_aim(f"{name} / import typer", ratio[name], NO_STORE_AIM) for name in NO_STORE),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="7 runs instead of 15")
    add_aims_json(parser)
    options = parser.parse_args()
    runs = 7 if options.quick else options.runs
    times = measure(runs)
    anchor = times[ANCHOR]
    print(f"median of {runs} interleaved runs; ratios to {ANCHOR} in the same run")
    for name, seconds in times.items():
        print(f"  {name:36s} {seconds * 1000:7.1f} ms   {seconds / anchor:4.2f}x")
    aims = aims_of(times)
    print_aims(aims)
    write_aims(options.aims_json, aims)


if __name__ == "__main__":
    main()
