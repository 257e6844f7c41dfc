"""`vwaza serve`: the HTTP API over the same services (team mode)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

DEFAULT_PORT = 8787


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port (0: any free one).")
    ] = DEFAULT_PORT,
    tls_cert: Annotated[
        Path | None, typer.Option("--tls-cert", help="Serve https with this certificate.")
    ] = None,
    tls_key: Annotated[Path | None, typer.Option("--tls-key", help="Its private key.")] = None,
) -> None:
    """Run the team server in the foreground: one request log line each on stderr.

    This machine alone holds the store, storage and SMTP settings; run `vwaza-daemon` beside
    it. Plain http is answered only to loopback: from other machines, serve https
    (--tls-cert/--tls-key) or sit behind a TLS proxy with VWAZA_SERVER_TRUST_PROXY set.

    Example: vwaza serve --host 127.0.0.1 --port 8787
    """
    from vwaza_cli.cli import clicks
    from vwaza_cli.server.app import create_app
    from vwaza_cli.server.run import Server, uvicorn_config

    if (tls_cert is None) != (tls_key is None):
        raise clicks.UsageError("give both --tls-cert and --tls-key, or neither")
    tls = (tls_cert, tls_key) if tls_cert is not None and tls_key is not None else None
    Server(uvicorn_config(create_app(), host, port, tls)).run()
