"""Request rates counted in this process's memory (a sliding window): uploads per client.

Sign-in failures and password-reset requests are counted in the database instead
(`chiso.accounts.throttle`), atomically, so every server process sees the same count. An
upload is refused at 120 a minute per signed-in user or token: a person cannot upload two
files a second, a runaway script can. With several processes each keeps its own window, so
the effective limit is N × 120 — a brake on runaway scripts, not a security boundary.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque


class SlidingWindow:
    """At most `limit` events per `seconds` for each key, counted in this process."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self._events: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def hit(self, key: str) -> bool:
        """Record one event; False when the key is over its limit (the event is not kept)."""
        with self._lock:
            events = self._current(key)
            if len(events) >= self.limit:
                return False
            events.append(time.monotonic())
            return True

    def _current(self, key: str) -> deque[float]:
        events = self._events[key]
        while events and events[0] <= time.monotonic() - self.seconds:
            events.popleft()
        return events

    def reset(self) -> None:
        with self._lock:
            self._events.clear()


UPLOADS_PER_CLIENT = SlidingWindow(limit=120, seconds=60)


def reset_all_windows() -> None:
    """Forget every in-process count (tests that upload many files in a row)."""
    UPLOADS_PER_CLIENT.reset()
