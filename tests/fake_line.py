"""A real HTTP fake of the LINE Messaging API on localhost, for tests and benchmarks.

It records every request it receives, and can be told to answer some of them with an error
status (429, 500, an expired reply token's 400) or after a delay. Like LINE, it takes a reply
token once, and a push's X-Line-Retry-Key once (409 for a key it already accepted);
``delivered`` lists what reached residents.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.stack import free_port


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float


@dataclass
class FakeLine:
    port: int = field(default_factory=free_port)
    received: list[Received] = field(default_factory=list)
    # Per path: statuses to answer before behaving normally (e.g. [429, 500]).
    failures: dict[str, deque[int]] = field(default_factory=dict)
    delay: float = 0.0
    expired_tokens: set[str] = field(default_factory=set)
    delivered: list[Received] = field(default_factory=list)
    _retry_keys: set[str] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def gateway_env(self, secret: str) -> dict[str, str]:
        """What a gateway needs to send its LINE traffic here."""
        return {
            "LINE_CHANNEL_SECRET": secret,
            "LINE_CHANNEL_ACCESS_TOKEN": "test-token",
            "LINE_API_BASE_URL": self.url,
        }

    def fail(self, path: str, *statuses: int) -> None:
        self.failures.setdefault(path, deque()).extend(statuses)

    def requests(self, path: str) -> list[Received]:
        return [r for r in list(self.received) if r.path == path]

    def wait_for(self, path: str, count: int = 1, timeout: float = 60.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.requests(path)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"expected {count} request(s) to {path}, got {self.requests(path)}")

    async def _endpoint(self, request: Request) -> JSONResponse:
        body = json.loads(await request.body() or b"{}")
        received = Received(request.url.path, dict(request.headers), body, time.time())
        self.received.append(received)
        if self.delay:
            await asyncio.sleep(self.delay)
        queue = self.failures.get(request.url.path)
        if queue:
            status = queue.popleft()
            headers = {"Retry-After": "0"} if status == 429 else {}
            return JSONResponse({"message": "fake failure"}, status_code=status, headers=headers)
        if request.url.path.endswith("/reply"):
            if body.get("replyToken") in self.expired_tokens:
                return JSONResponse({"message": "Invalid reply token"}, status_code=400)
            self.expired_tokens.add(body.get("replyToken"))  # a reply token works once
        if request.url.path.endswith("/push"):
            key = request.headers.get("x-line-retry-key")
            if key in self._retry_keys:
                return JSONResponse({"message": "The retry key is already accepted"}, 409)
            if key:
                self._retry_keys.add(key)
        if request.url.path.endswith(("/reply", "/push")):
            self.delivered.append(received)
            sent = [{"id": str(n), "quoteToken": "q"} for n, _ in enumerate(body["messages"])]
            return JSONResponse({"sentMessages": sent})
        return JSONResponse({})

    def start(self) -> FakeLine:
        app = Starlette(routes=[Route("/{path:path}", self._endpoint, methods=["POST"])])
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


def sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def user_event(
    kind: str,
    user: str = "U" + "0" * 32,
    payload: dict[str, Any] | None = None,
    replyable: bool = True,
    event_id: str | None = None,
    token: str | None = None,
    age_seconds: float = 0.0,
    redelivery: bool = False,
    source_type: str = "user",
) -> dict[str, Any]:
    """A webhook event of ``kind`` from one user; ``payload`` is merged in (e.g. "follow")."""
    source: dict[str, Any] = {"type": source_type, "userId": user}
    if source_type == "group":
        source["groupId"] = "C" + "1" * 32
    event: dict[str, Any] = {
        "type": kind,
        "mode": "active",
        "timestamp": int((time.time() - age_seconds) * 1000),
        "source": source,
        "webhookEventId": event_id or _new_id(),
        "deliveryContext": {"isRedelivery": redelivery},
    }
    if replyable:
        event["replyToken"] = token or _new_id()
    return {**event, **(payload or {})}


def text_event(text: str, user: str = "U" + "0" * 32, **options: Any) -> dict[str, Any]:
    message = {"type": "text", "id": _new_id(), "text": text, "quoteToken": "q"}
    return user_event("message", user, {"message": message}, **options)


def postback_event(user: str, data: str) -> dict[str, Any]:
    return user_event("postback", user, {"postback": {"data": data}})


# What LINE added to webhook events over the years, and older payloads therefore lack.
NEWER_EVENT_FIELDS = frozenset({"mode", "webhookEventId", "deliveryContext", "follow"})
NEWER_MESSAGE_FIELDS = frozenset(
    {"quoteToken", "contentProvider", "stickerResourceType", "markAsReadToken"}
)


def older_format(event: dict[str, Any]) -> dict[str, Any]:
    """``event`` as LINE sent it before those fields existed."""
    older = {k: v for k, v in event.items() if k not in NEWER_EVENT_FIELDS}
    if isinstance(event.get("message"), dict):
        message = event["message"]
        older["message"] = {k: v for k, v in message.items() if k not in NEWER_MESSAGE_FIELDS}
    return older


def _new_id() -> str:
    import uuid

    return uuid.uuid4().hex


def webhook_body(*events: dict[str, Any]) -> bytes:
    return json.dumps({"destination": "U" + "f" * 32, "events": list(events)}).encode()
