"""What every benchmark ends with: its aims, measured, each PASS or MISS.

A benchmark prints them as a table and, given `--aims-json PATH`, writes them there for
benchmarks/report.py, which runs the quick variant of each and prints one table."""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class Aim:
    name: str
    measured: str
    goal: str
    met: bool | None  # None: could not be measured


def verdict(met: bool | None) -> str:
    return {True: "PASS", False: "MISS", None: "----"}[met]


def print_aims(aims: list[Aim], title: str = "summary") -> None:
    print(f"\n{title}")
    width = max((len(a.name) for a in aims), default=0)
    for aim in aims:
        print(f"  {aim.name:{width}s}  {aim.measured:>12s}  aim {aim.goal:12s} {verdict(aim.met)}")


def add_aims_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--aims-json", type=Path, help="also write the aims there (report.py)")


def write_aims(path: Path | None, aims: list[Aim]) -> None:
    if path is not None:
        path.write_text(json.dumps([asdict(a) for a in aims], indent=1))


def read_aims(path: Path) -> list[Aim]:
    return [Aim(**item) for item in json.loads(path.read_text())]


def interleaved_medians(
    cases: dict[str, list[str]],
    runs: int,
    env: dict[str, str] | None = None,
    env_of: dict[str, dict[str, str]] | None = None,
) -> dict[str, float]:
    """The median wall time of each command, run in turn (one run of each, `runs` times),
    so that a change in the machine's load reaches every case alike; each case in ``env``,
    or its own environment in ``env_of``."""
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, argv in cases.items():
            environment = (env_of or {}).get(name, env)
            start = time.perf_counter()
            subprocess.run(
                argv,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
                env=environment,
            )
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}
