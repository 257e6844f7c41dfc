"""The one way a command reaches the product: `connect()` gives the backend of this machine
(the store here) or of the team server it is a client of (VWAZA_SERVER, or the server a saved
session was opened on). See `client/base.py`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vwaza_cli.errors import BadUsage
from vwaza_cli.services.session_file import saved_server
from vwaza_cli.settings import Settings, load_settings

if TYPE_CHECKING:
    from vwaza_cli.client.base import Backend


def server_of(settings: Settings) -> str | None:
    """The team server this machine is a client of, if any: VWAZA_SERVER wins."""
    return settings.server or saved_server(settings)


_OPEN: list[Backend] = []  # closed when the command ends (`close_all`)


def connect(server: str | None = None) -> Backend:
    """The backend every command talks to; ``server`` (from `auth login --server`) wins."""
    settings = load_settings()
    url = server or server_of(settings)
    backend: Backend
    if url:
        from vwaza_cli.client.remote import RemoteBackend

        backend = RemoteBackend(settings, check_server_url(url))
    else:
        from vwaza_cli.client.local import LocalBackend

        backend = LocalBackend(settings)
    _OPEN.append(backend)
    return backend


def close_all() -> None:
    """The end of a command: connections to a server are closed."""
    while _OPEN:
        _OPEN.pop().close()


def check_server_url(url: str) -> str:
    """An http(s) base URL, without a trailing slash; anything else is a usage error."""
    url = url.strip().rstrip("/")
    scheme, _, rest = url.partition("://")
    if scheme.lower() not in ("http", "https") or not rest or any(c in rest for c in "?#"):
        raise BadUsage(f"{url!r} is not a server URL: give its base, e.g. http://127.0.0.1:8787")
    return url


def refuse_on_a_client(command: str) -> None:
    """`init`, `db ...` and `vwaza-daemon` belong to the server's machine (exit 2)."""
    settings = load_settings()
    url = server_of(settings)
    if url:
        raise BadUsage(
            f"`{command}` belongs to the server's machine: this one is a client of {url} "
            "(unset VWAZA_SERVER, or `vwaza auth logout`, to use a store here)"
        )
