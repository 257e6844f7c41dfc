"""A TCP proxy on 127.0.0.1 that forwards to a server and cuts a connection once it has
carried a given number of bytes towards the server: a dropped connection in the middle of an
upload, made on purpose (the bytes carried are counted, to tell a resume from a restart)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class CuttingProxy:
    upstream: tuple[str, int]
    cuts: list[int]  # cut the 1st, 2nd, ... upload-carrying connection after this many bytes
    carried: int = 0  # bytes carried towards the server, all connections
    cut_done: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def serve(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            threading.Thread(target=self._up, args=(client, server), daemon=True).start()
            threading.Thread(target=_down, args=(server, client), daemon=True).start()

    def _up(self, client: socket.socket, server: socket.socket) -> None:
        through = 0
        limit = None
        while data := _recv(client):
            with self._lock:
                if limit is None and self.cut_done < len(self.cuts) and through + len(data) > 65536:
                    limit = self.cuts[self.cut_done]  # a connection that carries a body
                    self.cut_done += 1
            if limit is not None and through + len(data) > limit:
                data = data[: max(limit - through, 0)]
                _send(server, data)
                self._count(len(data))
                _close(client, server)
                return
            through += len(data)
            self._count(len(data))
            if not _send(server, data):
                break
        _close(client, server)

    def _count(self, size: int) -> None:
        with self._lock:
            self.carried += size


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(256 * 1024)
    except OSError:
        return b""


def _send(sock: socket.socket, data: bytes) -> bool:
    try:
        sock.sendall(data)
        return True
    except OSError:
        return False


def _down(server: socket.socket, client: socket.socket) -> None:
    while data := _recv(server):
        if not _send(client, data):
            break
    _close(client, server)


def _close(*socks: socket.socket) -> None:
    for sock in socks:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()


@contextmanager
def cutting_proxy(upstream_url: str, cuts: list[int]) -> Iterator[tuple[str, CuttingProxy]]:
    """A proxy in front of ``upstream_url`` (http://host:port); yields its URL and itself."""
    host, port = upstream_url.removeprefix("http://").rsplit(":", 1)
    proxy = CuttingProxy((host, int(port)), cuts)
    listener = socket.create_server(("127.0.0.1", 0))
    thread = threading.Thread(target=proxy.serve, args=(listener,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", proxy
    finally:
        listener.close()
