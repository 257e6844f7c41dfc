"""A real `vwaza serve` for tests: uvicorn in a thread on 127.0.0.1, on a port the OS picks,
over the store and home of the test's environment (as on the server's own machine)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest


@dataclass
class Running:
    server: Any
    thread: threading.Thread

    @property
    def base(self) -> str:
        host, port = self.server.servers[0].sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def start_server(app: Any) -> Running:
    """`vwaza serve`'s server in a thread; returns once it is listening (and has recorded
    itself in the store)."""
    from vwaza_cli.server.run import KEEP_LOGGING, Server, uvicorn_config

    server = Server(uvicorn_config(app, "127.0.0.1", 0, log_config=KEEP_LOGGING))
    started = threading.Event()
    original = server.startup

    async def startup(sockets: Any = None) -> None:
        await original(sockets)
        started.set()

    server.startup = startup  # type: ignore[method-assign]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    if not started.wait(timeout=60) or not server.started:
        pytest.fail("the server did not start")
    return Running(server, thread)


@contextmanager
def serving() -> Iterator[str]:
    """A server over the environment's store while the block runs; yields its base URL."""
    from vwaza_cli.server.app import create_app

    running = start_server(create_app())
    try:
        yield running.base
    finally:
        running.stop()
