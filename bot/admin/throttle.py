"""Slows down password guessing on the sign-in form.

After ``limit`` failed sign-ins for one username, or from one client address, within
``window`` seconds, further attempts are refused until the oldest failure is that old.
Kept in memory: a gateway restart forgets it, which is acceptable for a brake on guessing.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque


class SignInThrottle:
    def __init__(self, limit: int = 5, window: float = 900.0) -> None:
        self.limit = limit
        self.window = window
        self._failures: defaultdict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    @staticmethod
    def _keys(username: str, client: str) -> tuple[str, str]:
        return f"user:{username.strip().casefold()}", f"client:{client}"

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures[key]
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def retry_after(self, username: str, client: str) -> float:
        """Seconds to wait before another attempt is allowed (0 when allowed now)."""
        now = time.monotonic()
        with self._lock:
            waits = [
                failures[0] + self.window - now
                for key in self._keys(username, client)
                if len(failures := self._recent(key, now)) >= self.limit
            ]
        return max(waits, default=0.0)

    def failed(self, username: str, client: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in self._keys(username, client):
                self._recent(key, now).append(now)

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(self._keys(username, "")[0], None)
