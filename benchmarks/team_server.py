"""Team mode's figures: the start-up of `vwaza release list` through a server against the same
command on this machine's store, and the rate of a 1 GB `track add` to a server on loopback
against a plain streaming upload of the same file.

Everything is real: `vwaza serve` in its own process over a SQLite store, the CLI as a client
process of its own (VWAZA_SERVER and a session, no store), and as the baseline a bare uvicorn
app that writes the streamed body to disk and fsyncs it, fed by httpx streaming the same file
in 1 MiB pieces (what the CLI's client does, without any check on either side).

A `track add` through the server is the upload plus what the server must do before it answers
(decode-through check of the whole file, copy into the spool with its SHA-256, fsync): so the
same `track add` on this machine is printed too, and the remote figure against plain + local.

Aims (issue 13): remote start-up near a bare Typer app's; upload rate >= 0.8x the plain
upload. Prints figures, ratios, PASS/MISS and the machine's load; asserts nothing.
Run: .venv/bin/python benchmarks/team_server.py [--size-mb 1024] [--runs 7]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
MIB = 1024 * 1024
AIM_UPLOAD_RATIO = 0.8
PASSWORD = "benchmark password"

BARE_TYPER = """
import typer
app = typer.Typer()
@app.command()
def hello(name: str = "x") -> None:
    '''Say hello.'''
app()
"""

PLAIN_SERVER = """
import os, sys, uvicorn
target = sys.argv[2]
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    more = True
    while more:
        message = await receive()
        body = message.get("body", b"")
        view = memoryview(body)
        while view:
            view = view[os.write(fd, view):]
        more = message.get("more_body", False)
    os.fsync(fd)
    os.close(fd)
    await send({"type": "http.response.start", "status": 201, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""

PLAIN_CLIENT = """
import sys, httpx
def pieces(path):
    with open(path, "rb") as fh:
        while piece := fh.read(1024 * 1024):
            yield piece
with httpx.Client(timeout=600) as client:
    client.post(sys.argv[1], content=pieces(sys.argv[2])).raise_for_status()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited early ({process.returncode})")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit("server did not start")


def make_wav(path: Path, size_mb: int) -> Path:
    """A 16-bit stereo 44.1 kHz WAV of about ``size_mb`` MiB, written a second at a time."""
    frames_per_second = 44100
    second = bytes(frames_per_second * 4)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(frames_per_second)
        for _ in range(size_mb * MIB // len(second)):
            out.writeframes(second)
    return path


def run(argv: list[str], env: dict[str, str], stdin: str | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, input=stdin, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:6])} failed: {done.stderr.strip()}")
    return seconds


def median(argv: list[str], env: dict[str, str], runs: int) -> float:
    return statistics.median(run(argv, env) for _ in range(runs))


def vwaza(*args: str) -> list[str]:
    return [PYTHON, "-m", "vwaza_cli", *args]


def peak_rss_mb_of_children() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=7)
    options = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="vwaza-team-bench-") as scratch:
        measure(Path(scratch), options.size_mb, options.runs)


def measure(root: Path, size_mb: int, runs: int) -> None:
    server_env = store_with_artist(root / "server")
    with serving(server_env) as server:
        client_env = client_of(server.url, root / "client")
        startup(server_env, client_env, runs)
        upload(root, server_env, client_env, size_mb)


def clean_environment() -> dict[str, str]:
    """This process's environment without any VWAZA_ or SUPABASE_ setting."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("VWAZA_", "SUPABASE_"))}


def store_with_artist(home: Path) -> dict[str, str]:
    """A new SQLite store under ``home`` with the artist Ada in it, logged in: the
    environment of a CLI on that machine."""
    env = {**clean_environment(), "VWAZA_HOME": str(home), "VWAZA_BCRYPT_ROUNDS": "10"}
    run(
        vwaza("init", "--admin-email", "admin@example.com", "--password-stdin"),
        env,
        PASSWORD + "\n",
    )
    run(
        vwaza(
            "auth",
            "register",
            "--email",
            "ada@example.com",
            "--artist-name",
            "Ada",
            "--password-stdin",
        ),
        env,
        PASSWORD + "\n",
    )
    run(
        vwaza("auth", "login", "--email", "ada@example.com", "--password-stdin"),
        env,
        PASSWORD + "\n",
    )
    return env


@dataclass(frozen=True)
class Served:
    url: str
    process: subprocess.Popen[bytes]


@contextlib.contextmanager
def serving(server_env: dict[str, str]) -> Iterator[Served]:
    """`vwaza serve` over that store on a free loopback port, until the block ends."""
    port = free_port()
    server = subprocess.Popen(
        vwaza("serve", "--port", str(port)),
        env=server_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_listening(port, server)
        yield Served(f"http://127.0.0.1:{port}", server)
    finally:
        server.terminate()
        server.wait(timeout=60)


def client_of(url: str, home: Path) -> dict[str, str]:
    """The environment of a CLI that is a client of that server, Ada logged in."""
    env = {**clean_environment(), "VWAZA_HOME": str(home), "VWAZA_SERVER": url}
    run(
        vwaza("auth", "login", "--email", "ada@example.com", "--password-stdin"),
        env,
        PASSWORD + "\n",
    )
    return env


def startup(local_env: dict[str, str], remote_env: dict[str, str], runs: int) -> None:
    bare = median([PYTHON, "-c", BARE_TYPER, "--help"], local_env, runs)
    local = median(vwaza("release", "list", "--json"), local_env, runs)
    remote = median(vwaza("release", "list", "--json"), remote_env, runs)
    print(f"\nstart-up, median of {runs} runs")
    print(f"  bare Typer app --help          {bare * 1000:7.1f} ms")
    print(f"  vwaza release list (local)     {local * 1000:7.1f} ms   {local / bare:4.2f}x bare")
    print(
        f"  vwaza release list (remote)    {remote * 1000:7.1f} ms   {remote / bare:4.2f}x bare"
        f"   {remote / local:4.2f}x local"
    )
    print(
        f"  aim: remote near the bare app: {remote / bare:.2f}x "
        f"({'PASS' if remote / bare <= 2.0 else 'MISS'} at 2x)"
    )


def upload(
    root: Path, server_env: dict[str, str], client_env: dict[str, str], size_mb: int
) -> None:
    media = root / "media"
    media.mkdir()
    wav = make_wav(media / "long.wav", size_mb)
    size = wav.stat().st_size
    print(f"\nupload of a {size / MIB:.0f} MiB WAV on loopback")
    plain = plain_upload(root, wav)
    remote_release = release_for(client_env)
    remote = run(vwaza("track", "add", remote_release, str(wav), "--json"), client_env)
    local_release = release_for(server_env)
    local = run(vwaza("track", "add", local_release, str(wav), "--json"), server_env)
    rate = lambda seconds: size / MIB / seconds  # noqa: E731
    print(
        f"  plain streaming upload (httpx -> uvicorn -> disk)  {plain:6.2f} s  "
        f"{rate(plain):7.1f} MiB/s"
    )
    print(
        f"  vwaza track add on this machine (checks + spool)  {local:6.2f} s  "
        f"{rate(local):7.1f} MiB/s"
    )
    print(
        f"  vwaza track add through the server                {remote:6.2f} s  "
        f"{rate(remote):7.1f} MiB/s"
    )
    ratio = plain / remote
    print(
        f"  rate through the server / plain upload: {ratio:.2f} "
        f"({'PASS' if ratio >= AIM_UPLOAD_RATIO else 'MISS'} at {AIM_UPLOAD_RATIO})"
    )
    print(
        f"  through the server / (plain + local): {(plain + local) / remote:.2f} "
        "(1.00: the server adds nothing to what the upload and the checks cost)"
    )
    print(
        f"  peak RSS of any child process (client CLIs, plain side): "
        f"{peak_rss_mb_of_children():.0f} MB"
    )


def release_for(env: dict[str, str]) -> str:
    done = subprocess.run(
        vwaza("release", "create", "Long Night", "--genre", "Ambient", "--json"),
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return str(__import__("json").loads(done.stdout)["id"])


def plain_upload(root: Path, wav: Path) -> float:
    port = free_port()
    target = root / "plain-received.bin"
    server = subprocess.Popen([PYTHON, "-c", PLAIN_SERVER, str(port), str(target)])
    try:
        wait_until_listening(port, server)
        return run(
            [PYTHON, "-c", PLAIN_CLIENT, f"http://127.0.0.1:{port}/", str(wav)], dict(os.environ)
        )
    finally:
        server.terminate()
        server.wait(timeout=60)
        target.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
