"""`vwaza doctor` points at each thing deliberately broken, and says how to fix it."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.conftest import Cli, Media


def _checks(cli: Cli) -> tuple[int, dict[str, dict]]:
    outcome = cli("doctor", "--json")
    report = outcome.json()
    return outcome.exit_code, {c["name"]: c for c in report["checks"]}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _beat() -> None:
    from vwaza_cli.services import daemon_status
    from vwaza_cli.services.context import Context

    daemon_status.beat(Context.from_environment(), "test-daemon", 1, 0)


def test_all_is_well_exits_zero(initialised: Cli) -> None:
    _beat()
    code, checks = _checks(initialised)
    assert code == 0
    assert {c["status"] for c in checks.values()} == {"ok"}
    assert list(checks) == [
        "config",
        "store",
        "spool",
        "storage",
        "smtp",
        "daemon",
        "jobs",
        "server",
    ]


def test_plain_output_is_a_table_with_fixes(initialised: Cli) -> None:
    outcome = initialised("doctor")
    assert outcome.exit_code == 0
    assert "storage" in outcome.stdout
    assert "start `vwaza-daemon`" in outcome.stdout  # the daemon warning says what to do


def test_invalid_config_is_reported(initialised: Cli, env: Path) -> None:
    (env / "config.toml").write_text("database_url = [broken\n", encoding="utf-8")
    code, checks = _checks(initialised)
    assert code == 7
    assert checks["config"]["status"] == "fail"
    assert "config" in checks["config"]["fix"]


def test_uninitialised_store_says_run_init(cli: Cli, home: Path, monkeypatch) -> None:
    monkeypatch.setenv("VWAZA_DATABASE_URL", f"sqlite:///{home / 'empty.db'}")
    code, checks = _checks(cli)
    assert code == 7
    assert (checks["store"]["status"], checks["store"]["fix"]) == ("fail", "run `vwaza init`")
    assert "daemon" not in checks


def test_unreachable_database(cli: Cli, monkeypatch) -> None:
    monkeypatch.setenv(
        "VWAZA_DATABASE_URL", f"postgresql://postgres@127.0.0.1:{_closed_port()}/nowhere"
    )
    code, checks = _checks(cli)
    assert code == 7
    assert checks["store"]["status"] == "fail"
    assert "VWAZA_DATABASE_URL" in checks["store"]["fix"]


def test_spool_that_cannot_be_written(initialised: Cli, env: Path) -> None:
    import shutil

    shutil.rmtree(env / "data" / "spool", ignore_errors=True)
    (env / "data" / "spool").write_text("a file where the spool folder should be")
    _, checks = _checks(initialised)
    assert checks["spool"]["status"] == "fail"


def test_storage_unreachable_or_refusing_the_key(
    initialised: Cli, storage_server, monkeypatch
) -> None:
    monkeypatch.setenv("VWAZA_STORAGE", "supabase")
    monkeypatch.setenv("SUPABASE_URL", f"http://127.0.0.1:{_closed_port()}")
    monkeypatch.setenv("SUPABASE_KEY", storage_server.key)
    _, checks = _checks(initialised)
    assert checks["storage"]["status"] == "fail"
    assert "SUPABASE_URL" in checks["storage"]["fix"]
    monkeypatch.setenv("SUPABASE_URL", storage_server.url)
    monkeypatch.setenv("SUPABASE_KEY", "wrong-key")
    _, checks = _checks(initialised)
    assert checks["storage"]["status"] == "fail"
    monkeypatch.setenv("SUPABASE_KEY", storage_server.key)
    _, checks = _checks(initialised)
    assert checks["storage"]["status"] == "ok"
    assert storage_server.objects() == {}  # the probe object was removed


def test_smtp_configured_but_unreachable(initialised: Cli, monkeypatch) -> None:
    monkeypatch.setenv("VWAZA_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("VWAZA_SMTP_PORT", str(_closed_port()))
    monkeypatch.setenv("VWAZA_SMTP_SECURITY", "none")
    _, checks = _checks(initialised)
    assert checks["smtp"]["status"] == "fail"
    assert "VWAZA_SMTP" in checks["smtp"]["fix"]


def test_smtp_reachable(initialised: Cli, monkeypatch) -> None:
    from tests.integration.test_password_reset import LoopbackController, Mailbox

    controller = LoopbackController(Mailbox())
    controller.start()
    try:
        monkeypatch.setenv("VWAZA_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("VWAZA_SMTP_PORT", str(controller.port))
        monkeypatch.setenv("VWAZA_SMTP_SECURITY", "none")
        _, checks = _checks(initialised)
    finally:
        controller.stop()
    assert checks["smtp"]["status"] == "ok"


def test_waiting_uploads_without_a_daemon_and_failed_jobs(
    initialised: Cli, people: dict[str, str], media: Media
) -> None:
    ada = initialised.as_user(people["ada"])
    release = ada.ok("release", "create", "X", "--genre", "Y")["id"]
    track = ada.ok("track", "add", release, str(media.wav()))
    code, checks = _checks(initialised)
    assert code == 7
    assert checks["daemon"]["status"] == "fail"
    assert "vwaza-daemon" in checks["daemon"]["fix"]
    _fail(track["upload_job_id"])
    _beat()
    _, checks = _checks(initialised)
    assert checks["daemon"]["status"] == "ok"
    assert checks["jobs"]["status"] == "fail"
    assert "vwaza jobs retry --failed" in checks["jobs"]["fix"]


def _fail(job_id: str) -> None:
    import sqlalchemy as sa

    from vwaza_cli.db.models import JobStatus, UploadJob
    from vwaza_cli.services.context import Context

    with Context.from_environment().tx() as session:
        session.execute(
            sa.update(UploadJob).where(UploadJob.id == job_id).values(status=JobStatus.FAILED)
        )
