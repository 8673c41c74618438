"""The gateway's error format, {"error": message}, for every refusal a route or a dependency
raises: BadRequest with its status, and FastAPI's validation errors (typed bodies and query
parameters) as a 400 naming what was expected, and a database that cannot be reached as a
503 to retry (the residents' chat keeps answering: its log waits in a spool)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from bot.gateway.bodies import first_problem
from bot.gateway.json_body import BadRequest, json_error
from bot.storage.turn_log import UNREACHABLE


async def bad_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BadRequest)
    return json_error(str(exc), exc.status)


async def invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return json_error(first_problem(exc.errors()), 400)


async def database_unreachable(request: Request, exc: Exception) -> JSONResponse:
    return json_error("the service is not available right now; please try again", 503)


def add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(BadRequest, bad_request)
    app.add_exception_handler(RequestValidationError, invalid_request)
    for unreachable in UNREACHABLE:
        app.add_exception_handler(unreachable, database_unreachable)
