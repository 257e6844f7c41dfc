"""pytest fixtures around the Storage-protocol server (registered through `pytest_plugins`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.storage_server import StorageServer, run_storage_server
from vwaza_cli.settings import DEFAULT_BUCKET, Settings, load_settings
from vwaza_cli.storage import Timeouts
from vwaza_cli.storage.supabase import SupabaseStore

# Short enough that a hang test is quick, long enough for a loaded CI machine.
TEST_TIMEOUTS = Timeouts(connect=5.0, read=5.0, write=5.0, pool=5.0)


@pytest.fixture
def storage_server(tmp_path: Path) -> Iterator[StorageServer]:
    """A fresh Storage server with the default bucket (public) already created."""
    with run_storage_server(tmp_path / "storage-server", bucket=DEFAULT_BUCKET) as server:
        yield server


@pytest.fixture
def supabase_settings(tmp_path: Path, storage_server: StorageServer) -> Settings:
    """Settings pointed at `storage_server` with its service key; VWAZA_HOME is tmp_path."""
    return load_settings(
        {
            "VWAZA_HOME": str(tmp_path),
            "SUPABASE_URL": storage_server.url,
            "SUPABASE_KEY": storage_server.key,
            "VWAZA_STORAGE": "supabase",
        }
    )


@pytest.fixture
def supabase_store(supabase_settings: Settings) -> Iterator[SupabaseStore]:
    """The real storage3-backed store against `storage_server`, closed after the test."""
    with SupabaseStore.from_settings(supabase_settings, timeouts=TEST_TIMEOUTS) as store:
        yield store
