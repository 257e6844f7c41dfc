"""The soak (benchmarks/soak.py), short: 30 uploads while the daemon and `track add` are
SIGKILLed 8 times, storage has outages and the spool fills up; nothing may be lost,
duplicated, wrong, stuck or left behind. And its check sees each kind of damage."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import Cli, Media
from tests.daemon.conftest import FAST_RETRIES, job_rows, run_daemon
from tests.support.storage_server import StorageServer

SOAK = Path(__file__).resolve().parents[2] / "benchmarks" / "soak.py"
FIGURES = ("lost", "duplicated objects", "wrong bytes", "stuck jobs", "leftover temp files")
SHORT_RUN = ["--uploads", "30", "--kills", "8", "--seed", "20261202"]


@pytest.mark.slow
def test_a_short_soak_loses_nothing(tmp_path: Path) -> None:
    report = tmp_path / "soak.json"
    done = subprocess.run(
        [sys.executable, str(SOAK), *SHORT_RUN, "--report", str(report)],
        capture_output=True,
        text=True,
        timeout=600,  # about 40 s on 2 cores; the bound only stops a hang
        check=False,
    )
    output = done.stdout + done.stderr
    assert report.exists(), output
    result = json.loads(report.read_text())
    assert result["figures"] == dict.fromkeys(FIGURES, 0), output
    assert done.returncode == 0, output
    assert result["passed"], output
    assert result["uploads"] >= 30
    assert (result["add_kills"], result["daemon_kills"]) == (4, 4), output
    assert result["outages"] >= 2, output
    if "tmpfs" in result["full_disk"]:
        assert result["refused_full"] >= 1, output  # the window was really full


def _soak_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("soak", SOAK)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["soak"] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


def _on_server(server: StorageServer, method: str, key: str, body: bytes | None = None) -> None:
    """Damage done behind the product's back, in the server's own protocol."""
    import httpx

    headers = {"apikey": server.key, "Authorization": f"Bearer {server.key}", "x-upsert": "true"}
    if body is not None:
        headers["Content-Type"] = "audio/wav"
    url = f"{server.storage_url}object/{server.bucket}/{key}"
    httpx.request(method, url, headers=headers, content=body, timeout=10).raise_for_status()


def test_the_soak_check_sees_each_kind_of_damage(
    ada: Cli, media: Media, on_supabase: StorageServer, env: Path
) -> None:
    import sqlalchemy as sa

    from vwaza_cli.db.engine import get_engine
    from vwaza_cli.enums import JobStatus
    from vwaza_cli.services.context import Context

    soak = _soak_module()
    release = ada.ok("release", "create", "Night Drive", "--genre", "Electronic")["id"]
    accepted = []
    for n in range(3):
        path = media.wav(f"take-{n}.wav", seconds=0.2 + n / 10)  # three different files
        job_id = ada.ok("track", "add", release, str(path))["upload_job_id"]
        source = soak.Source(n, path, path.stat().st_size, soak.sha256_of(path))
        accepted.append(soak.Accepted(source, job_id))
    done = run_daemon("--once", *FAST_RETRIES)
    assert done.returncode == 0, done.stderr
    ctx = Context.from_environment()
    storage = soak.TestServerStorage(on_supabase, env / "data" / "storage")

    def figures() -> dict[str, int]:
        return {f.name: f.value for f in soak.check(ctx, storage, accepted)}

    assert figures() == dict.fromkeys(FIGURES, 0)

    keys = {job["id"]: job["object_key"] for job in job_rows()}
    other = media.wav("other.wav", seconds=0.9)
    _on_server(on_supabase, "DELETE", keys[accepted[0].job_id])  # lost
    for key in (keys[accepted[1].job_id], "audio/nobody/nothing/0.wav"):  # wrong, orphan
        _on_server(on_supabase, "POST", key, other.read_bytes())
    with get_engine(ctx.settings.database_url).begin() as conn:
        conn.execute(
            sa.text("UPDATE upload_jobs SET status = :pending WHERE id = :id"),
            {"pending": JobStatus.PENDING.value, "id": accepted[2].job_id},
        )
    incoming = env / "data" / "spool" / ".incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    (incoming / "crashed.part").write_bytes(b"half a file")
    assert figures() == {
        "lost": 1,
        "duplicated objects": 1,
        "wrong bytes": 1,
        "stuck jobs": 1,
        "leftover temp files": 1,
    }
