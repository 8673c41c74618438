"""Reading a JSON request body safely: size-limited, UTF-8 only, a JSON object, with
error messages a developer can act on."""

from __future__ import annotations

from typing import Any

import pydantic_core
from fastapi import Request
from fastapi.responses import JSONResponse


class BadRequest(ValueError):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def json_error(message: str, status: int) -> JSONResponse:
    # After a 413 the rest of the body is not wanted: without "close", the server would read
    # it all to keep the connection open.
    headers = {"Connection": "close"} if status == 413 else None
    return JSONResponse({"error": message}, status_code=status, headers=headers)


async def read_json_object(request: Request, max_bytes: int) -> dict[str, Any]:
    """The request body as a JSON object, never reading more than ``max_bytes``."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise BadRequest(f"request body is larger than {max_bytes} bytes", 413)
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise BadRequest(f"request body is larger than {max_bytes} bytes", 413)
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest("request body is not UTF-8 text") from exc
    try:
        # pydantic's parser refuses, with a message, what the standard library would turn
        # into a 500: nesting past its recursion limit, numbers out of range, lone surrogates.
        data = pydantic_core.from_json(body)
    except ValueError as exc:
        raise BadRequest(f"request body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise BadRequest("request body must be a JSON object")
    return data
