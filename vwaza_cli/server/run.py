"""How uvicorn runs the app: one process, proxy headers believed only from trusted proxies,
every log line (the request log too) on stderr; the store told when it starts and stops."""

from __future__ import annotations

import contextlib
import copy
import logging
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.config import LOGGING_CONFIG

from vwaza_cli.errors import VwazaError
from vwaza_cli.services import team_servers
from vwaza_cli.services.context import Context

log = logging.getLogger("vwaza.server")
WILDCARD_HOSTS = ("0.0.0.0", "::")
KEEP_LOGGING: dict[str, Any] | None = None  # tests: leave the process's logging alone


def uvicorn_config(
    app: FastAPI,
    host: str,
    port: int,
    tls: tuple[Path, Path] | None = None,
    log_config: dict[str, Any] | str | None = "stderr",
) -> uvicorn.Config:
    proxies = app.state.server_settings.trusted_proxies
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        proxy_headers=bool(proxies),  # else X-Forwarded-* from anyone would be believed
        forwarded_allow_ips=list(proxies) or None,
        ssl_certfile=tls[0] if tls else None,
        ssl_keyfile=tls[1] if tls else None,
        log_config=log_to_stderr() if log_config == "stderr" else log_config,
        server_header=False,
        lifespan="off",
        workers=1,  # the login limit counts in this one process's memory
    )


def log_to_stderr() -> dict[str, Any]:
    """uvicorn's logging with its request log on stderr too, not stdout, uncoloured."""
    config = copy.deepcopy(LOGGING_CONFIG)
    for handler in config["handlers"].values():
        handler["stream"] = "ext://sys.stderr"
    for formatter in config["formatters"].values():
        formatter["use_colors"] = False
    return config


class Server(uvicorn.Server):
    """uvicorn's server, stopping on SIGTERM or SIGINT as it does (in-flight requests
    finish) but then exiting 0, as `vwaza-daemon` does, instead of dying of the signal.
    Once listening it records itself in the store, and that it stopped when it stops."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            address = _app(self).state.server_settings.public_url or listening_url(self)
            _tell_the_store(self, lambda ctx: team_servers.record_start(ctx, address))

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await super().shutdown(sockets)
        _tell_the_store(self, team_servers.record_stop)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        stops = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in stops}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def listening_url(server: uvicorn.Server) -> str:
    """Where the server listens, as a client would write it (the host name for a wildcard)."""
    host, port = server.servers[0].sockets[0].getsockname()[:2]
    if host in WILDCARD_HOSTS:
        host = socket.gethostname()
    elif ":" in host:
        host = f"[{host}]"
    return f"{'https' if server.config.is_ssl else 'http'}://{host}:{port}"


def _tell_the_store(server: uvicorn.Server, record: Callable[[Context], None]) -> None:
    """Best effort: a store that cannot be reached (or is not upgraded) must not keep the
    server from starting or stopping; its health check says what is wrong."""
    try:
        record(Context(_app(server).state.settings))
    except VwazaError as exc:
        log.warning("the store was not told of this server: %s", exc.message)


def _app(server: uvicorn.Server) -> FastAPI:
    app = server.config.app
    assert isinstance(app, FastAPI)  # uvicorn_config is given the app itself, not an import
    return app
