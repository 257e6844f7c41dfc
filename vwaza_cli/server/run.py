"""How uvicorn runs the app: one process, proxy headers believed only from trusted proxies,
every log line (the request log too) on stderr."""

from __future__ import annotations

import contextlib
import copy
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.config import LOGGING_CONFIG

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
    finish) but then exiting 0, as `vwaza-daemon` does, instead of dying of the signal."""

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
