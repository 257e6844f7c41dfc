"""Every benchmark's quick variant, one after the other, and one table of their aims:
figure, value measured now, aim, PASS or MISS. Each benchmark measures its ratios against its
own named baseline in the same run (see each script); this only gathers them.

Run: .venv/bin/python benchmarks/report.py [--only startup,store_commands,...] [--no-postgres]
     [--full] (the full variants instead of the quick ones: much longer)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from aims import Aim, read_aims, verdict

HERE = Path(__file__).resolve().parent
PG = os.environ.get("VWAZA_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def benchmarks(postgres: bool) -> dict[str, list[str]]:
    """Each benchmark's arguments for its quick variant, on both engines where it has two."""
    return {
        "startup": [],
        "store_commands": [] if postgres else ["--no-postgres"],
        "uploads": ["--pg", PG] if postgres else [],
        "catalog_import": ["--pg", PG] if postgres else ["--no-pg"],
        "processing": [],
    }


def run_one(name: str, arguments: list[str], quick: bool, folder: Path) -> tuple[list[Aim], str]:
    """The benchmark's aims, and how it ended (its output goes to a log beside them)."""
    aims_file, log = folder / f"{name}.json", folder / f"{name}.log"
    argv = [sys.executable, str(HERE / f"{name}.py"), *(["--quick"] if quick else []), *arguments]
    began = time.perf_counter()
    with log.open("w") as out:
        done = subprocess.run([*argv, "--aims-json", str(aims_file)], stdout=out, stderr=out)
    took = f"{time.perf_counter() - began:.0f} s"
    if done.returncode != 0 or not aims_file.exists():
        tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
        failed = [Aim(f"{name}: did not finish (exit {done.returncode})", tail[0][:40], "", None)]
        return failed, took
    return read_aims(aims_file), took


def print_table(rows: list[tuple[str, Aim]]) -> None:
    width = max(len(aim.name) for _, aim in rows)
    print(f"\n{'benchmark':15s} {'figure':{width}s} {'value':>12s}  {'aim':12s} verdict")
    for name, aim in rows:
        print(f"{name:15s} {aim.name:{width}s} {aim.measured:>12s}  {aim.goal:12s} "
              f"{verdict(aim.met)}")  # fmt: skip
    met = sum(1 for _, aim in rows if aim.met)
    missed = sum(1 for _, aim in rows if aim.met is False)
    print(f"\n{met} PASS, {missed} MISS, {len(rows) - met - missed} not measured")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated benchmark names (default: all)")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--full", action="store_true", help="the full variants, not --quick")
    options = parser.parse_args()
    chosen = benchmarks(not options.no_postgres)
    if options.only:
        wanted = options.only.split(",")
        unknown = sorted(set(wanted) - set(chosen))
        if unknown:
            parser.error(f"no benchmark named {', '.join(unknown)} (known: {', '.join(chosen)})")
        chosen = {name: chosen[name] for name in wanted}
    rows: list[tuple[str, Aim]] = []
    with tempfile.TemporaryDirectory(prefix="vwaza-report-") as folder:
        for name, arguments in chosen.items():
            print(f"{name}: running", flush=True)
            aims, took = run_one(name, arguments, not options.full, Path(folder))
            print(f"{name}: {took}", flush=True)
            rows += [(name, aim) for aim in aims]
    load = ", ".join(f"{n:.2f}" for n in os.getloadavg())
    print(f"\n{os.cpu_count()} CPUs, load {load}")
    print_table(rows)


if __name__ == "__main__":
    main()
