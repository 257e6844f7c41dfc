"""The upload daemon against the Storage-protocol server, with the real storage3 client."""

from __future__ import annotations

import hashlib
import signal
from pathlib import Path

from tests.conftest import Cli, Media, spool_files
from tests.daemon.conftest import (
    FAST_RETRIES,
    job_rows,
    run_daemon,
    stage_release,
    start_daemon,
    wait_for,
)
from tests.support.https_server import HttpsServer, write_tls_files
from tests.support.storage_server import StorageServer


def _assert_all_uploaded(server: StorageServer, home: Path) -> None:
    jobs = job_rows()
    assert jobs
    assert {j["status"] for j in jobs} == {"COMPLETED"}
    stored = server.objects()
    for job in jobs:
        assert stored[job["object_key"]] == (job["size"], job["sha256"])
    assert spool_files(home) == []


def test_once_uploads_everything_and_the_release_reaches_review(
    ada: Cli, media: Media, on_supabase: StorageServer, env: Path
) -> None:
    release = stage_release(ada, media, tracks=2)
    assert ada.ok("release", "show", release)["status"] == "PROCESSING"
    done = run_daemon("--once", *FAST_RETRIES)
    assert done.returncode == 0, done.stderr
    _assert_all_uploaded(on_supabase, env)
    shown = ada.ok("release", "show", release)
    assert shown["status"] == "PENDING_REVIEW"
    public = f"{on_supabase.url}/storage/v1/object/public/vwaza-uploads/"
    assert all(t["audio_file"].startswith(public + "audio/") for t in shown["tracks"])
    assert shown["cover_art"].startswith(public + "cover/")
    assert all(t["upload_status"] == "COMPLETED" for t in shown["tracks"])
    assert "completed" in done.stderr


def test_transient_failures_are_retried_until_done(
    ada: Cli, media: Media, on_supabase: StorageServer, env: Path
) -> None:
    stage_release(ada, media, tracks=1)
    on_supabase.faults.fail_next(2, 503, method="POST")
    on_supabase.faults.fail_next(1, 544, method="POST")
    on_supabase.faults.fail_next(1, 429, method="POST")
    done = run_daemon("--once", *FAST_RETRIES)
    assert done.returncode == 0, done.stderr
    _assert_all_uploaded(on_supabase, env)
    retries = [(j["retry_count"], j["error_log"]) for j in job_rows()]
    assert sum(r for r, _ in retries) == 4, (retries, done.stderr)  # each failure counted once
    assert on_supabase.faults.pending == 0


def test_an_upload_that_lands_but_answers_500_is_stored_once(
    ada: Cli, media: Media, on_supabase: StorageServer, env: Path
) -> None:
    stage_release(ada, media, tracks=1)
    on_supabase.faults.land_then_fail(2, method="POST")
    done = run_daemon("--once", "--concurrency", "1", *FAST_RETRIES)
    assert done.returncode == 0, done.stderr
    _assert_all_uploaded(on_supabase, env)
    for job in job_rows():
        assert on_supabase.upload_count(job["object_key"]) == 1


def test_dropped_connections_and_hangs_are_transient(
    ada: Cli, media: Media, on_supabase: StorageServer, env: Path
) -> None:
    stage_release(ada, media, tracks=1)
    on_supabase.faults.drop_next(1, after_bytes=100, method="POST")
    on_supabase.faults.hang_next(1, seconds=30, method="POST")
    done = run_daemon("--once", "--timeout", "1", *FAST_RETRIES)
    assert done.returncode == 0, done.stderr
    _assert_all_uploaded(on_supabase, env)


def test_a_permanent_failure_fails_the_job_at_once_and_keeps_the_file(
    ada: Cli, media: Media, on_supabase: StorageServer, env: Path
) -> None:
    on_supabase.create_bucket("vwaza-uploads", allowed_mime_types=["image/jpeg"])
    release = stage_release(ada, media, tracks=1)
    done = run_daemon("--once", *FAST_RETRIES)
    assert done.returncode == 7
    by_type = {j["type"]: j for j in job_rows()}
    audio = by_type["AUDIO"]
    assert (audio["status"], audio["retry_count"]) == ("FAILED", 1)
    assert "mime" in audio["error_log"].lower()
    assert Path(audio["local_path"]).exists()
    assert by_type["COVER_ART"]["status"] == "COMPLETED"
    shown = ada.ok("release", "show", release)
    assert shown["status"] == "DRAFT"  # back to the artist, who can replace the file
    assert shown["tracks"][0]["upload_status"] == "FAILED"
    on_supabase.create_bucket("vwaza-uploads")  # the bucket now takes audio
    assert ada.ok("release", "submit", release)["status"] == "PROCESSING"  # retries the failed
    assert run_daemon("--once", *FAST_RETRIES).returncode == 0
    _assert_all_uploaded(on_supabase, env)
    assert ada.ok("release", "show", release)["status"] == "PENDING_REVIEW"


def test_too_many_failures_end_in_failed_with_the_file_kept(
    ada: Cli, media: Media, on_supabase: StorageServer, env: Path
) -> None:
    stage_release(ada, media, tracks=1, submit=False)
    on_supabase.faults.fail_next(100, 500, method="POST")
    done = run_daemon("--once", "--max-attempts", "3", *FAST_RETRIES)
    assert done.returncode == 7
    jobs = job_rows()
    assert {(j["status"], j["retry_count"]) for j in jobs} == {("FAILED", 3)}
    assert all(Path(j["local_path"]).exists() for j in jobs)
    assert "FAILED" in done.stderr


def test_missing_bucket_is_created_by_the_daemon(
    ada: Cli, media: Media, storage_server: StorageServer, env: Path, monkeypatch
) -> None:
    monkeypatch.setenv("VWAZA_STORAGE", "supabase")
    monkeypatch.setenv("SUPABASE_URL", storage_server.url)
    monkeypatch.setenv("SUPABASE_KEY", storage_server.key)
    monkeypatch.setenv("VWAZA_BUCKET", "fresh-bucket")
    stage_release(ada, media, tracks=1)
    assert run_daemon("--once", *FAST_RETRIES).returncode == 0
    assert "fresh-bucket" in storage_server.buckets()
    assert len(storage_server.objects("fresh-bucket")) == 2 + 3  # with the track's renditions


def test_a_large_file_goes_up_resumably(
    ada: Cli, media: Media, on_supabase: StorageServer, env: Path
) -> None:
    stage_release(ada, media, tracks=1, seconds=80)  # 7 MB of 16-bit mono: above 6 MiB
    on_supabase.faults.drop_next(1, after_bytes=1024 * 1024, method="PATCH", skip=1)
    done = run_daemon("--once", *FAST_RETRIES)
    assert done.returncode == 0, done.stderr
    _assert_all_uploaded(on_supabase, env)
    assert on_supabase.tus_uploads()


def test_missing_local_file_whose_object_exists_counts_as_done(
    ada: Cli, media: Media, on_supabase: StorageServer, env: Path, supabase_store
) -> None:
    stage_release(ada, media, tracks=1)
    job = job_rows()[0]
    supabase_store.put_file(
        job["object_key"],
        Path(job["local_path"]),
        content_type=job["content_type"],
        size=job["size"],
        sha256=job["sha256"],
    )
    Path(job["local_path"]).unlink()  # a crash after upload, before the bookkeeping
    assert run_daemon("--once", *FAST_RETRIES).returncode == 0
    _assert_all_uploaded(on_supabase, env)


def test_sigterm_finishes_or_gives_back_in_flight_work(
    ada: Cli, admin: Cli, media: Media, on_supabase: StorageServer, env: Path, tmp_path: Path
) -> None:
    stage_release(ada, media, tracks=1, seconds=20)
    on_supabase.faults.slow(0.05)  # ~1.7 MB at 64 KiB per 50 ms: several seconds
    process = start_daemon(
        "--concurrency", "1", "--grace", "0.3", *FAST_RETRIES, log=tmp_path / "daemon.log"
    )
    wait_for(lambda: any(j["status"] == "UPLOADING" for j in job_rows()), what="an upload")
    assert admin.ok("daemon", "status")["alive"] is True
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    assert {j["status"] for j in job_rows()} <= {"PENDING", "COMPLETED"}
    assert all(Path(j["local_path"]).exists() for j in job_rows() if j["status"] == "PENDING")
    assert admin.ok("daemon", "status")["alive"] is False
    on_supabase.faults.clear()
    assert run_daemon("--once", *FAST_RETRIES).returncode == 0
    _assert_all_uploaded(on_supabase, env)


def test_several_daemons_upload_each_job_exactly_once(
    ada: Cli, media: Media, on_supabase: StorageServer, env: Path, tmp_path: Path
) -> None:
    for _ in range(3):
        stage_release(ada, media, tracks=4, seconds=0.2)
    daemons = [
        start_daemon("--once", "--concurrency", "2", *FAST_RETRIES, log=tmp_path / f"d{n}.log")
        for n in range(3)
    ]
    assert [d.wait(timeout=180) for d in daemons] == [0, 0, 0]
    _assert_all_uploaded(on_supabase, env)
    for job in job_rows():
        assert on_supabase.upload_count(job["object_key"]) == 1


def test_stored_objects_hold_exactly_the_files_bytes(
    ada: Cli, media: Media, on_supabase: StorageServer, env: Path
) -> None:
    stage_release(ada, media, tracks=1)
    sources = {
        j["object_key"]: hashlib.sha256(Path(j["local_path"]).read_bytes()).hexdigest()
        for j in job_rows()
    }
    uploaded = run_daemon("--once", *FAST_RETRIES)
    assert uploaded.returncode == 0
    made = [j for j in job_rows() if j["object_key"] not in sources]  # the renditions
    assert sorted(j["type"] for j in made) == ["PREVIEW", "STREAM", "WAVEFORM"]
    for job in made:  # recorded with the hash of the file the processing staged
        sources[job["object_key"]] = job["sha256"]
    assert {k: v[1] for k, v in on_supabase.objects().items()} == sources


def test_an_outage_backs_off_and_everything_completes_after(
    ada: Cli,
    media: Media,
    on_supabase: StorageServer,
    env: Path,
) -> None:
    stage_release(ada, media, tracks=3, seconds=0.2)
    on_supabase.faults.fail_next(12, 503, method="POST")
    done = run_daemon("--once", "--max-attempts", "30", *FAST_RETRIES)
    assert done.returncode == 0, done.stderr
    _assert_all_uploaded(on_supabase, env)
    lines = done.stderr.splitlines()
    retried = [line for line in lines if " WARNING retry " in line]
    assert [line for line in lines if "fail" in line and line not in retried] == []
    assert len(retried) == 12, "\n".join(retried)  # one per refused request, said once
    jobs = job_rows()
    counted = {j["object_key"]: j["retry_count"] for j in jobs if j["retry_count"]}
    assert sum(counted.values()) == 12, counted
    posts = [r for r in on_supabase.requests if r.method == "POST" and "/object/" in r.path]
    assert len(posts) == 12 + len(jobs)  # no request the outage did not answer was wasted


def test_export_with_storage_urls_imports_into_an_empty_store(
    ada: Cli, media: Media, on_supabase: StorageServer, env: Path, tmp_path: Path, monkeypatch
) -> None:
    import json

    from tests.conftest import sign_up

    stage_release(ada, media, tracks=2)
    assert run_daemon("--once", *FAST_RETRIES).returncode == 0
    exported = tmp_path / "export.json"
    ada.ok("catalog", "export", "--output", str(exported))
    text = exported.read_text(encoding="utf-8")
    assert json.loads(text)["releases"][0]["tracks"][0]["file"].startswith("http://127.0.0.1")

    # Storage is https in real life; here an https front on loopback relays the test server
    # (downloads are https only, and loopback is allowed by the setting meant for tests).
    tls = write_tls_files(tmp_path / "tls")
    monkeypatch.setenv("SSL_CERT_FILE", str(tls.ca))
    monkeypatch.setenv("VWAZA_ALLOW_PRIVATE_URLS", "1")
    fresh = tmp_path / "fresh"
    monkeypatch.setenv("VWAZA_HOME", str(fresh))
    monkeypatch.setenv("VWAZA_DATABASE_URL", f"sqlite:///{fresh / 'fresh.db'}")
    monkeypatch.setenv("VWAZA_BUCKET", "second-bucket")
    cli = Cli()
    cli.ok("init")
    token = sign_up(cli, "ada@example.com", "Ada")
    with HttpsServer(tls, upstream=on_supabase.url).running() as front:
        exported.write_text(text.replace(on_supabase.url, front.url("")), encoding="utf-8")
        report = cli.ok("catalog", "import", str(exported), token=token)
    assert (report["created"], report["releases"][0]["status"]) == (1, "PROCESSING")
    staged = {j["sha256"] for j in cli.ok("jobs", "list", token=token)}
    assert staged == {j["sha256"] for j in document_jobs(on_supabase)}


def document_jobs(server: StorageServer) -> list[dict]:
    """The masters and covers in storage (a catalog names those; renditions are made anew)."""
    stored = server.objects().items()
    return [{"sha256": sha} for key, (_, sha) in stored if key.startswith(("audio/", "cover/"))]


def test_deleting_uploaded_work_removes_its_objects_from_storage(
    ada: Cli, admin: Cli, media: Media, on_supabase: StorageServer, env: Path
) -> None:
    first = stage_release(ada, media, tracks=2, submit=False)
    second = stage_release(ada, media, tracks=1, submit=False)
    assert run_daemon("--once", *FAST_RETRIES).returncode == 0
    assert len(on_supabase.objects()) == 5 + 3 * 3  # masters and covers, 3 renditions a track
    track = ada.ok("release", "show", first)["tracks"][0]
    ada.ok("track", "remove", track["id"])
    ada.ok("release", "cover", first, str(media.cover("new-cover.jpg", size=1100)))
    ada.ok("release", "delete", second, "--yes")
    assert run_daemon("--once", *FAST_RETRIES).returncode == 0
    remaining = on_supabase.objects()
    shown = ada.ok("release", "show", first)
    public = f"{on_supabase.url}/storage/v1/object/public/vwaza-uploads/"
    kept = shown["tracks"][0]
    expected = {
        shown["cover_art"].removeprefix(public),
        kept["audio_file"].removeprefix(public),
        *(url.removeprefix(public) for url in kept["renditions"].values()),
    }
    # the removed track (its renditions too), old cover and deleted release: gone
    assert set(remaining) == expected
    admin.ok("admin", "user", "delete", "ada@example.com", "--yes")
    assert run_daemon("--once", *FAST_RETRIES).returncode == 0
    assert on_supabase.objects() == {}


def test_local_storage_objects_go_with_their_release(ada: Cli, media: Media, env: Path) -> None:
    release = stage_release(ada, media, tracks=1, submit=False)
    assert run_daemon("--once", *FAST_RETRIES).returncode == 0
    storage = env / "data" / "storage"
    assert [p for p in storage.rglob("*") if p.is_file()]
    ada.ok("release", "delete", release, "--yes")
    assert run_daemon("--once", *FAST_RETRIES).returncode == 0
    assert [p for p in storage.rglob("*") if p.is_file()] == []
