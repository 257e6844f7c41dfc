"""The daemon's side duties: periodic tasks on one thread, and the storage gate."""

from __future__ import annotations

import logging
import threading

import pytest

from daemon.duties import StorageGate, Task, run_tasks
from vwaza_cli.errors import PermanentStorageError, TransientStorageError


def test_tasks_run_on_their_own_periods_until_stopped() -> None:
    stop = threading.Event()
    runs: list[str] = []

    def stop_after_a_while() -> None:
        runs.append("stop")
        stop.set()

    tasks = [
        Task("often", 0.01, lambda: runs.append("often"), first_after=0.0),
        Task("rarely", 10.0, lambda: runs.append("rarely")),
        Task("stop", 0.1, stop_after_a_while),
    ]
    run_tasks(tasks, stop)
    assert runs[0] == "often"  # first_after=0: at once
    assert runs[-1] == "stop"
    assert runs.count("often") >= 3
    assert "rarely" not in runs  # one period (10 s) from the start


def test_run_tasks_returns_at_once_when_already_stopped() -> None:
    stop = threading.Event()
    stop.set()
    ran: list[str] = []
    run_tasks([Task("t", 0.0, lambda: ran.append("t"), first_after=0.0)], stop)
    assert ran == []


class _Store:
    """Just what the gate asks of a store: ensure_bucket, failing as told."""

    def __init__(self) -> None:
        self.failure: Exception | None = None

    def ensure_bucket(self) -> None:
        if self.failure is not None:
            raise self.failure


def test_the_gate_opens_when_storage_accepts_us_and_for_transient_failures() -> None:
    store = _Store()
    gate = StorageGate(store)  # a stand-in with only ensure_bucket
    assert not gate.is_open
    store.failure = TransientStorageError("timeout")
    assert gate.check() is True
    assert gate.is_open


def test_a_refusal_closes_the_gate_and_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    store = _Store()
    gate = StorageGate(store)  # a stand-in with only ensure_bucket
    store.failure = PermanentStorageError("invalid key")
    with caplog.at_level(logging.ERROR, logger="vwaza.daemon"):
        assert gate.check() is False
        gate.recheck_if_closed()
        gate.recheck_if_closed()
    assert not gate.is_open
    assert [r.getMessage() for r in caplog.records].count(
        "storage refuses us, no upload starts until fixed: invalid key"
    ) == 1
    store.failure = None
    gate.recheck_if_closed()
    assert gate.is_open
