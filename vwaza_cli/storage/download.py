"""Streaming a file down over https (a storage URL in an exported catalog): the one place
outside the storage backends that uses httpx.

A catalog is untrusted, and in team mode the server fetches on behalf of whoever imports, so
a URL must not turn the tool into a way into the local network (catalog.md):

- https only, on every hop;
- the host is resolved once and **every** address it resolves to is checked (loopback,
  private, unique-local, link-local, multicast, reserved and unspecified addresses are
  refused, IPv4 carried inside IPv6 included) before any connection, unless the settings
  allow private addresses;
- the connection is pinned to a checked address: the request names that IP, and the host
  name goes in the Host header and as the TLS server name (SNI and certificate check), so a
  second DNS answer cannot swap in another address (DNS rebinding). No proxy is used: it
  would resolve the name itself;
- redirects are followed by hand, at most ``MAX_REDIRECTS``, each hop checked the same way;
- timeouts per connect and per read, and a deadline for the whole download; the caller caps
  the size as it consumes the blocks, which are the bytes as sent (identity encoding is
  asked for, and a compressed answer refused: no decompression bomb);
- every failure to reach a server reads the same ("could not download it"), so the errors
  say nothing about which ports are open.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from vwaza_cli.errors import InvalidMedia
from vwaza_cli.textsafe import printable

if TYPE_CHECKING:
    import httpx

T = TypeVar("T")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_REDIRECTS = 5
MAX_ADDRESSES = 4  # tried in turn when a connection fails; each one was checked
CONNECT_SECONDS = 10.0
READ_SECONDS = 30.0
DEADLINE_SECONDS = 30 * 60.0  # the whole download: a server that trickles is cut off
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# IPv6 prefixes whose last 32 bits are an IPv4 address that a gateway will connect to
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class _Refused(Exception):
    """A hop that is not fetched; ``reason`` completes "could not download it"."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


def is_url(value: str) -> bool:
    """Whether a file reference names something to download (in any letter case)."""
    return value[:8].lower().startswith(("https://", "http://"))


def with_download(
    url: str,
    chunk: int,
    consume: Callable[[Iterator[bytes]], T],
    *,
    allow_private: bool = False,
) -> T:
    """Hand the body of ``url`` to ``consume`` as an iterator of blocks of at most ``chunk``
    bytes (memory stays flat). ``allow_private`` lets it reach loopback and private
    addresses (VWAZA_ALLOW_PRIVATE_URLS, for tests and closed networks)."""
    import httpx  # lazy on purpose: heavy, and the spool imports this module for every upload

    deadline = time.monotonic() + DEADLINE_SECONDS
    try:
        with _client() as client, _final_response(client, url, allow_private) as response:
            return consume(_blocks(response, chunk, deadline))
    except _Refused as refused:
        raise InvalidMedia(f"{printable(url)}: could not download it{refused.reason}") from None
    except (httpx.HTTPError, httpx.InvalidURL):
        raise InvalidMedia(f"{printable(url)}: could not download it") from None


def _client() -> httpx.Client:
    import httpx

    return httpx.Client(
        verify=httpx.create_ssl_context(),  # certifi's roots, or SSL_CERT_FILE / SSL_CERT_DIR
        trust_env=False,  # no proxy and no .netrc: the connection goes where it was checked
        timeout=httpx.Timeout(READ_SECONDS, connect=CONNECT_SECONDS),
        follow_redirects=False,
    )


@contextmanager
def _final_response(
    client: httpx.Client, url: str, allow_private: bool
) -> Iterator[httpx.Response]:
    """The 200 response at the end of at most ``MAX_REDIRECTS`` redirects, every hop
    checked before it is connected to."""
    current = _parse(url)
    for _ in range(MAX_REDIRECTS + 1):
        hop = resolve(current, allow_private)
        with _send(client, hop) as response:
            location = response.headers.get("location")
            if response.status_code in _REDIRECTS and location:
                current = current.join(location)
                continue
            if response.status_code != 200:
                raise _Refused(f" (the server answered HTTP {response.status_code})")
            if response.headers.get("content-encoding", "identity").lower() != "identity":
                raise _Refused(" (the server sent it compressed, though asked not to)")
            yield response
            return
    raise _Refused(f" (more than {MAX_REDIRECTS} redirects)")


def _parse(url: str) -> httpx.URL:
    import httpx

    try:
        url.encode("utf-8")  # a lone surrogate: no request can carry it
        return httpx.URL(url)
    except (httpx.InvalidURL, UnicodeEncodeError):
        raise _Refused(" (not a valid URL)") from None


@dataclass(frozen=True)
class Hop:
    """A URL to fetch and the checked addresses of its host, in the resolver's order."""

    url: httpx.URL
    addresses: tuple[str, ...]

    @property
    def host(self) -> str:
        return self.url.raw_host.decode("ascii")  # IDNA-encoded, as DNS and SNI want it


def resolve(url: httpx.URL, allow_private: bool) -> Hop:
    """Check ``url``'s scheme and every address its host has; refuse before connecting."""
    if url.scheme != "https":
        raise _Refused(": only https:// URLs are downloaded")
    port = url.port or 443
    if not url.raw_host or not 0 < port < 65536:
        raise _Refused(" (not a valid URL)")
    addresses = _addresses(url.raw_host.decode("ascii"), port)
    if not allow_private and not all(is_public(ipaddress.ip_address(a)) for a in addresses):
        raise _Refused(
            ": it is not on a public address (VWAZA_ALLOW_PRIVATE_URLS=1 allows private ones)"
        )
    return Hop(url, addresses)


def _addresses(host: str, port: int) -> tuple[str, ...]:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError):
        raise _Refused() from None  # no such name: said like any other unreachable server
    # a scope (fe80::1%eth0) is not part of the address
    addresses = tuple(dict.fromkeys(str(info[4][0]).split("%", 1)[0] for info in found))
    if not addresses:
        raise _Refused()
    return addresses


def is_public(address: IPAddress) -> bool:
    """A global unicast address, and so is any IPv4 address it carries: an IPv4-mapped one
    (::ffff:127.0.0.1) is judged as that IPv4 address; 6to4, Teredo and NAT64 ones lead to
    the IPv4 address inside them."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return all(_is_global_unicast(a) for a in (address, *_embedded_ipv4(address)))


def _is_global_unicast(address: IPAddress) -> bool:
    refused = (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)
    )
    return address.is_global and not refused


def _embedded_ipv4(address: IPAddress) -> list[ipaddress.IPv4Address]:
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    carried = [address.sixtofour, *(address.teredo or ())]
    if any(address in network for network in _NAT64):
        carried.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return [a for a in carried if a is not None]


@contextmanager
def _send(client: httpx.Client, hop: Hop) -> Iterator[httpx.Response]:
    """GET ``hop`` from the first of its checked addresses that accepts a connection."""
    import httpx

    for address in hop.addresses[:MAX_ADDRESSES]:
        request = client.build_request(
            "GET",
            hop.url.copy_with(host=address),
            headers={"Host": hop.url.netloc.decode("ascii"), "Accept-Encoding": "identity"},
            extensions={"sni_hostname": hop.host},  # and the certificate is checked for it
        )
        try:
            response = client.send(request, stream=True)
        except (httpx.ConnectError, httpx.ConnectTimeout):
            continue
        try:
            yield response
        finally:
            response.close()
        return
    raise _Refused()


def _blocks(response: httpx.Response, chunk: int, deadline: float) -> Iterator[bytes]:
    """The body in blocks of at most ``chunk`` bytes, until ``deadline`` (checked at every
    read, so a server sending a byte now and then cannot hold the download open)."""
    pending = bytearray()
    for piece in response.iter_raw():  # as sent: nothing inflates it (see the encoding check)
        if time.monotonic() > deadline:
            raise _Refused(f" (it took longer than {DEADLINE_SECONDS:g} seconds)")
        pending += piece
        while len(pending) >= chunk:
            yield bytes(pending[:chunk])
            del pending[:chunk]
    if pending:
        yield bytes(pending)
