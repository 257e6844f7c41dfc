"""`vwaza-daemon` entry point."""

from __future__ import annotations


def run() -> None:
    print("vwaza-daemon: nothing to do yet")
