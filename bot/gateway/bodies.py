"""The residents' API request bodies as Pydantic models, refused with the gateway's own
messages (one per field, naming what is expected), not Pydantic's."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, ValidationError

from bot.gateway.json_body import BadRequest
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


def parse_body(model: type[Body], data: dict[str, Any]) -> Body:
    """``data`` as ``model``; BadRequest with the first problem in the gateway's words."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else ""
        if error["type"] == "value_error":
            message = str(error["ctx"]["error"])
        else:
            message = EXPECTED.get(field, f"'{field}': {error['msg']}")
        raise BadRequest(message) from None
