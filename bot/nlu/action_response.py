"""Rasa's check of the action server's reply, with its schema checked once.

Rasa 3.6 validates each reply of the action server with ``jsonschema.validate``, which
first checks the (constant) schema itself against the JSON Schema meta-schema: about a third
of a Rasa server's CPU time per message under load. This gives ``RemoteAction`` the same
check, the same schema and the same error, with the validator built once per process.
Applied when Rasa loads the project's components (bot.nlu's import).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jsonschema import Draft4Validator
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@lru_cache(maxsize=1)
def _validator() -> Draft4Validator:
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    error = best_match(_validator().iter_errors(result))
    if error is not None:
        error.message += (
            ". Failed to validate Action server response from API, "
            "make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


def install() -> None:
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
