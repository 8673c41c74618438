"""The municipality profile and the placeholders FAQ answers use to show city facts.

Answers never hold a city's phone numbers, counters, hours or pages themselves; they say
``{dept.shimin.phone}`` or ``{office_hours}`` and the profile fills them in, in the answer's
language where the profile has it (Japanese otherwise).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from bot.faq.office_hours import OfficeHours

# `{dept.shimin.phone}`; `{{` and `}}` stand for literal braces.
PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z0-9_.-]*)\}")
DEFAULT_LANG = "ja"


class ProfileError(ValueError):
    """The profile file is missing, unreadable or lacks a required field."""


def _per_language(value: Any) -> Any:
    """A plain text stands for its Japanese version."""
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, str | int | float):
        return {DEFAULT_LANG: str(value)}
    return value


PerLanguage = Annotated[dict[str, str], BeforeValidator(_per_language)]


class Department(BaseModel):
    model_config = ConfigDict(frozen=True, coerce_numbers_to_str=True)

    key: str = ""
    name: PerLanguage
    phone: str
    counter: PerLanguage = Field(default_factory=dict)


class Profile(BaseModel):
    """A city's own facts, read from ``faq/municipality.yml``.

    Fields the assistant reads are typed; any other field (``address``...) is kept, so that
    an answer can show it as ``{city.address}``.
    """

    model_config = ConfigDict(frozen=True, extra="allow", coerce_numbers_to_str=True)

    name: PerLanguage
    office_hours: PerLanguage
    website: str
    departments: dict[str, Department]
    main_phone: str | None = None
    extended_hours: PerLanguage | None = None
    pages: dict[str, str] = Field(default_factory=dict)
    # When the counters are open, machine-readable (see `OfficeHours`); None when unknown.
    hours: dict[str, Any] | None = None

    @classmethod
    def load(cls, path: str | Path) -> Profile:
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ProfileError(f"{path}: cannot read the municipality profile: {exc}") from exc
        if not isinstance(data, dict):
            raise ProfileError(f"{path}: the profile must be a mapping")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ProfileError(f"{path}: {_problems(exc)}") from exc

    @field_validator("departments", mode="before")
    @classmethod
    def _keyed(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        for key, dept in value.items():
            if not isinstance(dept, dict) or not {"name", "phone"} <= dept.keys():
                raise PydanticCustomError(
                    "profile", "department '{key}' needs a name and a phone", {"key": str(key)}
                )
        return {key: {**dept, "key": key} for key, dept in value.items()}

    @field_validator("hours")
    @classmethod
    def _readable_hours(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            OfficeHours.from_profile(value)  # names the bad field in its ValueError
        return value

    def city_name(self, lang: str = DEFAULT_LANG) -> str:
        return pick(self.name, lang)

    def lookup(self, key: str, lang: str = DEFAULT_LANG) -> str | None:
        """The text for one placeholder key, or None when the profile has no such key."""
        parts = key.split(".")
        if parts[0] == "dept" and len(parts) == 3:
            dept = self.departments.get(parts[1])
            if dept is None:
                return None
            field = parts[2]
            if field == "phone":
                return dept.phone
            if field in ("name", "counter"):
                return pick(getattr(dept, field), lang)
            return None
        if parts[0] == "city" and len(parts) == 2:
            value = self.city_fact(parts[1])
            return None if value is None else pick(value, lang)
        if parts[0] == "pages" and len(parts) == 2:
            return self.pages.get(parts[1])
        if len(parts) == 1 and parts[0] in ("office_hours", "extended_hours"):
            value = getattr(self, parts[0])
            return None if value is None else pick(value, lang)
        return None

    def city_fact(self, name: str) -> Any:
        """A top-level field of the profile, typed or one the city added; None if absent."""
        if name in type(self).model_fields:
            return getattr(self, name)
        return (self.model_extra or {}).get(name)

    def render(self, text: str, lang: str = DEFAULT_LANG) -> str:
        """Fill every placeholder in ``text``; unknown ones are left as they are."""

        def fill(match: re.Match[str]) -> str:
            if match.group(1) is None:  # an escaped brace
                return match.group(0)[0]
            value = self.lookup(match.group(1), lang)
            return match.group(0) if value is None else value

        return PLACEHOLDER.sub(fill, text)

    def unknown_placeholders(self, text: str) -> list[str]:
        return [
            m.group(0)
            for m in PLACEHOLDER.finditer(text)
            if m.group(1) is not None and self.lookup(m.group(1)) is None
        ]

    def contact(self, department: str | None, lang: str = DEFAULT_LANG) -> str:
        """A one-paragraph 'who to ask' text for a department (or the general desk)."""
        dept = self.departments.get(department or "") or self.departments.get("soumu")
        hours = pick(self.office_hours, lang)
        if dept is None:
            phone = self.main_phone or ""
            return _CONTACT[_lang_or_default(lang)].format(
                name=self.city_name(lang), counter="", phone=phone, hours=hours
            )
        return _CONTACT[_lang_or_default(lang)].format(
            name=pick(dept.name, lang),
            counter=pick(dept.counter, lang),
            phone=dept.phone,
            hours=hours,
        )


_CONTACT = {
    "ja": "{name}（{counter}）電話 {phone}\n受付時間：{hours}",
    "en": "{name} ({counter}), phone {phone}\nOpen: {hours}",
    "zh": "{name}（{counter}）电话 {phone}\n受理时间：{hours}",
    "ko": "{name}({counter}) 전화 {phone}\n접수 시간: {hours}",
    "vi": "{name} ({counter}), điện thoại {phone}\nGiờ làm việc: {hours}",
    "pt": "{name} ({counter}), telefone {phone}\nHorário: {hours}",
}


def _lang_or_default(lang: str) -> str:
    return lang if lang in _CONTACT else DEFAULT_LANG


def _problems(error: ValidationError) -> str:
    """Every problem of the profile, in the words staff read."""
    messages = []
    for detail in error.errors(include_url=False):
        field = ".".join(str(part) for part in detail["loc"])
        if detail["type"] == "missing":
            messages.append(f"missing required field '{field}'")
        elif detail["type"] == "profile":
            messages.append(detail["msg"])
        elif detail["type"] == "value_error":
            messages.append(str(detail["ctx"]["error"]))
        else:
            messages.append(f"'{field}': {detail['msg']}")
    return "; ".join(messages)


def pick(value: Any, lang: str) -> str:
    """The ``lang`` version of a per-language value, falling back to Japanese, then any."""
    if not isinstance(value, dict):
        return str(value)
    for candidate in (lang, DEFAULT_LANG):
        if candidate in value:
            return str(value[candidate])
    return str(next(iter(value.values()), ""))
