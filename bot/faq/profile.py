"""The municipality profile and the placeholders FAQ answers use to show city facts.

Answers never hold a city's phone numbers, counters, hours or pages themselves; they say
``{dept.shimin.phone}`` or ``{office_hours}`` and the profile fills them in, in the answer's
language where the profile has it (Japanese otherwise).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# `{dept.shimin.phone}`; `{{` and `}}` stand for literal braces.
PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z0-9_.-]*)\}")
DEFAULT_LANG = "ja"


class ProfileError(ValueError):
    """The profile file is missing, unreadable or lacks a required field."""


@dataclass(frozen=True)
class Department:
    key: str
    name: dict[str, str]
    phone: str
    counter: dict[str, str]


@dataclass(frozen=True)
class Profile:
    """A city's own facts, read from ``faq/municipality.yml``."""

    data: dict[str, Any]
    departments: dict[str, Department]

    @classmethod
    def load(cls, path: str | Path) -> Profile:
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ProfileError(f"{path}: cannot read the municipality profile: {exc}") from exc
        if not isinstance(data, dict):
            raise ProfileError(f"{path}: the profile must be a mapping")
        for required in ("name", "office_hours", "departments", "website"):
            if required not in data:
                raise ProfileError(f"{path}: missing required field '{required}'")
        departments = {}
        for key, dept in (data.get("departments") or {}).items():
            if not isinstance(dept, dict) or not {"name", "phone"} <= dept.keys():
                raise ProfileError(f"{path}: department '{key}' needs a name and a phone")
            departments[key] = Department(
                key=key,
                name=_per_language(dept["name"]),
                phone=str(dept["phone"]),
                counter=_per_language(dept.get("counter", "")),
            )
        return cls(data=data, departments=departments)

    def city_name(self, lang: str = DEFAULT_LANG) -> str:
        return pick(self.data["name"], lang)

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
            field = {"main_phone": "main_phone", "website": "website"}.get(parts[1], parts[1])
            value = self.data.get(field)
            return None if value is None else pick(value, lang)
        if parts[0] == "pages" and len(parts) == 2:
            value = (self.data.get("pages") or {}).get(parts[1])
            return None if value is None else str(value)
        if len(parts) == 1 and parts[0] in ("office_hours", "extended_hours"):
            value = self.data.get(parts[0])
            return None if value is None else pick(value, lang)
        return None

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
        hours = pick(self.data["office_hours"], lang)
        if dept is None:
            phone = str(self.data.get("main_phone", ""))
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


def _per_language(value: Any) -> dict[str, str]:
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    return {DEFAULT_LANG: str(value)}


def pick(value: Any, lang: str) -> str:
    """The ``lang`` version of a per-language value, falling back to Japanese, then any."""
    if not isinstance(value, dict):
        return str(value)
    for candidate in (lang, DEFAULT_LANG):
        if candidate in value:
            return str(value[candidate])
    return str(next(iter(value.values()), ""))
