"""How long the commands that read the store take: `vwaza release list` against
`sqlite-utils rows` of the same table (the peer a scripter would pick), and `release list` /
`review list` on 100,000 releases against the same command on 10 (what a big store adds
above start-up), on SQLite and on PostgreSQL.

The stores are made by the CLI (init, accounts, one release), then filled with plain SQL
copies of that release. Every case runs in turn, interleaved, and each figure is a ratio or
a difference of medians taken in the same run. Prints the figures and the aims (PASS/MISS);
asserts nothing.

Run: .venv/bin/python benchmarks/store_commands.py [--runs N] [--quick] [--no-postgres]
     [--aims-json PATH]; PostgreSQL at VWAZA_BENCH_PG_URL (default the local test server).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from aims import Aim, add_aims_json, interleaved_medians, print_aims, write_aims

PG_SERVER = os.environ.get("VWAZA_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
PASSWORD = "benchmark password"
PEER_AIM, PEER_MOONSHOT, BIG_STORE_AIM_S = 1.5, 1.0, 0.1
SMALL, PEER_SIZE, BIG = 10, 1_000, 100_000


def vwaza() -> list[str]:
    script = Path(sys.executable).with_name("vwaza")
    return [str(script)] if script.exists() else [sys.executable, "-m", "vwaza_cli"]


@dataclass
class Store:
    """A store with an admin and the artist Ada, whose releases fill it."""

    url: str
    environment: dict[str, str]
    ada: str
    admin: str

    def env_of(self, token: str) -> dict[str, str]:
        return {**self.environment, "VWAZA_TOKEN": token}

    def run(self, *args: str, token: str | None = None, stdin: str = "") -> str:
        environment = self.environment if token is None else self.env_of(token)
        done = subprocess.run(
            [*vwaza(), *args], input=stdin, capture_output=True, text=True, env=environment
        )
        if done.returncode != 0:
            raise SystemExit(f"vwaza {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout


def make_store(home: Path, url: str) -> Store:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("VWAZA_")}
    environment.update(
        VWAZA_HOME=str(home), VWAZA_DATABASE_URL=url, VWAZA_BCRYPT_ROUNDS="4", NO_COLOR="1"
    )
    store = Store(url, environment, "", "")
    store.run("init", "--admin-email", "admin@example.com", "--password-stdin",
              stdin=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    store.admin = _login(store, "admin@example.com")
    (home / "auth" / "session.json").unlink()  # Ada's login would revoke the one it replaces
    store.run("auth", "register", "--email", "ada@example.com", "--artist-name", "Ada",
              "--password-stdin", stdin=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip
    store.ada = _login(store, "ada@example.com")
    return store


def _login(store: Store, email: str) -> str:
    out = store.run("auth", "login", "--email", email, "--password-stdin", "--json",
                    stdin=f"{PASSWORD}\n")  # fmt: skip
    token: str = json.loads(out)["token"]
    return token


def fill(store: Store, count: int) -> None:
    """``count`` releases of Ada's, copies of one the CLI made, a quarter pending review."""
    made = json.loads(store.run("release", "create", "Template", "--genre", "Pop", "--json",
                                token=store.ada))  # fmt: skip
    if store.url.startswith("sqlite"):
        _fill_sqlite(Path(store.url.removeprefix("sqlite:///")), made["id"], count)
    else:
        _fill_postgresql(store.url, made["id"], count)


def _fill_sqlite(path: Path, template: str, count: int) -> None:
    import sqlite3

    connection = sqlite3.connect(path)
    with connection:
        connection.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            "INSERT INTO releases (id, artist_id, title, genre, cover_art, status, external_id,"
            " rejection_reason, created_at, updated_at, submitted_at) "
            "SELECT printf('%08x-0000-4000-8000-%012x', i, i), artist_id, title || ' ' || i,"
            " genre, cover_art, CASE WHEN i % 4 = 0 THEN 'PENDING_REVIEW' ELSE status END,"
            " NULL, NULL, strftime('%Y-%m-%d %H:%M:%f', '2026-01-01', '+' || i || ' seconds'),"
            " strftime('%Y-%m-%d %H:%M:%f', '2026-01-01', '+' || i || ' seconds'), NULL "
            "FROM n, releases WHERE releases.id = ?",
            (count, template),
        )
        connection.execute("DELETE FROM releases WHERE id = ?", (template,))
    connection.execute("ANALYZE")
    connection.close()


def _fill_postgresql(url: str, template: str, count: int) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        connection.execute(
            "INSERT INTO releases (id, artist_id, title, genre, cover_art, status, external_id,"
            " rejection_reason, created_at, updated_at, submitted_at) "
            "SELECT lpad(to_hex(i), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(i), 12, '0'),"
            " artist_id, title || ' ' || i, genre, cover_art,"
            " CASE WHEN i %% 4 = 0 THEN 'PENDING_REVIEW' ELSE status END, NULL, NULL,"
            " timestamp '2026-01-01' + i * interval '1 second',"
            " timestamp '2026-01-01' + i * interval '1 second', NULL "
            "FROM generate_series(1, %s) AS i, releases WHERE releases.id = %s",
            (count, template),
        )
        connection.execute("DELETE FROM releases WHERE id = %s", (template,))
        connection.commit()
        connection.execute("ANALYZE releases")


@contextmanager
def postgres_database() -> Iterator[str]:
    """A database of its own on the PostgreSQL server, dropped after."""
    import psycopg

    name = f"vwaza_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_SERVER, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_SERVER.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_SERVER, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_reachable() -> bool:
    try:
        import psycopg

        psycopg.connect(PG_SERVER, connect_timeout=3).close()
    except Exception:
        return False
    return True


Cases = dict[str, tuple[list[str], dict[str, str]]]


def checked(cases: Cases) -> Cases:
    """Each case run once first: a benchmark timing an error would say nothing."""
    for name, (argv, environment) in cases.items():
        done = subprocess.run(argv, capture_output=True, text=True, env=environment)
        if done.returncode != 0:
            raise SystemExit(f"{name}: exit {done.returncode}: {done.stderr.strip()}")
    return cases


def timed(cases: Cases, runs: int) -> dict[str, float]:
    return interleaved_medians(
        {name: argv for name, (argv, _) in cases.items()},
        runs,
        env_of={name: environment for name, (_, environment) in cases.items()},
    )


def peer_cases(store: Store) -> Cases:
    path = store.url.removeprefix("sqlite:///")
    peer = str(Path(sys.executable).with_name("sqlite-utils"))
    ada = store.env_of(store.ada)
    return {
        "sqlite-utils rows releases": ([peer, "rows", path, "releases"], store.environment),
        "release list --json --limit 1000": (
            [*vwaza(), "release", "list", "--json", "--limit", str(PEER_SIZE)], ada),
        "release list (a page of 100, table)": ([*vwaza(), "release", "list"], ada),
    }  # fmt: skip


def big_store_cases(engine: str, small: Store, big: Store) -> Cases:
    cases: Cases = {}
    for size, store in (("10", small), ("100k", big)):
        ada, admin = store.env_of(store.ada), store.env_of(store.admin)
        cases[f"{engine} {size}: release list --json"] = (
            [*vwaza(), "release", "list", "--json"],
            ada,
        )
        cases[f"{engine} {size}: release list --all --json"] = (
            [*vwaza(), "release", "list", "--all", "--json"],
            admin,
        )
        cases[f"{engine} {size}: review list --json"] = (
            [*vwaza(), "review", "list", "--json"], admin)  # fmt: skip
    deep = [*vwaza(), "release", "list", "--json", "--offset", str(BIG - 100)]
    cases[f"{engine} 100k: release list --offset 99900"] = (deep, big.env_of(big.ada))
    return cases


def peer_aims(times: dict[str, float]) -> list[Aim]:
    ratio = times["release list --json --limit 1000"] / times["sqlite-utils rows releases"]
    shown = f"{ratio:.2f}x"
    return [
        Aim("release list (SQLite, 1,000) / sqlite-utils rows", shown, f"<= {PEER_AIM}x",
            ratio <= PEER_AIM),
        Aim("release list / sqlite-utils rows, moonshot", shown, f"<= {PEER_MOONSHOT}x",
            ratio <= PEER_MOONSHOT),
    ]  # fmt: skip


def big_store_aims(engine: str, times: dict[str, float]) -> list[Aim]:
    found = []
    for command in ("release list --json", "release list --all --json", "review list --json"):
        above = times[f"{engine} 100k: {command}"] - times[f"{engine} 10: {command}"]
        found.append(
            Aim(
                f"{command.removesuffix(' --json')} ({engine}, 100,000), above 10",
                f"{above * 1000:+.0f} ms",
                f"< {BIG_STORE_AIM_S * 1000:.0f} ms",
                above < BIG_STORE_AIM_S,
            )
        )
    return found


def print_times(title: str, times: dict[str, float], anchor: str | None = None) -> None:
    print(f"\n{title}")
    for name, seconds in times.items():
        extra = f"   {seconds / times[anchor]:4.2f}x" if anchor else ""
        print(f"  {name:48s} {seconds * 1000:7.1f} ms{extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="7 runs instead of 15")
    parser.add_argument("--no-postgres", action="store_true")
    add_aims_json(parser)
    options = parser.parse_args()
    runs = 7 if options.quick else options.runs
    aims: list[Aim] = []
    with tempfile.TemporaryDirectory(prefix="vwaza-store-bench-") as folder:
        root = Path(folder)
        peer = make_store(root / "peer", f"sqlite:///{root / 'peer.db'}")
        fill(peer, PEER_SIZE)
        times = timed(checked(peer_cases(peer)), runs)
        print_times(f"SQLite, {PEER_SIZE} releases, median of {runs} interleaved runs", times,
                    "sqlite-utils rows releases")  # fmt: skip
        aims += peer_aims(times)
        engines = ["sqlite"]
        if not options.no_postgres and postgres_reachable():
            engines.append("postgresql")
        for engine in engines:
            aims += big_store_run(engine, root, runs)
    print_aims(aims)
    write_aims(options.aims_json, aims)


def big_store_run(engine: str, root: Path, runs: int) -> list[Aim]:
    with _urls(engine, root) as (small_url, big_url):
        small = make_store(root / f"{engine}-small", small_url)
        fill(small, SMALL)
        big = make_store(root / f"{engine}-big", big_url)
        fill(big, BIG)
        times = timed(checked(big_store_cases(engine, small, big)), runs)
    print_times(f"{engine}: {SMALL} and {BIG:,} releases, median of {runs} interleaved runs",
                times)  # fmt: skip
    return big_store_aims(engine, times)


@contextmanager
def _urls(engine: str, root: Path) -> Iterator[tuple[str, str]]:
    if engine == "sqlite":
        yield f"sqlite:///{root / 'small.db'}", f"sqlite:///{root / 'big.db'}"
        return
    with postgres_database() as small, postgres_database() as big:
        yield small, big


if __name__ == "__main__":
    main()
