"""The server's own settings, read from its environment (the store, storage and SMTP settings
are the usual ones, `vwaza_cli.settings`).

`VWAZA_SERVER_TRUST_PROXY` says that `vwaza serve` sits behind a TLS-terminating reverse
proxy: `1` trusts a proxy on this machine (127.0.0.1, ::1), or give the proxies' addresses,
comma-separated. Their `X-Forwarded-Proto` and `X-Forwarded-For` are then believed, so that
plain http from another machine is still refused; unset, those headers are ignored.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass

from vwaza_cli.errors import InvalidInput

TRUST_PROXY_ENV = "VWAZA_SERVER_TRUST_PROXY"
LOOPBACK_PROXIES = ("127.0.0.1", "::1")
MAX_JSON_BYTES = 1024 * 1024  # a request body that is not a file


@dataclass(frozen=True)
class ServerSettings:
    trusted_proxies: tuple[str, ...] = ()

    @property
    def trusts_proxy(self) -> bool:
        return bool(self.trusted_proxies)


def load_server_settings(env: dict[str, str] | None = None) -> ServerSettings:
    value = (os.environ if env is None else env).get(TRUST_PROXY_ENV, "").strip()
    if value.lower() in ("", "0", "false", "no"):
        return ServerSettings()
    if value.lower() in ("1", "true", "yes"):
        return ServerSettings(LOOPBACK_PROXIES)
    return ServerSettings(tuple(_address(part) for part in value.split(",") if part.strip()))


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
