"""When to try a failed upload again: a value, not a loop (the state lives in the store)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, capped, with a maximum number of failures."""

    base_seconds: float = 2.0
    cap_seconds: float = 300.0
    max_failures: int = 20

    def delay(self, failures: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after the ``failures``-th failure (1 = first)."""
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** max(failures - 1, 0))
        return (rng or random).uniform(0.0, ceiling)

    def next_attempt(
        self, failures: int, now: datetime, rng: random.Random | None = None
    ) -> datetime | None:
        """When to try again after ``failures`` failures, or None to give up (FAILED)."""
        if failures >= self.max_failures:
            return None
        return now + timedelta(seconds=self.delay(failures, rng))
