"""Whether this command prints JSON: set by `--json` (or its absence) before anything prints.

Its own module so that the root command can reset it without loading the shared options."""

from __future__ import annotations

from contextvars import ContextVar

json_mode: ContextVar[bool] = ContextVar("json_mode", default=False)
