"""Slows down password guessing on the sign-in form without letting a stranger lock a
staff member out.

Failed sign-ins are counted over a sliding ``window`` (15 minutes) three ways:

- per client address: at ``address_limit`` (10) failures the address is refused until its
  oldest counted failure is ``window`` old. An IPv6 address counts with its /64 network,
  since one subscriber usually holds a whole /64 and could otherwise rotate addresses;
- per account and address: at ``pair_limit`` (5) that pair is refused the same way;
- per account, from any address: never refused, because a refusal there is exactly the
  lockout a stranger could cause. From ``account_limit`` (5) failures on, every attempt at
  the account is answered only after ``first_delay`` seconds, doubling with each further
  failure up to ``max_delay`` (1, 2, 4, 4 … seconds).

A successful sign-in clears the account's count and the pair's, not the address's: one
known password must not buy an address more guesses at other accounts.

Kept in memory: a gateway restart forgets it, which is acceptable for a brake on guessing.
Keys whose last failure is older than the window are forgotten, and at most ``max_keys``
are kept (the least recently failing go first), so a flood of names cannot exhaust memory.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

# Usernames are at most 64 characters; longer input is cut so that it cannot bloat the keys.
# A cut name is longer than any real account's, so it never counts against a real account.
MAX_NAME_CHARS = 65

Key = tuple[str, ...]


@dataclass(frozen=True)
class Verdict:
    """What the sign-in form should do with one attempt."""

    retry_after: float  # > 0: refuse now (429); another attempt is allowed after this long
    delay: float  # seconds to wait before checking the password (0: answer at once)


def client_key(client: str) -> str:
    """The address as counted: IPv6 by its /64 network, IPv4-mapped IPv6 as plain IPv4."""
    try:
        ip = ipaddress.ip_address(client)
    except ValueError:
        return client[:100]  # not an IP (a unix socket, a test client): count it as given
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class SignInThrottle:
    def __init__(
        self,
        *,
        window: float = 900.0,
        address_limit: int = 10,
        pair_limit: int = 5,
        account_limit: int = 5,
        first_delay: float = 1.0,
        max_delay: float = 4.0,
        max_keys: int = 20_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window = window
        self.address_limit = address_limit
        self.pair_limit = pair_limit
        self.account_limit = account_limit
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.max_keys = max_keys
        self.clock = clock
        # Ordered by each key's latest failure, so expired keys are all at the front.
        self._failures: OrderedDict[Key, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _keys(username: str, client: str) -> tuple[Key, Key, Key]:
        name = username.strip().casefold()[:MAX_NAME_CHARS]
        address = client_key(client)
        return ("address", address), ("pair", name, address), ("account", name)

    def _maxlen(self, kind: str) -> int:
        # Only the latest failures matter: refusal needs `limit` of them, the delay stops
        # growing once it reaches max_delay (a few doublings past account_limit).
        if kind == "address":
            return self.address_limit
        if kind == "pair":
            return self.pair_limit
        return self.account_limit + 16

    def _recent(self, key: Key, now: float) -> deque[float]:
        failures = self._failures.get(key)
        if failures is None:
            return deque()
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def check(self, username: str, client: str) -> Verdict:
        """How to treat an attempt to sign in as ``username`` from ``client`` now."""
        now = self.clock()
        address, pair, account = self._keys(username, client)
        with self._lock:
            waits = [
                failures[0] + self.window - now
                for key, limit in ((address, self.address_limit), (pair, self.pair_limit))
                if len(failures := self._recent(key, now)) >= limit
            ]
            beyond = len(self._recent(account, now)) - self.account_limit
        delay = 0.0
        if beyond >= 0:
            delay = min(self.first_delay * 2.0 ** min(beyond, 30), self.max_delay)
        return Verdict(retry_after=max(waits, default=0.0), delay=delay)

    def failed(self, username: str, client: str) -> None:
        now = self.clock()
        with self._lock:
            for key in self._keys(username, client):
                failures = self._recent(key, now)
                if key not in self._failures:
                    failures = self._failures[key] = deque(maxlen=self._maxlen(key[0]))
                failures.append(now)
                self._failures.move_to_end(key)
            self._forget(now)

    def succeeded(self, username: str, client: str) -> None:
        _, pair, account = self._keys(username, client)
        with self._lock:
            self._failures.pop(pair, None)
            self._failures.pop(account, None)

    def _forget(self, now: float) -> None:
        """Drop keys with no failure in the window, then the oldest beyond max_keys."""
        while self._failures:
            key, failures = next(iter(self._failures.items()))
            fresh = bool(failures) and failures[-1] > now - self.window
            if fresh and len(self._failures) <= self.max_keys:
                break
            del self._failures[key]

    def tracked(self) -> int:
        """How many keys are remembered (for tests of the memory bound)."""
        return len(self._failures)
