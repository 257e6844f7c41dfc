"""Streaming a file down over http(s) (a storage URL in an exported catalog): the one place
outside the storage backends that uses httpx."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from vwaza_cli.errors import InvalidMedia

T = TypeVar("T")


def with_download(url: str, chunk: int, consume: Callable[[Iterator[bytes]], T]) -> T:
    """Hand the body of ``url`` to ``consume`` as an iterator of blocks (memory stays flat).
    Redirects are not followed: a catalog names the file it means."""
    import httpx  # lazy on purpose: heavy, and the spool imports this module for every upload

    try:
        with httpx.stream("GET", url, timeout=60.0, follow_redirects=False) as response:
            if response.status_code != 200:
                raise InvalidMedia(f"{url}: the server answered HTTP {response.status_code}")
            return consume(response.iter_bytes(chunk))
    except httpx.HTTPError as exc:
        raise InvalidMedia(f"{url}: cannot download it ({type(exc).__name__})") from None
