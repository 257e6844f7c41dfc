"""How long `vwaza --help` takes, against `python -c "import typer"` and a bare Typer app.

Prints medians and ratios; asserts nothing (speed goals live here, not in the test suite).
Run: .venv/bin/python benchmarks/startup.py [runs]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

BARE_APP = """
import typer
app = typer.Typer()
@app.command()
def hello(name: str) -> None:
    '''Say hello.'''
app()
"""


def median_seconds(argv: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    python = sys.executable
    cases = {
        "python -c 'import typer'": [python, "-c", "import typer"],
        "bare Typer app --help": [python, "-c", BARE_APP, "--help"],
        "vwaza --help": [python, "-m", "vwaza_cli", "--help"],
        "vwaza release --help": [python, "-m", "vwaza_cli", "release", "--help"],
    }
    print(f"median of {runs} runs")
    times = {name: median_seconds(argv, runs) for name, argv in cases.items()}
    baseline, bare = times["python -c 'import typer'"], times["bare Typer app --help"]
    for name, seconds in times.items():
        print(
            f"{name:28s} {seconds * 1000:7.1f} ms   {seconds / baseline:4.2f}x import typer"
            f"   {seconds / bare:4.2f}x bare Typer app"
        )
    print(
        "aim: vwaza --help at most 2.5x import typer "
        f"({'PASS' if times['vwaza --help'] / baseline <= 2.5 else 'MISS'}); "
        "Typer >= 0.20 imports lazily, so the bare app alone is near 3x there"
    )


if __name__ == "__main__":
    main()
