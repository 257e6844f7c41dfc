"""The object store: where uploaded audio and covers end up.

`open_store` picks the backend named by the settings. The Supabase backend is imported only
then, so that nothing else pays for storage3 and httpx.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vwaza_cli.storage.base import ObjectInfo, ObjectStore, ProgressCallback, Timeouts
from vwaza_cli.storage.local import LocalStore

if TYPE_CHECKING:
    from vwaza_cli.settings import Settings

__all__ = ["ObjectInfo", "ObjectStore", "ProgressCallback", "Timeouts", "open_store"]


def open_store(settings: Settings, *, timeouts: Timeouts | None = None) -> ObjectStore:
    """The store the settings ask for; `timeouts` only matter to network backends."""
    if settings.storage == "supabase":
        # Lazy on purpose: storage.supabase imports storage3 and httpx at its top.
        from vwaza_cli.storage.supabase import SupabaseStore

        return SupabaseStore.from_settings(settings, timeouts=timeouts or Timeouts())
    return LocalStore(settings.local_storage_dir)
