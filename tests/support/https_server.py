"""An HTTPS file server on loopback with a throwaway CA, and a socket that only records who
connects: the parts the download guard is tested against (tests talk only to loopback)."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

CERT_NAMES = ("localhost", "files.test")
CERT_ADDRESSES = ("127.0.0.1", "::1")


@dataclass(frozen=True)
class TlsFiles:
    ca: Path
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context


def write_tls_files(folder: Path) -> TlsFiles:
    """A CA and a server certificate for the loopback names and addresses, signed by it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    folder.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("test CA", ca_key, "test CA", ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    names = x509.SubjectAlternativeName(
        [x509.DNSName(n) for n in CERT_NAMES]
        + [x509.IPAddress(ipaddress.ip_address(a)) for a in CERT_ADDRESSES]
    )
    cert = _certificate("localhost", key, "test CA", ca_key, ca=False, names=names)
    files = TlsFiles(folder / "ca.pem", folder / "cert.pem", folder / "key.pem")
    files.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


def _certificate(
    subject: str, key: Any, issuer: str, issuer_key: Any, *, ca: bool, names: Any = None
) -> Any:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    start = datetime.now(UTC) - timedelta(minutes=5)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if names is not None:
        builder = builder.add_extension(names, critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


# --- the file server ---------------------------------------------------------------------

Route = Callable[[BaseHTTPRequestHandler], None]


@dataclass(frozen=True)
class Seen:
    path: str
    host: str  # the Host header
    sni: str | None  # the TLS server name the client asked for
    accept_encoding: str | None = None


@dataclass
class HttpsServer:
    """Serves ``routes`` (path -> how to answer) over TLS; anything else is fetched from
    ``upstream`` (a plain-http server) and relayed, or answered 404."""

    tls: TlsFiles
    host: str = "127.0.0.1"
    upstream: str | None = None
    routes: dict[str, Route] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _sni: threading.local = field(default_factory=threading.local)

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    def url(self, path: str) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}{path}"

    # --- answers ---

    def file(self, path: str, data: bytes, **headers: str) -> None:
        self.routes[path] = lambda h: _answer(h, 200, data, **headers)

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.routes[path] = lambda h: _answer(h, status, b"", Location=location)

    def endless(self, path: str) -> None:
        """A body that never ends (a megabyte of zeros at a time, no length given)."""
        self.routes[path] = lambda h: _stream(h, b"\0" * 1024**2, 0.0)

    def trickle(self, path: str, every: float) -> None:
        """A byte every ``every`` seconds, for ever."""
        self.routes[path] = lambda h: _stream(h, b"x", every)

    def hang(self, path: str) -> None:
        """Accept the request and never answer it (until the client gives up)."""
        self.routes[path] = lambda h: _wait_for_close(h)

    # --- running ---

    @contextmanager
    def running(self) -> Iterator[HttpsServer]:
        context = self.tls.server_context()
        context.sni_callback = self._remember_sni
        server = _TlsHttpServer((self.host, 0), self._handler(), context)
        self._server = server
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
            thread.join(10)

    def _remember_sni(self, sock: ssl.SSLObject, name: str | None, _: ssl.SSLContext) -> None:
        self._sni.name = name

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                owner._sni.name = None
                self.request.do_handshake()
                self.sni = owner._sni.name
                super().setup()

            def do_GET(self) -> None:
                encoding = self.headers.get("Accept-Encoding")
                owner.seen.append(Seen(self.path, self.headers.get("Host", ""), self.sni, encoding))
                route = owner.routes.get(self.path)
                if route is not None:
                    route(self)
                elif owner.upstream is not None:
                    _relay(self, owner.upstream + self.path)
                else:
                    _answer(self, 404, b"not here")

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


class _TlsHttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        context: ssl.SSLContext,
    ) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, handler)
        self.socket = context.wrap_socket(
            self.socket, server_side=True, do_handshake_on_connect=False
        )

    def server_bind(self) -> None:  # no reverse DNS look-up of the address
        self.socket.bind(self.server_address)
        self.server_address = self.socket.getsockname()[:2]
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hangs up mid-body is what several tests do on purpose


def _answer(handler: BaseHTTPRequestHandler, status: int, body: bytes, **headers: str) -> None:
    handler.send_response(status)
    for name, value in {"Content-Length": str(len(body)), **headers}.items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


def _stream(handler: BaseHTTPRequestHandler, block: bytes, every: float) -> None:
    handler.send_response(200)
    handler.send_header("Connection", "close")
    handler.end_headers()
    handler.close_connection = True
    try:
        while True:
            handler.wfile.write(block)
            handler.wfile.flush()
            if every:
                time.sleep(every)
    except OSError:
        return  # the client stopped reading: what the test wanted


def _wait_for_close(handler: BaseHTTPRequestHandler) -> None:
    handler.close_connection = True
    try:
        handler.rfile.read(1)  # blocks until the client hangs up
    except OSError:
        return


def _relay(handler: BaseHTTPRequestHandler, url: str) -> None:
    with urllib.request.urlopen(url, timeout=30) as upstream:
        _answer(handler, upstream.status, upstream.read())


# --- a socket that records who connects ---------------------------------------------------


class ConnectionRecorder:
    """A listening TCP socket that accepts, records the peer and hangs up: no connection
    it did not see was ever made."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.sock.settimeout(0.05)
        self.host, self.port = host, self.sock.getsockname()[1]
        self.peers: list[object] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, peer = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.peers.append(peer)
            conn.close()

    def __enter__(self) -> ConnectionRecorder:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()

    def url(self, path: str = "/internal", scheme: str = "https") -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}{path}"

    def connections(self) -> int:
        """How many connections arrived (waiting a moment for one still in the backlog)."""
        deadline = time.monotonic() + 0.3
        while not self.peers and time.monotonic() < deadline:
            time.sleep(0.02)
        return len(self.peers)
