"""`vwaza catalog import` through a team server on loopback, against the same import on one
machine (the baseline, "local import").

The label folder is catalog_import.py's (default 50 releases x 4 tracks): short real WAVs
(0.10-0.20 s, mono, 44.1 kHz, 16-bit), a distinct 1000 px JPEG cover per release, a JSON
catalog. Everything is real and in processes of their own, as in team_server.py: the local
import is `vwaza catalog import --json` over a new SQLite store; the remote one is the same
command as a client (VWAZA_SERVER and a session, no store) of `vwaza serve` over a new
SQLite store on a free port of 127.0.0.1. The client sends the catalog and each distinct
file once, then the server imports from its copies. Each run uses new stores (and a new
server); local and remote runs alternate; the filesystem is flushed (sync) before each.

Printed for each: wall time, releases/s, MB/s of audio (the WAVs' bytes; MB = 10^6 bytes)
and of all files, the client's peak RSS (wait4) and, remote, the server's peak RSS during
the import (VmHWM of /proc/<pid>/status, reset just before through clear_refs) and its CPU.

This benchmark's own aim: remote <= 1.5x local (median wall time). Then a re-run of the same
import through the server (every release already there, so skipped) should send only the
catalog: its time, and the bytes it sent, counted by a relay between client and server (the
catalog's size beside it; the HTTP requests' heads and JSON bodies are the rest). The same
re-run on one machine is printed for comparison. Prints figures, ratio, PASS/MISS and the
machine's load; asserts nothing.
Run: .venv/bin/python benchmarks/team_catalog.py [--releases 50] [--tracks 4] [--runs 3]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from catalog_import import Label, _cli_import, _settle, make_label
from team_server import Served, client_of, serving, store_with_artist

AIM_REMOTE_RATIO = 1.5  # remote wall time / local wall time
MB = 1e6


@dataclass(frozen=True)
class Run:
    seconds: float
    client_peak_mb: float
    server_peak_mb: float | None = None  # remote runs only
    server_cpu: float | None = None  # seconds of the server's CPU, remote runs only
    bytes_up: int | None = None  # client -> server, when counted by the relay


# --- the server's figures, from /proc ---------------------------------------------------------


def reset_peak_rss(pid: int) -> bool:
    """Set the process's VmHWM back to its current RSS (Linux: 5 > clear_refs)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024  # kB
    raise KeyError(field)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


# --- counting the bytes a client sends ---------------------------------------------------------


class CountingRelay:
    """A loopback TCP relay to the server, counting the bytes each way."""

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.up = self.down = self.connections = 0
        self.lock = threading.Lock()
        self.threads: list[threading.Thread] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.connections += 1
            for source, sink, up in ((client, upstream, True), (upstream, client, False)):
                thread = threading.Thread(target=self._pump, args=(source, sink, up), daemon=True)
                thread.start()
                self.threads.append(thread)

    def _pump(self, source: socket.socket, sink: socket.socket, up: bool) -> None:
        try:
            while data := source.recv(256 * 1024):
                sink.sendall(data)
                with self.lock:
                    if up:
                        self.up += len(data)
                    else:
                        self.down += len(data)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self.listener.close()
        for thread in self.threads:
            thread.join(timeout=10)


@contextlib.contextmanager
def relayed(server: Served) -> Iterator[CountingRelay]:
    relay = CountingRelay(int(server.url.rsplit(":", 1)[1]))
    try:
        yield relay
    finally:
        relay.close()


# --- the imports -----------------------------------------------------------------------------


def cli_import(env: dict[str, str], label: Label, result: str) -> tuple[float, float]:
    """`vwaza catalog import --json` in its own process: its seconds and peak RSS (MB). Every
    release must come out as ``result`` ("created" or "skipped")."""
    _settle()
    peak, seconds, report = _cli_import(env, label.catalog)
    if report is None or report.get(result) != label.releases:
        raise SystemExit(f"the import did not report {label.releases} {result}: {report}")
    return seconds, peak


def local_run(root: Path, label: Label) -> tuple[Run, dict[str, str]]:
    env = store_with_artist(root)
    seconds, peak = cli_import(env, label, "created")
    return Run(seconds, peak), env


def remote_import(server: Served, env: dict[str, str], label: Label, result: str) -> Run:
    pid = server.process.pid
    peak_reset = reset_peak_rss(pid)
    cpu = cpu_seconds(pid)
    seconds, peak = cli_import(env, label, result)
    server_peak = status_mb(pid, "VmHWM") if peak_reset else None
    return Run(seconds, peak, server_peak, cpu_seconds(pid) - cpu)


def remote_run(root: Path, label: Label, rerun: bool) -> tuple[Run, list[Run]]:
    """The import through a new server; with ``rerun``, then the same import twice more
    (everything skipped): straight to the server, and through the counting relay."""
    with serving(store_with_artist(root / "server")) as server:
        env = client_of(server.url, root / "client")
        idle = status_mb(server.process.pid, "VmRSS")
        first = remote_import(server, env, label, "created")
        _say(f"  server RSS before the import {idle:.0f} MB")
        reruns = []
        if rerun:
            reruns.append(remote_import(server, env, label, "skipped"))
            with relayed(server) as relay:
                counted = remote_import(
                    server, {**env, "VWAZA_SERVER": relay.url}, label, "skipped"
                )
            _say(f"  relay: {relay.connections} connection(s), {relay.down:,} bytes back")
            reruns.append(replace(counted, bytes_up=relay.up))
        return first, reruns


# --- report -----------------------------------------------------------------------------------


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _mb(value: float | None) -> str:
    return "      -" if value is None else f"{value:7.0f}"


def print_runs(name: str, runs: list[Run], label: Label, audio: int) -> float:
    """One line: the median wall time and its rates, the highest peaks, every run's time."""
    seconds = statistics.median(r.seconds for r in runs)
    client_peak = max(r.client_peak_mb for r in runs)
    server_peak = max((r.server_peak_mb for r in runs if r.server_peak_mb), default=None)
    cpu = [r.server_cpu for r in runs if r.server_cpu is not None]
    rates = f"{label.releases / seconds:8.1f} {audio / MB / seconds:8.2f}"
    rates += f" {label.total_bytes / MB / seconds:8.2f}"
    print(
        f"  {name:30s} {seconds:7.2f} s {rates} {_mb(client_peak)} {_mb(server_peak)}"
        f"   runs: {', '.join(f'{r.seconds:.2f}' for r in runs)} s"
        + (f"; server CPU {statistics.median(cpu):.2f} s" if cpu else "")
    )
    return seconds


def report(label: Label, local: list[Run], remote: list[Run]) -> None:
    audio = sum(p.stat().st_size for p in label.sources if p.suffix == ".wav")
    print(
        f"\n{'':32s} {'median':>9s} {'rel/s':>8s} {'audio':>8s} {'all':>8s} {'client':>7s} "
        f"{'server':>7s}"
    )
    print(f"{'':32s} {'':>9s} {'':>8s} {'MB/s':>8s} {'MB/s':>8s} {'peak MB':>7s} {'peak MB':>7s}")
    local_s = print_runs("local import (baseline)", local, label, audio)
    remote_s = print_runs("through the server", remote, label, audio)
    ratio = remote_s / local_s
    verdict = "PASS" if ratio <= AIM_REMOTE_RATIO else "MISS"
    print(
        f"  remote / local import: {ratio:.2f}x ({verdict}, aim <= {AIM_REMOTE_RATIO:g}x); "
        f"the server adds {remote_s - local_s:+.2f} s"
    )


def report_reruns(label: Label, local: Run, straight: Run, counted: Run) -> None:
    catalog = label.catalog.stat().st_size
    sent = counted.bytes_up or 0
    smallest = min(p.stat().st_size for p in label.sources)  # any file sent adds at least this
    print(f"\nre-run of the same import (all {label.releases} releases skipped)")
    print(f"  local import (baseline)        {local.seconds:7.2f} s")
    print(f"  through the server             {straight.seconds:7.2f} s")
    print(
        f"  through the server, relayed    {counted.seconds:7.2f} s, {sent:,} bytes sent: the "
        f"catalog is {catalog:,} bytes, the rest {sent - catalog:,} "
        f"({'only the catalog' if sent - catalog < smallest else 'MORE than the catalog'}; "
        f"the first import sends {catalog + label.total_bytes:,} bytes of files and catalog)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=50)
    parser.add_argument("--tracks", type=int, default=4, help="tracks per release")
    parser.add_argument("--runs", type=int, default=3, help="imports of each kind (median)")
    options = parser.parse_args()
    if min(options.releases, options.tracks, options.runs) < 1:
        parser.error("--releases, --tracks and --runs must be 1 or more")
    began = time.perf_counter()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="vwaza-team-catalog-") as scratch:
        root = Path(scratch)
        label = make_label(root / "label", options.releases, options.tracks)
        print(
            f"catalog: {label.releases} releases x {options.tracks} tracks, "
            f"{len(label.sources)} files (WAV 0.10-0.20 s mono 44.1 kHz, a 1000 px JPEG per "
            f"release), {label.total_bytes / MB:.1f} MB; {options.runs} run(s) of each"
        )
        local, remote, reruns = [], [], []
        for n in range(options.runs):
            last = n == options.runs - 1
            _say(f"run {n + 1}: local import")
            done, local_env = local_run(root / f"local-{n}", label)
            local.append(done)
            _say(f"run {n + 1}: import through a server" + (", then re-runs" if last else ""))
            first, again = remote_run(root / f"remote-{n}", label, rerun=last)
            remote.append(first)
            reruns += again
        local_again = Run(*cli_import(local_env, label, "skipped"))
        report(label, local, remote)
        report_reruns(label, local_again, *reruns)
    load = ", ".join(f"{n:.2f}" for n in os.getloadavg())
    print(f"\n{os.cpu_count()} CPUs, load {load}; the run took {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
