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
        # watchdog (and its inotify thread) only once the daemon really runs
        from watchdog.observers import Observer
    except ImportError:  # pragma: no cover - watchdog is a dependency
        return None
    folder.mkdir(parents=True, exist_ok=True)
    observer = Observer()
    observer.daemon = True
    try:
        observer.schedule(_waker(wake), str(folder), recursive=False)
        observer.start()
    except OSError as exc:  # e.g. inotify watch limit reached: polling still works
        log.warning("cannot watch %s (%s): polling only", folder, exc)
        return None
    return observer


def _waker(wake: threading.Event) -> Any:
    """A handler that sets ``wake`` when a file arrives (created, or renamed into the
    spool), not on the daemon's own deletes."""
    from watchdog.events import FileSystemEvent, FileSystemEventHandler

    class Waker(FileSystemEventHandler):
        def on_created(self, event: FileSystemEvent) -> None:
            if not event.is_directory:
                wake.set()

        def on_moved(self, event: FileSystemEvent) -> None:
            if not event.is_directory:
                wake.set()

    return Waker()
