"""The real storage3 client, through SupabaseStore, against the Storage-protocol server."""

from __future__ import annotations

import base64
import hashlib
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from storage3 import SyncStorageClient
from storage3.exceptions import StorageApiError

from tests.support.storage_fixtures import TEST_TIMEOUTS
from tests.support.storage_server import (
    ACCESS_DENIED,
    DUPLICATE,
    NO_SUCH_BUCKET,
    NO_SUCH_KEY,
    TOO_LARGE,
    TUS_CHUNK,
    StorageServer,
    invalid_key,
    invalid_mime,
    make_jwt,
    run_storage_server,
    storage_error,
)
from vwaza_cli.errors import PermanentStorageError, StagedCopyChanged, TransientStorageError
from vwaza_cli.settings import DEFAULT_BUCKET, Settings
from vwaza_cli.storage import ProgressCallback, Timeouts, open_store
from vwaza_cli.storage.supabase import SupabaseStore

MIB = 1024 * 1024
KEY = "releases/r1/01-intro.flac"


def make_file(folder: Path, name: str, size: int, seed: int = 1) -> Path:
    path = folder / name
    path.write_bytes(random.Random(seed).randbytes(size))
    return path


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@contextmanager
def store_for(
    server: StorageServer, *, key: str | None = None, timeouts: Timeouts = TEST_TIMEOUTS
) -> Iterator[SupabaseStore]:
    with SupabaseStore(server.url, key or server.key, DEFAULT_BUCKET, timeouts=timeouts) as store:
        yield store


def put(store: SupabaseStore, path: Path, key: str = KEY, content_type: str = "audio/flac") -> None:
    size = path.stat().st_size
    store.put_file(key, path, content_type=content_type, size=size, sha256=sha256_of(path))


def sent(server: StorageServer, method: str) -> list[str]:
    return [seen.path for seen in server.requests if seen.method == method]


def patch_offsets(server: StorageServer) -> list[int | None]:
    return [seen.upload_offset for seen in server.requests if seen.method == "PATCH"]


# --- standard uploads --------------------------------------------------------------------


def test_small_upload_stores_the_bytes_with_the_real_content_type(
    supabase_store: SupabaseStore, storage_server: StorageServer, tmp_path: Path
) -> None:
    source = make_file(tmp_path, "intro.flac", 300_000)

    put(supabase_store, source)

    assert storage_server.objects() == {KEY: (300_000, sha256_of(source))}
    stored = storage_server.object(KEY)
    assert stored is not None
    assert stored.content_type == "audio/flac"
    assert sent(storage_server, "PATCH") == []  # not resumable: one multipart POST


def test_upload_reports_progress_up_to_the_whole_size(
    supabase_store: SupabaseStore, tmp_path: Path
) -> None:
    source = make_file(tmp_path, "intro.flac", 300_000)
    progress: list[int] = []

    supabase_store.put_file(
        KEY,
        source,
        content_type="audio/flac",
        size=300_000,
        sha256=sha256_of(source),
        on_progress=progress.append,
    )

    assert len(progress) >= 4  # every 64 KiB read by httpx
    assert progress == sorted(progress)
    assert progress[-1] == 300_000


def test_info_reports_size_and_the_md5_from_the_quoted_etag(
    supabase_store: SupabaseStore, tmp_path: Path
) -> None:
    source = make_file(tmp_path, "intro.flac", 5000)
    put(supabase_store, source)

    info = supabase_store.info(KEY)

    assert info is not None
    assert (info.key, info.size) == (KEY, 5000)
    assert info.md5 == hashlib.md5(source.read_bytes()).hexdigest()


def test_info_of_a_missing_object_is_none(supabase_store: SupabaseStore) -> None:
    assert supabase_store.info("releases/none.flac") is None


def test_retry_meeting_409_with_the_same_bytes_is_success_without_rewrite(
    supabase_store: SupabaseStore, storage_server: StorageServer, tmp_path: Path
) -> None:
    source = make_file(tmp_path, "intro.flac", 4000)
    put(supabase_store, source)

    put(supabase_store, source)

    assert storage_server.upload_count(KEY) == 1
    duplicate = [seen for seen in storage_server.requests if seen.method == "POST"][-1]
    assert duplicate.status == 400  # the in-band 409 Duplicate
    assert duplicate.headers["x-upsert"] == "false"


def test_retry_meeting_409_with_other_bytes_overwrites_with_upsert(
    supabase_store: SupabaseStore, storage_server: StorageServer, tmp_path: Path
) -> None:
    put(supabase_store, make_file(tmp_path, "old.flac", 4000, seed=1))
    newer = make_file(tmp_path, "new.flac", 4000, seed=2)

    put(supabase_store, newer)

    assert storage_server.objects() == {KEY: (4000, sha256_of(newer))}
    upserts = [s for s in storage_server.requests if s.headers.get("x-upsert") == "true"]
    assert len(upserts) == 1


def test_upload_that_landed_before_a_500_is_success_on_retry(
    supabase_store: SupabaseStore, storage_server: StorageServer, tmp_path: Path
) -> None:
    source = make_file(tmp_path, "intro.flac", 4000)
    storage_server.faults.land_then_fail(1, status=500, method="POST")

    with pytest.raises(TransientStorageError):
        put(supabase_store, source)
    put(supabase_store, source)

    assert storage_server.objects() == {KEY: (4000, sha256_of(source))}
    assert storage_server.upload_count(KEY) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429, 544])
def test_server_faults_and_throttling_are_transient(
    supabase_store: SupabaseStore, storage_server: StorageServer, tmp_path: Path, status: int
) -> None:
    storage_server.faults.fail_next(1, status=status)

    with pytest.raises(TransientStorageError, match=f"storage answered {status}"):
        put(supabase_store, make_file(tmp_path, "intro.flac", 1000))

    assert storage_server.objects() == {}


def test_a_dropped_connection_is_transient(
    supabase_store: SupabaseStore, storage_server: StorageServer, tmp_path: Path
) -> None:
    storage_server.faults.drop_next(1, after_bytes=1000)

    with pytest.raises(TransientStorageError, match="did not answer"):
        put(supabase_store, make_file(tmp_path, "intro.flac", 100_000))

    assert storage_server.objects() == {}


def test_a_hang_beyond_the_read_timeout_is_transient(
    storage_server: StorageServer, tmp_path: Path
) -> None:
    source = make_file(tmp_path, "intro.flac", 1000)
    storage_server.faults.hang_next(1, seconds=60)
    started = time.monotonic()

    with (
        store_for(storage_server, timeouts=Timeouts(read=0.3)) as store,
        pytest.raises(TransientStorageError, match="ReadTimeout"),
    ):
        put(store, source)

    assert time.monotonic() - started < 10


def test_a_wrong_key_is_permanent_and_says_which_setting(
    storage_server: StorageServer, tmp_path: Path
) -> None:
    forged = make_jwt(secret="not-the-project-secret-at-all-0123456789")

    with (
        store_for(storage_server, key=forged) as store,
        pytest.raises(PermanentStorageError, match="SUPABASE_KEY"),
    ):
        put(store, make_file(tmp_path, "intro.flac", 1000))

    assert storage_server.objects() == {}


def test_a_url_that_is_not_the_storage_api_is_permanent(
    storage_server: StorageServer, tmp_path: Path
) -> None:
    wrong = SupabaseStore(
        f"{storage_server.url}/not-supabase",
        storage_server.key,
        DEFAULT_BUCKET,
        timeouts=TEST_TIMEOUTS,
    )
    with wrong as store, pytest.raises(PermanentStorageError, match="SUPABASE_URL"):
        put(store, make_file(tmp_path, "intro.flac", 1000))


def test_missing_bucket_is_permanent_with_a_way_out(tmp_path: Path) -> None:
    with run_storage_server(tmp_path / "srv") as server, store_for(server) as store:
        with pytest.raises(PermanentStorageError) as caught:
            put(store, make_file(tmp_path, "intro.flac", 1000))

    assert caught.value.message == (
        f"bucket '{DEFAULT_BUCKET}' not found: create it or let the daemon create it"
        " with a service key"
    )


def test_ensure_bucket_creates_a_missing_bucket_public(tmp_path: Path) -> None:
    with run_storage_server(tmp_path / "srv") as server, store_for(server) as store:
        store.ensure_bucket()
        put(store, make_file(tmp_path, "intro.flac", 1000))
        buckets, objects = server.buckets(), server.objects()

    assert buckets[DEFAULT_BUCKET].public is True
    assert list(objects) == [KEY]


def test_ensure_bucket_leaves_an_existing_bucket_alone(
    supabase_store: SupabaseStore, storage_server: StorageServer
) -> None:
    supabase_store.ensure_bucket()

    assert sent(storage_server, "POST") == []
    assert sent(storage_server, "GET") == [f"/storage/v1/bucket/{DEFAULT_BUCKET}"]


def test_ensure_bucket_with_a_key_that_may_not_create_it_explains(tmp_path: Path) -> None:
    with run_storage_server(tmp_path / "srv") as server:
        with store_for(server, key=server.anon_key) as store:
            with pytest.raises(PermanentStorageError, match="may not create it"):
                store.ensure_bucket()
        assert server.buckets() == {}


def test_too_large_for_the_bucket_is_permanent(tmp_path: Path) -> None:
    with (
        run_storage_server(tmp_path / "srv", bucket=DEFAULT_BUCKET, bucket_size_limit=2000) as srv,
        store_for(srv) as store,
    ):
        with pytest.raises(PermanentStorageError, match="file size limit"):
            put(store, make_file(tmp_path, "intro.flac", 3000))
        assert srv.objects() == {}


def test_too_large_by_tus_is_permanent_before_any_chunk(tmp_path: Path) -> None:
    with (
        run_storage_server(
            tmp_path / "srv", bucket=DEFAULT_BUCKET, bucket_size_limit=7 * MIB
        ) as srv,
        store_for(srv) as store,
    ):
        with pytest.raises(PermanentStorageError, match="file size limit"):
            put(store, make_file(tmp_path, "long.wav", 8 * MIB), content_type="audio/wav")
        assert patch_offsets(srv) == []


@pytest.mark.parametrize("size", [2000, 7 * MIB], ids=["standard", "tus"])
def test_a_content_type_the_bucket_refuses_is_permanent(tmp_path: Path, size: int) -> None:
    with (
        run_storage_server(
            tmp_path / "srv", bucket=DEFAULT_BUCKET, allowed_mime_types=["audio/*"]
        ) as srv,
        store_for(srv) as store,
    ):
        with pytest.raises(PermanentStorageError, match="'image/png' is not allowed"):
            put(store, make_file(tmp_path, "cover.png", size), content_type="image/png")
        assert srv.objects() == {}


def test_a_non_ascii_key_is_refused_before_any_request(
    supabase_store: SupabaseStore, storage_server: StorageServer, tmp_path: Path
) -> None:
    with pytest.raises(PermanentStorageError, match="invalid object key"):
        put(supabase_store, make_file(tmp_path, "intro.flac", 100), key="releases/café.flac")

    assert storage_server.requests == []


def test_an_invalid_key_answer_from_the_server_is_permanent(
    supabase_store: SupabaseStore, storage_server: StorageServer, tmp_path: Path
) -> None:
    storage_server.faults.fail_next(1, status=400, body=invalid_key(KEY))

    with pytest.raises(PermanentStorageError, match="invalid object key"):
        put(supabase_store, make_file(tmp_path, "intro.flac", 100))


# --- resumable (TUS) uploads ---------------------------------------------------------------


def test_a_20_mib_file_goes_by_tus_in_6_mib_chunks(
    supabase_store: SupabaseStore, storage_server: StorageServer, tmp_path: Path
) -> None:
    source = make_file(tmp_path, "long.wav", 20 * MIB)
    progress: list[int] = []

    supabase_store.put_file(
        KEY,
        source,
        content_type="audio/wav",
        size=20 * MIB,
        sha256=sha256_of(source),
        on_progress=progress.append,
    )

    assert storage_server.objects() == {KEY: (20 * MIB, sha256_of(source))}
    assert patch_offsets(storage_server) == [0, 6 * MIB, 12 * MIB, 18 * MIB]
    lengths = [s.headers["content-length"] for s in storage_server.requests if s.method == "PATCH"]
    assert lengths == [str(TUS_CHUNK)] * 3 + [str(2 * MIB)]
    stored = storage_server.object(KEY)
    assert stored is not None
    assert stored.content_type == "audio/wav"
    assert progress[-1] == 20 * MIB


def test_tus_resumes_from_the_server_offset_after_a_dropped_patch(
    supabase_store: SupabaseStore, storage_server: StorageServer, tmp_path: Path
) -> None:
    source = make_file(tmp_path, "long.wav", 20 * MIB)
    storage_server.faults.drop_next(1, method="PATCH", skip=1, after_bytes=MIB)

    put(supabase_store, source, content_type="audio/wav")

    assert storage_server.objects() == {KEY: (20 * MIB, sha256_of(source))}
    assert len(sent(storage_server, "HEAD")) == 1
    assert patch_offsets(storage_server) == [0, 6 * MIB, 6 * MIB, 12 * MIB, 18 * MIB]


def test_tus_upload_resumes_on_the_next_attempt_after_giving_up(
    supabase_store: SupabaseStore, storage_server: StorageServer, tmp_path: Path
) -> None:
    source = make_file(tmp_path, "long.wav", 14 * MIB)
    storage_server.faults.fail_next(3, status=503, method="PATCH", skip=1)

    with pytest.raises(TransientStorageError):
        put(supabase_store, source, content_type="audio/wav")
    put(supabase_store, source, content_type="audio/wav")

    assert storage_server.objects() == {KEY: (14 * MIB, sha256_of(source))}
    assert len(sent(storage_server, "POST")) == 1  # one upload created, then resumed
    accepted = [s.upload_offset for s in storage_server.requests if s.status == 204]
    assert accepted == [0, 6 * MIB, 12 * MIB]


def test_tus_retry_of_an_upload_that_landed_is_success(
    supabase_store: SupabaseStore, storage_server: StorageServer, tmp_path: Path
) -> None:
    source = make_file(tmp_path, "long.wav", 7 * MIB)
    storage_server.faults.land_then_fail(1, status=500, method="PATCH", skip=1)

    put(supabase_store, source, content_type="audio/wav")
    put(supabase_store, source, content_type="audio/wav")

    assert storage_server.objects() == {KEY: (7 * MIB, sha256_of(source))}
    assert storage_server.upload_count(KEY) == 1
    assert len(sent(storage_server, "PATCH")) == 2


# --- URLs, removal, probe, bucket set-up -----------------------------------------------------


def test_public_url_has_the_supabase_shape_and_serves_the_bytes(
    supabase_store: SupabaseStore, storage_server: StorageServer, tmp_path: Path
) -> None:
    source = make_file(tmp_path, "intro.flac", 70_000)
    put(supabase_store, source, key="releases/r1/01 intro.flac")

    url = supabase_store.url_for("releases/r1/01 intro.flac")

    assert url == (
        f"{storage_server.url}/storage/v1/object/public/{DEFAULT_BUCKET}/releases/r1/01%20intro.flac"
    )
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.content == source.read_bytes()
    assert response.headers["content-type"] == "audio/flac"


def test_remove_deletes_and_a_missing_key_is_no_error(
    supabase_store: SupabaseStore, storage_server: StorageServer, tmp_path: Path
) -> None:
    put(supabase_store, make_file(tmp_path, "intro.flac", 100))

    supabase_store.remove(KEY)
    supabase_store.remove(KEY)

    assert storage_server.objects() == {}


def test_probe_writes_and_removes_a_probe_object(
    supabase_store: SupabaseStore, storage_server: StorageServer
) -> None:
    supabase_store.probe()

    assert storage_server.objects() == {}
    assert storage_server.upload_count(storage_server.requests[0].path.split("/", 5)[-1]) == 1
    assert [s.method for s in storage_server.requests] == ["POST", "GET", "DELETE"]


def test_probe_with_a_wrong_key_fails_with_the_fix(storage_server: StorageServer) -> None:
    with (
        store_for(storage_server, key="not-a-key") as store,
        pytest.raises(PermanentStorageError, match=r"^storage probe failed .*SUPABASE_KEY"),
    ):
        store.probe()


def test_open_store_builds_the_supabase_backend(supabase_settings: Settings) -> None:
    store = open_store(supabase_settings)
    try:
        assert store.name == "supabase"
        store.probe()
    finally:
        store.close()


# --- the server answers like Supabase -----------------------------------------------------------


def _auth(server: StorageServer, key: str | None = None) -> dict[str, str]:
    key = key or server.key
    return {"apikey": key, "Authorization": f"Bearer {key}"}


def test_server_error_bodies_have_the_spec_shapes(storage_server: StorageServer) -> None:
    bucket, wrong = DEFAULT_BUCKET, _auth(storage_server, "x.y.z")
    flac = {"file": ("a.flac", b"abc", "audio/flac")}
    with httpx.Client(base_url=storage_server.storage_url, headers=_auth(storage_server)) as client:
        assert client.post(f"object/{bucket}/a.flac", files=flac).status_code == 200
        answers = {
            "duplicate": client.post(f"object/{bucket}/a.flac", files=flac),
            "missing": client.get(f"object/info/{bucket}/b.flac"),
            "no bucket": client.get("bucket/nope"),
            "public missing": client.get(f"object/public/{bucket}/b.flac"),
            "bad key": client.post(f"object/{bucket}/caf%C3%A9.flac", files=flac),
            "wrong key": client.get(f"bucket/{bucket}", headers=wrong),
            "tus wrong key": client.post(
                "upload/resumable", headers={**wrong, "Upload-Length": "1"}
            ),
        }
    expected = {
        "duplicate": DUPLICATE,
        "missing": NO_SUCH_KEY,
        "no bucket": NO_SUCH_BUCKET,
        "public missing": NO_SUCH_KEY,
        "bad key": invalid_key("café.flac"),
        "wrong key": ACCESS_DENIED,
        "tus wrong key": ACCESS_DENIED,
    }
    assert {name: (r.status_code, r.json()) for name, r in answers.items()} == {
        name: (400, body) for name, body in expected.items()
    }


def test_server_limit_errors_have_the_spec_shapes(tmp_path: Path) -> None:
    with run_storage_server(
        tmp_path / "srv", bucket="b", bucket_size_limit=10, allowed_mime_types=["audio/flac"]
    ) as server:
        auth = _auth(server)
        with httpx.Client(base_url=server.storage_url, headers=auth) as client:
            too_large = client.post(
                "object/b/a.flac", files={"file": ("a", b"x" * 11, "audio/flac")}
            )
            bad_mime = client.post("object/b/a.png", files={"file": ("a", b"x", "image/png")})

    assert (too_large.status_code, too_large.json()) == (400, TOO_LARGE)
    assert (bad_mime.status_code, bad_mime.json()) == (400, invalid_mime("image/png"))


def test_server_info_has_the_quoted_md5_etag_and_the_multipart_content_type(
    storage_server: StorageServer,
) -> None:
    with httpx.Client(base_url=storage_server.storage_url, headers=_auth(storage_server)) as client:
        client.post(f"object/{DEFAULT_BUCKET}/a.ogg", files={"file": ("a", b"abc", "audio/ogg")})
        info = client.get(f"object/info/{DEFAULT_BUCKET}/a.ogg").json()

    assert info["etag"] == f'"{hashlib.md5(b"abc").hexdigest()}"'
    assert (info["size"], info["content_type"], info["bucket_id"]) == (
        3,
        "audio/ogg",
        DEFAULT_BUCKET,
    )


def test_server_tus_protocol_rules(storage_server: StorageServer) -> None:
    fields = {"bucketName": DEFAULT_BUCKET, "objectName": "a.wav", "contentType": "audio/wav"}
    meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in fields.items())
    create = {"Tus-Resumable": "1.0.0", "Upload-Length": str(7 * MIB), "Upload-Metadata": meta}
    patch = {"Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream"}
    with httpx.Client(base_url=storage_server.storage_url, headers=_auth(storage_server)) as client:
        created = client.post("upload/resumable", headers=create)
        location = created.headers["location"]
        short = client.patch(location, headers={**patch, "Upload-Offset": "0"}, content=b"x" * 10)
        wrong_offset = client.patch(location, headers={**patch, "Upload-Offset": "5"}, content=b"x")
        first = client.patch(
            location, headers={**patch, "Upload-Offset": "0"}, content=b"x" * TUS_CHUNK
        )
        head = client.head(location)

    assert created.status_code == 201
    assert location.startswith(f"{storage_server.url}/storage/v1/upload/resumable/")
    assert short.status_code == 400
    assert "exactly" in short.text
    assert (wrong_offset.status_code, wrong_offset.text) == (409, "Upload-Offset conflict")
    assert (first.status_code, first.headers["upload-offset"]) == (204, str(TUS_CHUNK))
    assert head.headers["upload-offset"] == str(TUS_CHUNK)
    assert storage_server.objects() == {}  # not complete yet


def test_storage3_reports_the_status_as_a_string_and_int_for_unparseable_bodies(
    storage_server: StorageServer,
) -> None:
    # A canary for storage3 upgrades: SupabaseStore's error mapping relies on these shapes.
    headers = _auth(storage_server)
    with httpx.Client(headers=headers) as http:
        files = SyncStorageClient(storage_server.storage_url, headers, http_client=http).from_(
            DEFAULT_BUCKET
        )
        with pytest.raises(StorageApiError) as in_band:
            files.info("missing.flac")
        storage_server.faults.fail_next(1, status=503)
        with pytest.raises(StorageApiError) as gateway:
            files.info("missing.flac")

    assert (in_band.value.status, in_band.value.code) == ("404", "not_found")
    assert isinstance(in_band.value.__cause__, httpx.HTTPStatusError)
    assert (gateway.value.status, gateway.value.code) == (503, "InternalError")
    assert not isinstance(gateway.value.__cause__, httpx.HTTPStatusError)


def test_server_rejects_an_in_band_error_fault_exactly_as_given(
    supabase_store: SupabaseStore, storage_server: StorageServer
) -> None:
    denied = storage_error("403", "Unauthorized", "jwt expired", "AccessDenied")
    storage_server.faults.fail_next(1, status=400, body=denied)

    with pytest.raises(PermanentStorageError, match="jwt expired"):
        supabase_store.info(KEY)


def test_server_lists_one_folder_level_with_null_ids_for_folders(
    storage_server: StorageServer,
) -> None:
    headers = _auth(storage_server)
    with httpx.Client(headers=headers) as http:
        files = SyncStorageClient(storage_server.storage_url, headers, http_client=http).from_(
            DEFAULT_BUCKET
        )
        for key in ("r1/cover.jpg", "r1/tracks/01.flac", "r1/tracks/02.flac", "r2/x.flac"):
            files.upload(key, b"x", {"content-type": "audio/flac"})
        listed = files.list("r1")

    assert [(entry["name"], entry["id"] is None) for entry in listed] == [
        ("cover.jpg", False),
        ("tracks", True),
    ]


def test_server_update_replaces_in_place_and_refuses_a_missing_object(
    storage_server: StorageServer,
) -> None:
    headers = _auth(storage_server)
    with httpx.Client(headers=headers) as http:
        files = SyncStorageClient(storage_server.storage_url, headers, http_client=http).from_(
            DEFAULT_BUCKET
        )
        first = files.upload("a.flac", b"old", {"content-type": "audio/flac"})
        files.update("a.flac", b"newer", {"content-type": "audio/flac"})
        with pytest.raises(StorageApiError) as missing:
            files.update("b.flac", b"x", {"content-type": "audio/flac"})

    assert first.path == "a.flac"
    assert storage_server.objects() == {"a.flac": (5, hashlib.sha256(b"newer").hexdigest())}
    assert (missing.value.status, missing.value.code) == ("404", "not_found")


def test_server_head_on_a_public_object_gives_its_length_and_etag(
    supabase_store: SupabaseStore, tmp_path: Path
) -> None:
    source = make_file(tmp_path, "intro.flac", 70_000)
    put(supabase_store, source)

    response = httpx.head(supabase_store.url_for(KEY))

    assert response.status_code == 200
    assert response.headers["content-length"] == "70000"
    assert response.headers["etag"] == f'"{hashlib.md5(source.read_bytes()).hexdigest()}"'


def test_a_slow_server_still_completes_and_progress_keeps_coming(
    supabase_store: SupabaseStore, storage_server: StorageServer, tmp_path: Path
) -> None:
    source = make_file(tmp_path, "intro.flac", 640 * 1024)
    storage_server.faults.slow(0.02)
    progress: list[int] = []
    started = time.monotonic()

    supabase_store.put_file(
        KEY,
        source,
        content_type="audio/flac",
        size=640 * 1024,
        sha256=sha256_of(source),
        on_progress=progress.append,
    )

    assert time.monotonic() - started >= 0.2  # ten 64 KiB pieces, 20 ms each
    assert len(progress) >= 10
    assert storage_server.objects() == {KEY: (640 * 1024, sha256_of(source))}


def test_put_file_returns_the_md5_of_what_it_sent(supabase_store, tmp_path: Path) -> None:
    import hashlib
    import os

    for size in (1000, 13 * 1024 * 1024 + 7):  # the standard upload, and TUS in 6 MiB chunks
        path = tmp_path / f"f{size}.bin"
        path.write_bytes(os.urandom(size))
        sent = supabase_store.put_file(
            f"sent/{size}.bin", path, content_type="audio/wav", size=size, sha256=sha256_of(path)
        )
        assert sent == hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def test_sent_digest_counts_each_byte_once_in_order() -> None:
    import hashlib

    from vwaza_cli.storage.base import SentDigest

    expected = hashlib.sha256(b"abcdef").hexdigest()
    digest = SentDigest(Path("f"), 6, expected)
    digest.feed(0, b"abc")
    digest.feed(0, b"abc")  # a re-sent piece
    digest.feed(3, b"def")
    assert digest.md5() == hashlib.md5(b"abcdef", usedforsecurity=False).hexdigest()
    resumed = SentDigest(Path("f"), 6, expected)
    resumed.feed(3, b"def")  # a resumed upload never saw the start
    assert resumed.md5() is None


# --- a staged copy that changed ---------------------------------------------------------------


def _tampered(folder: Path, size: int, at: int) -> tuple[Path, str]:
    """A file and the SHA-256 recorded before 4 of its bytes (from ``at``) were overwritten."""
    path = make_file(folder, "changed.wav", size)
    recorded = sha256_of(path)
    with path.open("r+b") as staged:
        staged.seek(at)
        staged.write(b"\xde\xad\xbe\xef")
    return path, recorded


def _put_recorded(store: SupabaseStore, path: Path, recorded: str) -> None:
    size = path.stat().st_size
    store.put_file(KEY, path, content_type="audio/wav", size=size, sha256=recorded)


@pytest.mark.parametrize(
    ("size", "at"),
    [(300_000, 100), (300_000, 299_996), (13 * MIB, 100), (13 * MIB, 13 * MIB - 4)],
    ids=["standard-start", "standard-end", "resumable-start", "resumable-end"],
)
def test_a_changed_copy_never_becomes_an_object(
    supabase_store: SupabaseStore, storage_server: StorageServer, tmp_path: Path, size, at
) -> None:
    path, recorded = _tampered(tmp_path, size, at)

    with pytest.raises(StagedCopyChanged, match=f"SHA-256 {recorded} expected"):
        _put_recorded(supabase_store, path, recorded)

    assert storage_server.objects() == {}
    assert storage_server.upload_count(KEY) == 0
    assert storage_server.unfinished_tus_uploads() == []  # the resumable upload was dropped


def test_a_changed_copy_meeting_a_stored_object_leaves_it_untouched(
    supabase_store: SupabaseStore, storage_server: StorageServer, tmp_path: Path
) -> None:
    path = make_file(tmp_path, "changed.wav", 300_000)
    put(supabase_store, path)
    before = storage_server.objects()
    path, recorded = _tampered(tmp_path, 300_000, 100)  # same seed: the same bytes, changed

    with pytest.raises(StagedCopyChanged):
        _put_recorded(supabase_store, path, recorded)

    assert storage_server.objects() == before  # no upsert with the changed bytes


# --- resumable uploads given up are dropped on the server -------------------------------------


class _Interrupted(Exception):
    """Stands for the daemon's own reasons to stop mid-upload: the lease lost, shutdown."""


def _interrupt_after(limit: int) -> ProgressCallback:
    def on_progress(sent: int) -> None:
        if sent > limit:
            raise _Interrupted

    return on_progress


def test_an_interrupted_resumable_upload_is_dropped_on_the_server(
    supabase_store: SupabaseStore, storage_server: StorageServer, tmp_path: Path
) -> None:
    source = make_file(tmp_path, "long.wav", 13 * MIB)

    with pytest.raises(_Interrupted):
        supabase_store.put_file(
            KEY,
            source,
            content_type="audio/wav",
            size=13 * MIB,
            sha256=sha256_of(source),
            on_progress=_interrupt_after(7 * MIB),
        )

    assert storage_server.tus_uploads() == []
    assert sent(storage_server, "DELETE")[-1].startswith("/storage/v1/upload/resumable/")


def test_a_permanent_refusal_mid_upload_drops_the_resumable_upload(
    supabase_store: SupabaseStore, storage_server: StorageServer, tmp_path: Path
) -> None:
    storage_server.faults.fail_next(1, status=403, method="PATCH", skip=1, body="forbidden")

    with pytest.raises(PermanentStorageError):
        put(supabase_store, make_file(tmp_path, "long.wav", 13 * MIB), content_type="audio/wav")

    assert storage_server.tus_uploads() == []


def test_a_transiently_failed_upload_is_kept_for_resuming_until_swept(
    supabase_store: SupabaseStore, storage_server: StorageServer, tmp_path: Path
) -> None:
    storage_server.faults.fail_next(3, status=503, method="PATCH", skip=1)
    with pytest.raises(TransientStorageError):
        put(supabase_store, make_file(tmp_path, "long.wav", 13 * MIB), content_type="audio/wav")
    assert [u.offset for u in storage_server.unfinished_tus_uploads()] == [6 * MIB]

    assert supabase_store.sweep_temp(timedelta(hours=1)) == 0  # an attempt may come back
    assert len(storage_server.unfinished_tus_uploads()) == 1
    assert supabase_store.sweep_temp(timedelta(0)) == 1

    assert storage_server.tus_uploads() == []


def test_closing_the_store_drops_the_resumable_uploads_it_kept(
    storage_server: StorageServer, tmp_path: Path
) -> None:
    storage_server.faults.fail_next(3, status=503, method="PATCH", skip=1)
    with store_for(storage_server) as store, pytest.raises(TransientStorageError):
        put(store, make_file(tmp_path, "long.wav", 13 * MIB), content_type="audio/wav")

    assert storage_server.tus_uploads() == []  # no later process could resume it


def test_a_probe_cut_short_by_anything_still_removes_its_object(
    supabase_store: SupabaseStore, storage_server: StorageServer, mocker
) -> None:
    mocker.patch.object(SupabaseStore, "info", side_effect=KeyboardInterrupt)

    with pytest.raises(KeyboardInterrupt):
        supabase_store.probe()

    assert storage_server.objects() == {}


def test_server_refuses_to_terminate_a_finished_upload_and_drops_an_unfinished_one(
    storage_server: StorageServer,
) -> None:
    fields = {"bucketName": DEFAULT_BUCKET, "objectName": "a.wav", "contentType": "audio/wav"}
    meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in fields.items())
    create = {"Tus-Resumable": "1.0.0", "Upload-Metadata": meta}
    patch = {"Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream"}
    tus = {"Tus-Resumable": "1.0.0"}
    with httpx.Client(base_url=storage_server.storage_url, headers=_auth(storage_server)) as client:
        unfinished = client.post("upload/resumable", headers={**create, "Upload-Length": "10"})
        dropped = client.delete(unfinished.headers["location"], headers=tus)
        gone = client.head(unfinished.headers["location"], headers=tus)
        finished = client.post("upload/resumable", headers={**create, "Upload-Length": "3"})
        client.patch(
            finished.headers["location"], headers={**patch, "Upload-Offset": "0"}, content=b"abc"
        )
        refused = client.delete(finished.headers["location"], headers=tus)

    assert (dropped.status_code, gone.status_code) == (204, 404)
    assert (refused.status_code, refused.text) == (
        400,
        "Cannot terminate an already completed upload",
    )
    assert storage_server.objects() == {"a.wav": (3, hashlib.sha256(b"abc").hexdigest())}
