"""The download guard (storage/download.py): https only, public addresses only (every address
a name has, after every redirect), pinned to the checked address, bounded in time, and the
same words for every server it cannot reach. Against real sockets on loopback."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.https_server import ConnectionRecorder, HttpsServer, TlsFiles, write_tls_files
from vwaza_cli.errors import InvalidMedia
from vwaza_cli.storage import download

BODY = b"RIFF" + bytes(range(256)) * 64


@pytest.fixture
def tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TlsFiles:
    pytest.importorskip("cryptography")
    files = write_tls_files(tmp_path / "tls")
    monkeypatch.setenv("SSL_CERT_FILE", str(files.ca))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    return files


@pytest.fixture
def server(tls: TlsFiles) -> Iterator[HttpsServer]:
    with HttpsServer(tls).running() as running:
        running.file("/song.wav", BODY)
        yield running


@pytest.fixture
def recorder() -> Iterator[ConnectionRecorder]:
    with ConnectionRecorder() as listening:
        yield listening


def fetch(url: str, allow_private: bool = False, chunk: int = 4096) -> bytes:
    return download.with_download(url, chunk, b"".join, allow_private=allow_private)


def refusal(url: str, allow_private: bool = False) -> str:
    with pytest.raises(InvalidMedia) as caught:
        fetch(url, allow_private)
    return caught.value.message


def fake_dns(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[list[str]]]) -> list[str]:
    """Names resolve to the next list of addresses in ``answers`` (the last one repeats; an
    empty one: no such name); every other name (and every IP) as usual. Returns the names
    looked up, in order."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host not in answers:
            return real(host, port, *args, **kwargs)
        asked.append(host)
        queue = answers[host]
        addresses = queue.pop(0) if len(queue) > 1 else queue[0]
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


# --- which addresses are public -----------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.2.1",  # documentation
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",  # unique-local
        "fec0::1",  # site-local, deprecated but routed by some
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:10.0.0.1",
        "::127.0.0.1",  # IPv4-compatible
        "2002:7f00:1::",  # 6to4 around 127.0.0.1
        "2002:a00:1::1",  # 6to4 around 10.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 to 169.254.169.254
        "2001:db8::1",
    ],
)
def test_local_and_special_addresses_are_not_public(address: str) -> None:
    assert not download.is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "2002:808:808::"]
)
def test_global_unicast_addresses_are_public(address: str) -> None:
    assert download.is_public(ipaddress.ip_address(address))


# --- refused before any connection ----------------------------------------------------------


@pytest.mark.parametrize(
    "form",
    [
        "https://127.0.0.1:{port}/internal",
        "https://localhost:{port}/internal",
        "https://2130706433:{port}/internal",  # 127.0.0.1 as one number
        "https://0x7f.1:{port}/internal",
        "https://[::ffff:127.0.0.1]:{port}/internal",
        "HTTPS://LOCALHOST:{port}/internal",
    ],
)
def test_a_loopback_target_is_refused_without_a_connection(
    recorder: ConnectionRecorder, form: str
) -> None:
    message = refusal(form.format(port=recorder.port))
    assert "could not download it: it is not on a public address" in message
    assert "VWAZA_ALLOW_PRIVATE_URLS=1" in message
    assert recorder.connections() == 0


@pytest.mark.parametrize("allow_private", [False, True])
def test_plain_http_is_refused_without_a_connection(
    recorder: ConnectionRecorder, allow_private: bool
) -> None:
    url = recorder.url(scheme="http")
    expected = f"{url}: could not download it: only https:// URLs are downloaded"
    assert refusal(url, allow_private) == expected
    assert recorder.connections() == 0


def test_the_setting_lets_a_loopback_target_be_reached(recorder: ConnectionRecorder) -> None:
    """The recorder does see a connection when one is allowed: the tests above are not
    passing because nothing could connect."""
    refusal(recorder.url(), allow_private=True)
    assert recorder.connections() == 1


def test_a_name_is_refused_when_any_of_its_addresses_is_private(
    server: HttpsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_dns(monkeypatch, {"files.test": [["127.0.0.1", "127.0.0.2"]]})
    monkeypatch.setattr(download, "is_public", lambda a: str(a) == "127.0.0.1")
    message = refusal(f"https://files.test:{server.port}/song.wav")
    assert "not on a public address" in message
    assert server.seen == []


# --- fetched, and pinned --------------------------------------------------------------------


def test_an_allowed_https_file_is_fetched_whole(server: HttpsServer) -> None:
    assert fetch(server.url("/song.wav"), allow_private=True) == BODY


def test_blocks_are_at_most_the_chunk_asked_for(server: HttpsServer) -> None:
    sizes = download.with_download(
        server.url("/song.wav"), 1000, lambda blocks: [len(b) for b in blocks], allow_private=True
    )
    assert max(sizes) <= 1000
    assert sum(sizes) == len(BODY)


def test_the_connection_goes_to_the_address_that_was_checked(
    server: HttpsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the name answers a checked address once, then another. Only the first
    answer is used; the certificate is checked for the name, sent as SNI and Host."""
    with ConnectionRecorder("127.0.0.2") as elsewhere:
        asked = fake_dns(monkeypatch, {"files.test": [["127.0.0.1"], ["127.0.0.2"]]})
        assert fetch(f"https://files.test:{server.port}/song.wav", allow_private=True) == BODY
        assert elsewhere.connections() == 0
    assert asked == ["files.test"]
    assert [(s.host, s.sni) for s in server.seen] == [(f"files.test:{server.port}", "files.test")]


def test_the_next_checked_address_is_tried_when_one_refuses(
    server: HttpsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.3", server.port))  # bound, never listening: connections refused
    try:
        fake_dns(monkeypatch, {"files.test": [["127.0.0.3", "127.0.0.1"]]})
        assert fetch(f"https://files.test:{server.port}/song.wav", allow_private=True) == BODY
    finally:
        closed.close()


def test_a_certificate_for_another_name_is_refused(
    server: HttpsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_dns(monkeypatch, {"other.test": [["127.0.0.1"]]})
    url = f"https://other.test:{server.port}/song.wav"
    assert refusal(url, allow_private=True) == f"{url}: could not download it"


# --- redirects ------------------------------------------------------------------------------


def test_redirects_are_followed_to_the_file(server: HttpsServer) -> None:
    server.redirect("/a", "/b", 301)
    server.redirect("/b", server.url("/song.wav"), 307)
    assert fetch(server.url("/a"), allow_private=True) == BODY


def test_a_redirect_to_a_private_address_is_refused_before_connecting(
    server: HttpsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(download, "is_public", lambda a: str(a) == "127.0.0.1")  # the server
    with ConnectionRecorder("127.0.0.2") as internal:
        server.redirect("/go", internal.url())
        assert "not on a public address" in refusal(server.url("/go"))
        assert internal.connections() == 0
    assert [s.path for s in server.seen] == ["/go"]


def test_a_redirect_to_plain_http_is_refused(
    server: HttpsServer, recorder: ConnectionRecorder
) -> None:
    server.redirect("/go", recorder.url(scheme="http"))
    assert "only https://" in refusal(server.url("/go"), allow_private=True)
    assert recorder.connections() == 0


def test_a_redirect_loop_stops_after_five_hops(server: HttpsServer) -> None:
    server.redirect("/loop", "/loop")
    assert "more than 5 redirects" in refusal(server.url("/loop"), allow_private=True)
    assert len(server.seen) == download.MAX_REDIRECTS + 1


# --- bounded, and saying nothing about ports ------------------------------------------------


def test_a_download_that_takes_too_long_is_cut_off(
    server: HttpsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(download, "DEADLINE_SECONDS", 0.5)
    server.trickle("/slow", every=0.02)  # never a read timeout, never an end
    assert "took longer than 0.5 seconds" in refusal(server.url("/slow"), allow_private=True)


def test_the_size_is_capped_by_the_consumer_while_streaming(server: HttpsServer) -> None:
    server.endless("/forever")
    seen = 0

    def consume(blocks: Iterator[bytes]) -> int:
        nonlocal seen
        for block in blocks:
            seen += len(block)
            if seen > 5 * 1024**2:
                raise InvalidMedia("too big")
        return seen

    with pytest.raises(InvalidMedia, match="too big"):
        download.with_download(server.url("/forever"), 1024**2, consume, allow_private=True)
    assert seen <= 6 * 1024**2


def test_every_unreachable_server_reads_the_same(
    tls: TlsFiles, server: HttpsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A closed port, a port that hangs up, one that speaks something else, one that never
    answers, a failed handshake: one message, so the errors cannot map a network's ports."""
    monkeypatch.setattr(download, "READ_SECONDS", 0.5)
    fake_dns(monkeypatch, {"no-such-host.test": [[]]})
    server.hang("/hang")
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    with ConnectionRecorder() as hangs_up, _speaks("SSH-2.0-OpenSSH_9.6\r\n") as ssh:
        monkeypatch.delenv("SSL_CERT_FILE")  # the server's certificate is now untrusted
        untrusted = refusal(server.url("/song.wav"), allow_private=True)
        monkeypatch.setenv("SSL_CERT_FILE", str(tls.ca))
        messages = {
            refusal(f"https://127.0.0.1:{closed_port}/x", allow_private=True),
            refusal(f"https://127.0.0.1:{hangs_up.port}/x", allow_private=True),
            refusal(f"https://127.0.0.1:{ssh}/x", allow_private=True),
            refusal(server.url("/hang"), allow_private=True),
            untrusted,
            refusal("https://no-such-host.test/x", allow_private=True),
        }
    assert {m.split(": ", 1)[1] for m in messages} == {"could not download it"}


def test_a_compressed_answer_is_refused_rather_than_inflated(server: HttpsServer) -> None:
    server.file("/bomb", b"\x1f\x8b\x08\x00", **{"Content-Encoding": "gzip"})
    assert refusal(server.url("/bomb"), allow_private=True).endswith("asked not to)")
    assert [(s.path, s.accept_encoding) for s in server.seen] == [("/bomb", "identity")]


def test_an_error_status_is_said_once_the_server_answered(server: HttpsServer) -> None:
    assert refusal(server.url("/missing"), allow_private=True).endswith(
        "could not download it (the server answered HTTP 404)"
    )


class _speaks:
    """A port that greets every connection with ``banner`` and closes it."""

    def __init__(self, banner: str) -> None:
        import threading

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.banner = banner.encode()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.sendall(self.banner)
            conn.close()

    def __enter__(self) -> int:
        self.thread.start()
        return int(self.sock.getsockname()[1])

    def __exit__(self, *exc_info: object) -> None:
        self.sock.close()
