"""The server's own settings, read from its environment (the store, storage and SMTP settings
are the usual ones, `vwaza_cli.settings`).

`VWAZA_SERVER_TRUST_PROXY` says that `vwaza serve` sits behind a TLS-terminating reverse
proxy: `1` trusts a proxy on this machine (127.0.0.1, ::1), or give the proxies' addresses,
comma-separated. Their `X-Forwarded-Proto` and `X-Forwarded-For` are then believed, so that
plain http from another machine is still refused; unset, those headers are ignored.

`VWAZA_SERVER_PUBLIC_URL` is the address clients give as VWAZA_SERVER (the proxy's https
address, say). The server records it in the store as it starts, so that `vwaza doctor` on a
machine holding the store's URL can name it; unset, the address it listens on is recorded.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass

from vwaza_cli.errors import InvalidInput

TRUST_PROXY_ENV = "VWAZA_SERVER_TRUST_PROXY"
PUBLIC_URL_ENV = "VWAZA_SERVER_PUBLIC_URL"
LOOPBACK_PROXIES = ("127.0.0.1", "::1")
MAX_JSON_BYTES = 1024 * 1024  # a request body that is not a file


@dataclass(frozen=True)
class ServerSettings:
    trusted_proxies: tuple[str, ...] = ()
    public_url: str | None = None

    @property
    def trusts_proxy(self) -> bool:
        return bool(self.trusted_proxies)


def load_server_settings(env: dict[str, str] | None = None) -> ServerSettings:
    values = os.environ if env is None else env
    return ServerSettings(
        _trusted_proxies(values.get(TRUST_PROXY_ENV, "").strip()),
        _public_url(values.get(PUBLIC_URL_ENV, "").strip()),
    )


def _trusted_proxies(value: str) -> tuple[str, ...]:
    if value.lower() in ("", "0", "false", "no"):
        return ()
    if value.lower() in ("1", "true", "yes"):
        return LOOPBACK_PROXIES
    return tuple(_address(part) for part in value.split(",") if part.strip())


def _public_url(value: str) -> str | None:
    if not value:
        return None
    if not value.startswith(("https://", "http://")) or any(ch.isspace() for ch in value):
        raise InvalidInput(
            f"{PUBLIC_URL_ENV} must be the URL clients use, e.g. https://vwaza.example.com;"
            f" not {value!r}"
        )
    return value.rstrip("/")


def _address(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        raise InvalidInput(
            f"{TRUST_PROXY_ENV} must be 1 or the proxies' IP addresses, comma-separated; "
            f"{text.strip()!r} is not an IP address"
        ) from None


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))
