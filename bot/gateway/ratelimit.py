"""A per-client token bucket for the gateway's public API.

``MADOGUCHI_RATE_LIMIT`` is "<requests>/<second|minute|hour>" (for example "30/minute"):
each client IP may make that many requests in a burst, and earns them back evenly over the
period. "off" turns the limit off. The buckets live in this process's memory, which is right
for one gateway process. Several gateways behind a load balancer share their buckets in Redis
when ``MADOGUCHI_REDIS_URL`` is set.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import redis.asyncio as redis
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.gateway.body_limit import send_json_error
from bot.settings import parse_rate

logger = logging.getLogger(__name__)

MAX_TRACKED_CLIENTS = 10_000


@dataclass(frozen=True)
class Rate:
    requests: int
    period: float  # seconds

    @classmethod
    def parse(cls, text: str) -> Rate | None:
        """Parse "30/minute" to Rate(30, 60.0) and "off" to None; raise ValueError otherwise."""
        parsed = parse_rate(text)
        return None if parsed is None else cls(*parsed)


def buckets_for(rate: Rate, redis_url: str) -> TokenBuckets | RedisTokenBuckets:
    """Buckets shared through Redis when a URL is set, else this process's own."""
    return RedisTokenBuckets(rate, redis_url) if redis_url else TokenBuckets(rate)


class TokenBuckets:
    """One bucket per key; the least recently seen keys are forgotten beyond a bound."""

    def __init__(
        self,
        rate: Rate,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_TRACKED_CLIENTS,
    ) -> None:
        self.rate = rate
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, time
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Take one token: 0.0 if allowed, else the seconds until a token is available."""
        capacity = float(self.rate.requests)
        per_second = self.rate.requests / self.rate.period
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.pop(key, (capacity, now))
            tokens = min(capacity, tokens + (now - last) * per_second)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / per_second
            self._buckets[key] = (tokens, now)
            while len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
        return wait

    async def acquire(self, key: str) -> float:
        return self.take(key)


# The same bucket as TokenBuckets.take, run atomically in Redis on Redis's clock, so that
# every gateway sees one bucket per client. Returns the wait as a string (Lua numbers
# would be cut to integers).
_TAKE_SCRIPT = """
local capacity = tonumber(ARGV[1])
local per_second = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'time')
local tokens = tonumber(state[1]) or capacity
local last = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - last) * per_second)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / per_second end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'time', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / per_second) + 1)
return tostring(wait)
"""


class RedisTokenBuckets:
    """Token buckets shared by several gateway processes through Redis.

    If Redis cannot be reached the request is let through (and a warning logged): a
    resident's question matters more than the limit."""

    def __init__(self, rate: Rate, url: str, prefix: str = "madoguchi:ratelimit:") -> None:
        self.rate = rate
        self.prefix = prefix
        self._redis = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self._script = self._redis.register_script(_TAKE_SCRIPT)

    async def acquire(self, key: str) -> float:
        try:
            wait = await self._script(
                keys=[self.prefix + key],
                args=[self.rate.requests, self.rate.requests / self.rate.period],
            )
        except (redis.RedisError, OSError) as exc:
            logger.warning("rate limit not applied, Redis unavailable: %s", exc)
            return 0.0
        return float(wait)

    async def close(self) -> None:
        await self._redis.aclose()


class RateLimitMiddleware:
    """Answers 429 with Retry-After when a client exceeds the rate on the limited paths."""

    def __init__(
        self,
        app: ASGIApp,
        buckets: TokenBuckets | RedisTokenBuckets,
        prefixes: tuple[str, ...] = ("/api/",),
    ) -> None:
        self.app = app
        self.buckets = buckets
        self.prefixes = prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope.get("method") == "OPTIONS"  # CORS preflights cost nothing
            or not str(scope.get("path", "")).startswith(self.prefixes)
        ):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        wait = await self.buckets.acquire(client[0] if client else "unknown")
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        retry_after = max(1, math.ceil(wait))
        await send_json_error(
            send,
            429,
            f"too many requests; try again in {retry_after} seconds",
            [(b"retry-after", str(retry_after).encode())],
        )
