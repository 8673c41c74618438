"""The residents' API request bodies as Pydantic models, refused with the gateway's own
messages (one per field, naming what is expected), not Pydantic's: routes receive them
through `json_body` dependencies, and bot.gateway.errors turns a refusal into a 400."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, ValidationError

from bot.gateway.json_body import read_json_object
from bot.text.language import LANGUAGES

MAX_SESSION_ID_CHARS = 128
MAX_FAQ_ID_CHARS = 128
# What each field must be, said when it is missing or of the wrong type.
EXPECTED = {
    "session_id": "'session_id' is required and must be a non-empty string",
    "text": "'text' is required and must be a non-empty string",
    "faq_id": "'faq_id' is required and must be a FAQ entry id",
    "helpful": "'helpful' is required and must be true or false",
    "lang": f"'lang' must be one of {', '.join(LANGUAGES)}",
}
Language = Literal[LANGUAGES]  # type: ignore[valid-type]  # a tuple subscript: each code


def _session_id(value: str) -> str:
    if not value.strip():
        raise ValueError(EXPECTED["session_id"])
    if len(value) > MAX_SESSION_ID_CHARS:
        raise ValueError(f"'session_id' must be at most {MAX_SESSION_ID_CHARS} characters")
    return value


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError(EXPECTED["text"])
    return value


SessionId = Annotated[str, Field(strict=True), AfterValidator(_session_id)]


class ChatBody(BaseModel):
    """POST /api/chat: a resident's message; ``lang`` when the resident chose one."""

    model_config = ConfigDict(extra="ignore")

    session_id: SessionId
    text: Annotated[str, Field(strict=True), AfterValidator(_text)]
    lang: Language | None = None


class FeedbackBody(BaseModel):
    """POST /api/feedback: whether an answer helped."""

    model_config = ConfigDict(extra="ignore")

    session_id: SessionId
    faq_id: Annotated[str, Field(strict=True, min_length=1, max_length=MAX_FAQ_ID_CHARS)]
    helpful: StrictBool
    lang: Language = "ja"


Body = TypeVar("Body", bound=BaseModel)


def json_body(model: type[Body], max_bytes: int) -> Callable[[Request], Awaitable[Body]]:
    """A dependency giving the request's JSON body as ``model``.

    The body is read by `read_json_object` (size-limited, UTF-8, pydantic's JSON parser),
    not by FastAPI, whose standard-library parser lets some bodies through to a 500. A body
    that does not fit the model raises RequestValidationError, which the gateway's handler
    (bot.gateway.errors) answers in its own format.
    """

    async def read(request: Request) -> Body:
        data = await read_json_object(request, max_bytes)
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
            raise RequestValidationError(errors) from None

    return read


def first_problem(errors: Sequence[Any]) -> str:
    """The first of FastAPI's validation errors, said in the gateway's words."""
    error = errors[0]
    field = str(error["loc"][-1]) if len(error["loc"]) > 1 else ""
    if error["type"] == "value_error":
        return str(error["ctx"]["error"])
    if error["type"] == "json_invalid":
        return "request body is not valid JSON"
    return EXPECTED.get(field, f"'{field}': {error['msg']}")
