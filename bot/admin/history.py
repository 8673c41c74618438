"""Before/after of an audit record, field by field, for the history pages."""

from __future__ import annotations

from typing import Any

NESTED = ("questions", "answer")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n".join(_text(v) for v in value)
    if isinstance(value, dict):
        return "\n".join(f"{k}: {_text(v)}" for k, v in value.items())
    return str(value)


def changes(
    before: dict[str, Any] | None, after: dict[str, Any] | None
) -> list[tuple[str, str, str]]:
    """(field, before, after) for every field that differs; questions and answers per language."""
    before, after = before or {}, after or {}
    rows = []
    for key in dict.fromkeys([*before, *after]):
        old, new = before.get(key), after.get(key)
        if key in NESTED and isinstance(old or {}, dict) and isinstance(new or {}, dict):
            old, new = old or {}, new or {}
            for lang in dict.fromkeys([*old, *new]):
                if old.get(lang) != new.get(lang):
                    rows.append((f"{key}.{lang}", _text(old.get(lang)), _text(new.get(lang))))
        elif old != new:
            rows.append((key, _text(old), _text(new)))
    return rows
