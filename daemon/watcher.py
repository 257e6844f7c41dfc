"""Wake the worker loop when a file lands in the spool (watchdog), without trusting it alone:
watchdog drops events under load, so the loop also polls the store."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger("vwaza.daemon")


def watch_spool(folder: Path, wake: threading.Event) -> Any | None:
    """Start an observer that sets ``wake`` on any file event; None if watching is impossible."""
    try:
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer
    except ImportError:  # pragma: no cover - watchdog is a dependency
        return None

    class _Waker(FileSystemEventHandler):
        # a file arriving (created, or renamed into the spool), not the daemon's own deletes
        def on_created(self, event: Any) -> None:
            if not event.is_directory:
                wake.set()

        def on_moved(self, event: Any) -> None:
            if not event.is_directory:
                wake.set()

    folder.mkdir(parents=True, exist_ok=True)
    observer = Observer()
    observer.daemon = True
    try:
        observer.schedule(_Waker(), str(folder), recursive=False)
        observer.start()
    except OSError as exc:  # e.g. inotify watch limit reached: polling still works
        log.warning("cannot watch %s (%s): polling only", folder, exc)
        return None
    return observer
