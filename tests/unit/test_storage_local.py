"""The local-folder object store, on real files in tmp_path."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from pytest_mock import MockerFixture

from vwaza_cli.errors import PermanentStorageError, StagedCopyChanged, TransientStorageError
from vwaza_cli.settings import load_settings
from vwaza_cli.storage import open_store
from vwaza_cli.storage.local import LocalStore

KEY = "releases/r1/01-intro.flac"
PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "storage")


def make_file(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def put(store: LocalStore, path: Path, key: str = KEY) -> None:
    size = path.stat().st_size
    store.put_file(key, path, content_type="audio/flac", size=size, sha256=sha256_of(path))


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_put_file_stores_the_bytes_under_the_key(store: LocalStore, tmp_path: Path) -> None:
    put(store, make_file(tmp_path, "a.flac", b"flac bytes"))

    assert (store.root / KEY).read_bytes() == b"flac bytes"
    assert files_under(store.root) == [KEY]  # no temp file left behind


def test_put_file_reports_progress_per_chunk(store: LocalStore, tmp_path: Path) -> None:
    source = make_file(tmp_path, "a.flac", os.urandom(2 * 1024 * 1024 + 10))
    progress: list[int] = []

    store.put_file(
        KEY,
        source,
        content_type="audio/flac",
        size=source.stat().st_size,
        sha256=sha256_of(source),
        on_progress=progress.append,
    )

    assert progress == [1024 * 1024, 2 * 1024 * 1024, 2 * 1024 * 1024 + 10]


def test_put_file_replaces_an_existing_object(store: LocalStore, tmp_path: Path) -> None:
    put(store, make_file(tmp_path, "old.flac", b"old"))

    put(store, make_file(tmp_path, "new.flac", b"newer"))

    assert (store.root / KEY).read_bytes() == b"newer"


def test_a_failed_copy_leaves_neither_object_nor_temp_file(
    store: LocalStore, tmp_path: Path
) -> None:
    source = make_file(tmp_path, "a.flac", b"x" * 3_000_000)

    def interrupt(sent: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.put_file(
            KEY,
            source,
            content_type="audio/flac",
            size=3_000_000,
            sha256=sha256_of(source),
            on_progress=interrupt,
        )

    assert files_under(store.root) == []


def test_a_full_disk_is_transient_and_leaves_nothing(
    store: LocalStore, tmp_path: Path, mocker: MockerFixture
) -> None:
    mocker.patch("os.fsync", side_effect=OSError(errno.ENOSPC, "No space left on device"))

    with pytest.raises(TransientStorageError, match="No space left"):
        put(store, make_file(tmp_path, "a.flac", b"abc"))

    assert files_under(store.root) == []


def test_a_file_that_changed_size_is_refused(store: LocalStore, tmp_path: Path) -> None:
    source = make_file(tmp_path, "a.flac", b"abc")

    with pytest.raises(StagedCopyChanged, match="changed after it was queued"):
        store.put_file(KEY, source, content_type="audio/flac", size=10, sha256=sha256_of(source))

    assert not store.root.exists() or files_under(store.root) == []


def test_a_missing_source_is_permanent(store: LocalStore, tmp_path: Path) -> None:
    with pytest.raises(PermanentStorageError, match="cannot read"):
        store.put_file(
            KEY, tmp_path / "gone.flac", content_type="audio/flac", size=1, sha256="0" * 64
        )


@pytest.mark.parametrize(
    "key", ["../escape.flac", "a/../../b", "/abs.flac", "a//b", "a/./b", "", "café.flac", "a\nb"]
)
def test_unsafe_keys_are_refused_and_nothing_is_written(
    store: LocalStore, tmp_path: Path, key: str
) -> None:
    source = make_file(tmp_path, "a.flac", b"abc")

    with pytest.raises(PermanentStorageError, match="invalid object key"):
        put(store, source, key=key)

    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.flac"]


def test_info_gives_the_size_and_no_md5(store: LocalStore, tmp_path: Path) -> None:
    put(store, make_file(tmp_path, "a.flac", b"abcde"))

    info = store.info(KEY)

    assert info is not None
    assert (info.key, info.size, info.md5) == (KEY, 5, None)


def test_info_of_a_missing_object_or_a_folder_is_none(store: LocalStore, tmp_path: Path) -> None:
    put(store, make_file(tmp_path, "a.flac", b"abc"))

    assert store.info("releases/none.flac") is None
    assert store.info("releases/r1") is None
    assert store.info(f"{KEY}/below") is None


def test_remove_deletes_and_prunes_empty_folders_but_not_the_root(
    store: LocalStore, tmp_path: Path
) -> None:
    put(store, make_file(tmp_path, "a.flac", b"abc"))

    store.remove(KEY)
    store.remove(KEY)

    assert store.root.is_dir()
    assert list(store.root.iterdir()) == []


def test_remove_keeps_folders_that_still_hold_objects(store: LocalStore, tmp_path: Path) -> None:
    source = make_file(tmp_path, "a.flac", b"abc")
    put(store, source)
    put(store, source, key="releases/r1/02-outro.flac")

    store.remove(KEY)

    assert files_under(store.root) == ["releases/r1/02-outro.flac"]


def test_url_for_is_a_file_url_of_the_stored_object(store: LocalStore, tmp_path: Path) -> None:
    put(store, make_file(tmp_path, "a.flac", b"abc"), key="releases/r1/01 intro.flac")

    url = store.url_for("releases/r1/01 intro.flac")

    assert url.startswith("file:///")
    assert url.endswith("/releases/r1/01%20intro.flac")
    assert Path(unquote(urlparse(url).path)).read_bytes() == b"abc"


def test_ensure_bucket_creates_the_folder(store: LocalStore) -> None:
    store.ensure_bucket()

    assert store.root.is_dir()


def test_ensure_bucket_under_a_file_is_permanent_with_the_fix(tmp_path: Path) -> None:
    blocker = make_file(tmp_path, "not-a-folder", b"")
    store = LocalStore(blocker / "storage")

    with pytest.raises(PermanentStorageError, match="VWAZA_HOME"):
        store.ensure_bucket()


def test_probe_writes_and_removes_its_object(store: LocalStore) -> None:
    store.probe()

    assert store.root.is_dir()
    assert list(store.root.iterdir()) == []


def test_probe_failure_says_what_to_check(
    store: LocalStore, tmp_path: Path, mocker: MockerFixture
) -> None:
    mocker.patch("os.replace", side_effect=PermissionError(errno.EACCES, "Permission denied"))

    with pytest.raises(PermanentStorageError, match="check the permissions and free space"):
        store.probe()

    assert files_under(store.root) == []


def test_open_store_defaults_to_the_local_folder_of_the_settings(tmp_path: Path) -> None:
    settings = load_settings({"VWAZA_HOME": str(tmp_path)})

    store = open_store(settings)

    assert isinstance(store, LocalStore)
    assert (store.name, store.root) == ("local", settings.local_storage_dir)


def test_open_store_with_supabase_but_no_key_is_permanent(tmp_path: Path) -> None:
    settings = load_settings(
        {"VWAZA_HOME": str(tmp_path), "VWAZA_STORAGE": "supabase", "SUPABASE_URL": "http://x"}
    )

    with pytest.raises(PermanentStorageError, match="SUPABASE_KEY"):
        open_store(settings)


def test_the_storage_package_does_not_import_storage3_or_httpx() -> None:
    from tests.support.imports import loaded_by_importing

    modules = ["vwaza_cli.storage", "vwaza_cli.storage.local"]
    assert loaded_by_importing(modules, ("storage3", "httpx", "supabase")) == []


# --- a copy that changed, and what interrupted copies leave ---------------------------------


def test_a_copy_whose_bytes_changed_is_refused_before_it_becomes_the_object(
    store: LocalStore, tmp_path: Path
) -> None:
    source = make_file(tmp_path, "a.flac", b"x" * 3_000_000)
    recorded = sha256_of(source)
    make_file(tmp_path, "a.flac", b"x" * 2_999_996 + b"oops")  # same size, other bytes

    with pytest.raises(StagedCopyChanged, match=f"SHA-256 {recorded} expected"):
        store.put_file(KEY, source, content_type="audio/flac", size=3_000_000, sha256=recorded)

    assert not store.root.exists() or files_under(store.root) == []


def _leftover(store: LocalStore, name: str = ".01-intro.flac.k3j4h5.part") -> Path:
    """A temp file as a daemon killed mid-copy leaves it: beside its object, unlocked."""
    folder = store.root / "releases" / "r1"
    folder.mkdir(parents=True, exist_ok=True)
    return make_file(folder, name, b"half a copy")


def test_sweep_removes_temp_files_whose_writer_is_gone_at_once(store: LocalStore) -> None:
    temp = _leftover(store)

    assert store.sweep_temp(timedelta(hours=1)) == 1  # just written, but nobody holds it

    assert not temp.exists()
    assert list(store.root.iterdir()) == []  # its emptied folders went too


def test_sweep_leaves_a_temp_file_its_live_writer_holds(store: LocalStore) -> None:
    temp = _leftover(store)
    with temp.open("rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)

        assert store.sweep_temp(timedelta(0)) == 0

    assert temp.exists()


def test_sweep_leaves_objects_and_other_names_alone(store: LocalStore, tmp_path: Path) -> None:
    put(store, make_file(tmp_path, "a.flac", b"abc"))
    folder = store.root / "releases" / "r1"
    others = [make_file(folder, n, b"x") for n in ("take.part", ".hidden", ".x.part.flac")]

    assert store.sweep_temp(timedelta(0)) == 0

    assert all(p.exists() for p in others)
    assert (store.root / KEY).read_bytes() == b"abc"


def test_sweep_goes_by_age_where_the_folder_has_no_locks(
    store: LocalStore, mocker: MockerFixture
) -> None:
    fresh, old = _leftover(store, ".a.flac.1.part"), _leftover(store, ".b.flac.2.part")
    past = time.time() - 7200
    os.utime(old, (past, past))
    mocker.patch("fcntl.flock", side_effect=OSError(errno.ENOLCK, "No locks available"))

    assert store.sweep_temp(timedelta(hours=1)) == 1

    assert (fresh.exists(), old.exists()) == (True, False)


def test_a_sweep_during_a_copy_leaves_it_alone(store: LocalStore, tmp_path: Path) -> None:
    source = make_file(tmp_path, "a.flac", os.urandom(3 * 1024 * 1024))
    swept: list[int] = []

    store.put_file(
        KEY,
        source,
        content_type="audio/flac",
        size=3 * 1024 * 1024,
        sha256=sha256_of(source),
        on_progress=lambda _sent: swept.append(store.sweep_temp(timedelta(0))),
    )

    assert swept == [0, 0, 0]
    assert (store.root / KEY).read_bytes() == source.read_bytes()
    assert files_under(store.root) == [KEY]
