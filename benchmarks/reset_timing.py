"""How long `reset-request` takes for an email with an account and for one without.

The two must cost about the same (no account enumeration by timing). Prints the median of each
path and their ratio, once with the outbox (no SMTP) and once through an SMTP server on
loopback (aiosmtpd, from the test extras); asserts nothing.
Run: .venv/bin/python benchmarks/reset_timing.py [runs]  (optionally VWAZA_DATABASE_URL=...)
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from vwaza_cli.services import accounts, password_reset
from vwaza_cli.services.context import Context
from vwaza_cli.settings import load_settings


class _Sink:
    async def handle_DATA(self, server, session, envelope) -> str:
        return "250 OK"


def _start_smtp():  # type: ignore[no-untyped-def]
    from aiosmtpd.controller import Controller

    class Loopback(Controller):
        def _trigger_server(self) -> None:
            self.port = self.server.sockets[0].getsockname()[1]
            super()._trigger_server()

    controller = Loopback(_Sink(), hostname="127.0.0.1", port=0, server_hostname="bench")
    controller.start()
    return controller


def _context(home: Path, smtp_port: int | None) -> Context:
    env = {"VWAZA_HOME": str(home), "VWAZA_BCRYPT_ROUNDS": "4"}
    if os.environ.get("VWAZA_DATABASE_URL"):
        env["VWAZA_DATABASE_URL"] = os.environ["VWAZA_DATABASE_URL"]
    if smtp_port is not None:
        env |= {
            "VWAZA_SMTP_HOST": "127.0.0.1",
            "VWAZA_SMTP_PORT": str(smtp_port),
            "VWAZA_SMTP_SECURITY": "none",
        }
    return Context(settings=load_settings(env))


def _seconds(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def measure(ctx: Context, runs: int, label: str) -> None:
    """Alternate known and unknown emails, each asked once (the rate limit never kicks in)."""
    tag = f"{label}-{time.time_ns()}"
    known, unknown = [], []
    for i in range(runs):
        email = f"known-{tag}-{i}@example.com"
        accounts.register(ctx, email, "Bench", "correct horse")
        known.append(_seconds(lambda e=email: password_reset.request_reset(ctx, e)))
        nobody = f"nobody-{tag}-{i}@example.com"
        unknown.append(_seconds(lambda e=nobody: password_reset.request_reset(ctx, e)))
    k, u = statistics.median(known), statistics.median(unknown)
    print(f"{label:8s} known {k * 1000:7.2f} ms   unknown {u * 1000:7.2f} ms   ratio {u / k:4.2f}")


def main() -> None:
    from vwaza_cli.db.schema import upgrade

    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    with tempfile.TemporaryDirectory() as folder:
        ctx = _context(Path(folder), None)
        upgrade(ctx.settings.database_url)
        print(f"median of {runs} requests per path, store {ctx.settings.database_url}")
        measure(ctx, runs, "outbox")
        try:
            controller = _start_smtp()
        except ImportError:
            print("smtp     skipped: aiosmtpd is not installed (pip install -e '.[test]')")
            return
        try:
            measure(_context(Path(folder), controller.port), runs, "smtp")
        finally:
            controller.stop()


if __name__ == "__main__":
    main()
