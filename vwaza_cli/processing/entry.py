"""Where a daemon's worker process starts: light at its top (the standard library and the
plain values of work.py), so that unpickling the worker's target loads neither the store
nor the ORM; the renderer is already in the process, preloaded by the forkserver it forks
from (daemon/processing.py)."""

from __future__ import annotations

import multiprocessing.connection
import os
import select
import signal
import threading
import time

from vwaza_cli.processing.work import Request, UndecodableMaster


def work(request: Request, connection: multiprocessing.connection.Connection, daemon: int) -> None:
    """Process, send the outcome (or the failure) back to the daemon, exit."""
    end_with(daemon)
    from vwaza_cli.processing.render import process_master

    try:
        connection.send(("done", process_master(request)))
    except UndecodableMaster as exc:
        connection.send(("undecodable", str(exc)))
    except Exception as exc:  # reported to the daemon, which decides
        connection.send(("failed", f"{type(exc).__name__}: {exc}"))
    finally:
        connection.close()


def end_with(daemon_pid: int) -> None:
    """Exit as soon as the daemon that asked for the work is gone (killed or crashed), so
    no worker writes on for a daemon that will never record its work. The worker's parent
    is the forkserver, which outlives a killed daemon while any worker runs (each holds its
    end of the forkserver's pipe), so the kernel's parent-death signal would never fire:
    the worker watches the daemon itself, through a pidfd where Linux has one."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the daemon's to handle
    try:
        watched = os.pidfd_open(daemon_pid)
    except (AttributeError, OSError):  # no pidfds: poll instead
        threading.Thread(target=_poll_for_exit, args=(daemon_pid,), daemon=True).start()
        return
    threading.Thread(target=_wait_for_exit, args=(watched,), daemon=True).start()


def _wait_for_exit(watched: int) -> None:
    select.select([watched], [], [])  # readable once the process has exited
    os._exit(1)


def _poll_for_exit(daemon_pid: int) -> None:
    while True:
        time.sleep(0.5)
        try:
            os.kill(daemon_pid, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:
            pass
