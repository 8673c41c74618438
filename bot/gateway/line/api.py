"""The LINE Messaging API as the gateway uses it: reply, push, loading animation, with
retries (tenacity) on rate limits, server errors and network errors, honouring LINE's
Retry-After."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

import aiohttp
from linebot.v3.messaging import (
    AsyncApiClient,
    AsyncMessagingApi,
    Configuration,
    Message,
    PushMessageRequest,
    ReplyMessageRequest,
    ShowLoadingAnimationRequest,
)
from linebot.v3.messaging.exceptions import ApiException
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

logger = logging.getLogger(__name__)

RETRYABLE = frozenset({429, 500, 502, 503, 504})
T = TypeVar("T")


class LineApiError(RuntimeError):
    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class LineApi:
    def __init__(
        self,
        access_token: str,
        base_url: str | None = None,
        attempts: int = 4,
        backoff: float = 0.5,
    ) -> None:
        # host=None means LINE's own https://api.line.me; tests point it at a local fake.
        configuration = Configuration(
            access_token=access_token, host=base_url.rstrip("/") if base_url else None
        )
        self._client = AsyncApiClient(configuration)
        self._api = AsyncMessagingApi(self._client)
        self.attempts = attempts
        self.backoff = backoff

    async def close(self) -> None:
        await self._client.close()

    async def _with_retries(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.attempts),
            wait=self._wait,
            retry=retry_if_exception(_retryable),
            before_sleep=lambda state: logger.warning(
                "LINE %s failed (attempt %d); retrying in %.1f s",
                what,
                state.attempt_number,
                state.next_action.sleep if state.next_action else 0.0,
            ),
            reraise=True,
        )

        async def attempt() -> T:
            # A coroutine function: tenacity would run a plain lambda as a sync call.
            return await call()

        try:
            return await retrying(attempt)
        except ApiException as exc:
            raise LineApiError(f"{what}: HTTP {exc.status} {exc.body}", exc.status) from exc
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise LineApiError(f"{what}: {type(exc).__name__}: {exc}") from exc

    def _wait(self, state: RetryCallState) -> float:
        """LINE's Retry-After when it gives one, else exponential backoff."""
        failure = state.outcome.exception() if state.outcome else None
        after = _retry_after(failure) if isinstance(failure, ApiException) else None
        return after or self.backoff * 2 ** (state.attempt_number - 1)

    async def reply(self, reply_token: str, messages: list[Message]) -> None:
        request = ReplyMessageRequest(replyToken=reply_token, messages=messages)
        await self._with_retries("reply", lambda: self._api.reply_message(request))

    async def push(self, to: str, messages: list[Message], retry_key: str | None = None) -> None:
        """Push with one retry key for all attempts, so that LINE delivers it only once."""
        key = retry_key or str(uuid.uuid4())
        request = PushMessageRequest(to=to, messages=messages)
        try:
            await self._with_retries(
                "push", lambda: self._api.push_message(request, x_line_retry_key=key)
            )
        except LineApiError as exc:
            if exc.status != 409:
                raise
            # LINE accepted a push with this key before: it was delivered, not again.
            logger.info("LINE push already accepted under its retry key")

    async def show_loading(self, chat_id: str, seconds: int = 20) -> None:
        request = ShowLoadingAnimationRequest(chatId=chat_id, loadingSeconds=seconds)
        await self._with_retries("loading", lambda: self._api.show_loading_animation(request))


def _retryable(exc: BaseException) -> bool:
    """Rate limits, LINE's server errors and network errors; not a refused request."""
    if isinstance(exc, ApiException):
        return exc.status in RETRYABLE
    return isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError)


def _retry_after(exc: ApiException) -> float | None:
    headers = getattr(exc, "headers", None) or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        return min(float(value), 30.0) if value else None
    except ValueError:
        return None
