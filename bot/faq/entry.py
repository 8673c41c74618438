"""One FAQ entry as a Pydantic model, with the curation rules it is checked against.

Rules that depend on where the entry lives (its file's category, the city's departments
and placeholders, how strict the corpus is) read `EntryRules` from the validation context;
without a context only the entry's own shape is checked. Each broken rule is one message,
and every field is checked, so staff see all of an entry's problems at once.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from bot.faq.profile import Profile, pick
from bot.text.language import LANGUAGES

ENTRY_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
REQUIRED_FIELDS = ("id", "category", "department", "questions", "answer", "source", "reviewed")
SOURCE_URL = re.compile(r"^https?://[^\s/]+\.[^\s]+$")

# Numbers and sites that an answer may show literally because they are the same in every
# city. Anything else city-specific must come from the profile through a placeholder.
NATIONAL_PHONES = frozenset(
    {
        "0120-95-0178",  # マイナンバー総合フリーダイヤル
        "0570-20-0178",  # マイナンバー総合ダイヤル
        "#7119",  # 救急安心センター (where the prefecture runs it)
        "#8000",  # 子ども医療電話相談
        "#8008",  # DV相談ナビ
        "#9110",  # 警察相談専用電話
        "#9910",  # 道路緊急ダイヤル
    }
)
NATIONAL_URL_HOST = re.compile(r"^(?:[a-z0-9-]+\.)*(?:go\.jp|myna\.go\.jp)$")
PHONE_LIKE = re.compile(
    r"(?<![\d-])(?:\+81[- ]?|0)\d{1,4}[- (]?\d{1,4}[- )]?\d{3,4}(?![\d-])|#\d{3,4}(?!\d)"
)
URL_LIKE = re.compile(r"https?://[^\s)」』、。]+")


@dataclass(frozen=True)
class EntryRules:
    """Where an entry is checked: its file, the city's profile and the corpus's rules.

    ``strict`` forbids literal phone numbers and web addresses besides national ones (a
    city's own pages imported for evaluation are not strict); ``complete`` requires every
    text in all six languages (what `faq validate` checks).
    """

    file: str
    profile: Profile
    strict: bool = True
    complete: bool = False

    @property
    def category(self) -> str:
        return Path(self.file).stem


class Link(BaseModel):
    model_config = ConfigDict(frozen=True)

    title: dict[str, str]
    url: str


class Entry(BaseModel):
    """A question residents ask, in up to six languages, and the answer the city gives."""

    model_config = ConfigDict(frozen=True, coerce_numbers_to_str=True)

    id: str
    category: str
    department: str
    questions: dict[str, tuple[str, ...]]
    answer: dict[str, str]
    links: tuple[Link, ...] = ()
    source: str
    reviewed: dt.date
    file: str = ""

    @classmethod
    def check(cls, item: dict[str, Any], rules: EntryRules) -> Entry | list[str]:
        """The entry ``item`` describes, or every problem that stops it from being one."""
        try:
            return cls.model_validate(item, context={"rules": rules})
        except ValidationError as exc:
            return problems_of(exc)

    def canonical_question(self, lang: str = "ja") -> str:
        questions = self.questions.get(lang) or self.questions["ja"]
        return questions[0]

    def answer_in(self, lang: str) -> tuple[str, str]:
        """The answer text and the language it is actually in (Japanese when untranslated)."""
        if lang in self.answer:
            return self.answer[lang], lang
        return self.answer["ja"], "ja"

    def link_title(self, link: Link, lang: str) -> str:
        return pick(link.title, lang)

    @model_validator(mode="before")
    @classmethod
    def _place(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict):
            return data
        # An empty required value is as missing as an absent one; the file is where the
        # entry was read from, never what the entry says.
        data = {k: v for k, v in data.items() if k not in REQUIRED_FIELDS or _given(v)}
        if (rules := _rules(info)) is not None:
            data["file"] = rules.file
        return data

    @field_validator("id")
    @classmethod
    def _kebab_case(cls, value: str) -> str:
        if not ENTRY_ID.match(value):
            _fail(f"id '{value}' must be kebab-case (a-z, 0-9 and '-')")
        return value

    @field_validator("category")
    @classmethod
    def _matches_file(cls, value: str, info: ValidationInfo) -> str:
        rules = _rules(info)
        if rules is not None and value != rules.category:
            _fail(f"category '{value}' does not match the file name '{rules.category}'")
        return value

    @field_validator("department")
    @classmethod
    def _known_department(cls, value: str, info: ValidationInfo) -> str:
        rules = _rules(info)
        if rules is not None and value not in rules.profile.departments:
            _fail(f"unknown department '{value}' (not in the municipality profile)")
        return value

    @field_validator("questions", mode="before")
    @classmethod
    def _question_lists(cls, value: Any, info: ValidationInfo) -> dict[str, list[str]]:
        found: list[str] = []
        lists = _text_lists(value, "questions", found)
        if not lists.get("ja"):
            found.append("missing Japanese questions (questions.ja)")
        _require_every_language(lists, "questions", info, found)
        return _passed(lists, found)

    @field_validator("answer", mode="before")
    @classmethod
    def _answer_texts(cls, value: Any, info: ValidationInfo) -> dict[str, str]:
        found: list[str] = []
        texts = _texts(value, "answer", found)
        if "ja" not in texts:
            found.append("missing Japanese answer (answer.ja)")
        rules = _rules(info)
        for lang, text in texts.items():
            if rules is not None:
                found.extend(_answer_text_problems(text, f"answer.{lang}", rules))
        _require_every_language(texts, "answer", info, found)
        return _passed(texts, found)

    @field_validator("links", mode="before")
    @classmethod
    def _checked_links(cls, value: Any, info: ValidationInfo) -> tuple[Link, ...]:
        found: list[str] = []
        links = _links(value or [], _rules(info), found)
        return _passed(links, found)

    @field_validator("source")
    @classmethod
    def _web_address(cls, value: str) -> str:
        if not SOURCE_URL.match(value):
            _fail(f"source '{value}' is not a web address")
        return value

    @field_validator("reviewed", mode="before")
    @classmethod
    def _date(cls, value: Any) -> dt.date:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            _fail(f"reviewed '{value}' is not a date (YYYY-MM-DD)")


def problems_of(error: ValidationError) -> list[str]:
    """The messages staff read for a failed entry, one per broken rule."""
    messages: list[str] = []
    for detail in error.errors(include_url=False):
        field = ".".join(str(part) for part in detail["loc"])
        if detail["type"] == "corpus":
            messages.extend(detail["ctx"]["problems"])
        elif detail["type"] == "missing":
            messages.append(f"missing '{field}'")
        else:
            messages.append(f"'{field}': {detail['msg']}")
    return messages


def _fail(*problems: str) -> NoReturn:
    raise PydanticCustomError("corpus", "{problems}", {"problems": problems})


def _passed(value: Any, found: list[str]) -> Any:
    if found:
        _fail(*found)
    return value


def _given(value: Any) -> bool:
    return not (value is None or (isinstance(value, str | list | dict) and not value))


def _rules(info: ValidationInfo) -> EntryRules | None:
    return (info.context or {}).get("rules")


def _require_every_language(
    texts: dict[str, Any], what: str, info: ValidationInfo, found: list[str]
) -> None:
    # Residents ask in six languages: an entry that cannot answer one of them would leave
    # its questions to a wrong entry or to Japanese.
    rules = _rules(info)
    if (
        rules is not None
        and rules.complete
        and (missing := [lang for lang in LANGUAGES if not texts.get(lang)])
    ):
        found.append(f"{what} missing in {', '.join(missing)}")


def _texts(value: Any, what: str, found: list[str]) -> dict[str, str]:
    if not isinstance(value, dict):
        found.append(f"'{what}' must map languages to text")
        return {}
    texts: dict[str, str] = {}
    for lang, text in value.items():
        if lang not in LANGUAGES:
            found.append(f"'{what}' has unsupported language '{lang}' (use {', '.join(LANGUAGES)})")
        elif not isinstance(text, str) or not text.strip():
            found.append(f"'{what}.{lang}' must be non-empty text")
        else:
            texts[lang] = text.strip()
    return texts


def _text_lists(value: Any, what: str, found: list[str]) -> dict[str, list[str]]:
    if not isinstance(value, dict):
        found.append(f"'{what}' must map languages to lists of questions")
        return {}
    lists: dict[str, list[str]] = {}
    for lang, items in value.items():
        if lang not in LANGUAGES:
            found.append(f"'{what}' has unsupported language '{lang}' (use {', '.join(LANGUAGES)})")
            continue
        if not isinstance(items, list | tuple) or not items:
            found.append(f"'{what}.{lang}' must be a non-empty list")
            continue
        clean = [str(q).strip() for q in items if isinstance(q, str | int) and str(q).strip()]
        if len(clean) != len(items):
            found.append(f"'{what}.{lang}' has an empty or non-text question")
        lists[lang] = clean
    return lists


def _answer_text_problems(text: str, what: str, rules: EntryRules) -> list[str]:
    found = [f"{what}: unknown placeholder {u}" for u in rules.profile.unknown_placeholders(text)]
    if not rules.strict:
        return found
    # City-specific numbers and addresses belong in the profile, not in answers.
    literal = re.sub(r"\{[^}]*\}", " ", text)
    for phone in PHONE_LIKE.findall(literal):
        if phone.strip() not in NATIONAL_PHONES:
            found.append(f"{what}: phone number {phone.strip()} must come from the profile")
    for url in URL_LIKE.findall(literal):
        if not is_national_url(url):
            found.append(f"{what}: web address {url} must come from the profile")
    return found


def is_national_url(url: str) -> bool:
    host = re.sub(r"^https?://", "", url).split("/", 1)[0].split(":", 1)[0].lower()
    return bool(NATIONAL_URL_HOST.match(host))


def _links(value: Any, rules: EntryRules | None, found: list[str]) -> list[Link]:
    if not isinstance(value, list | tuple):
        found.append("'links' must be a list")
        return []
    links = []
    for number, link in enumerate(value, 1):
        if isinstance(link, Link):
            link = link.model_dump()
        if not isinstance(link, dict) or not link.get("url") or not link.get("title"):
            found.append(f"link #{number} needs a 'title' and a 'url'")
            continue
        url = str(link["url"])
        title = link["title"]
        if isinstance(title, dict):
            # A comma in a flow mapping ({en: Health, Labour and Welfare}) silently makes
            # a new key; catching it here saves a broken title.
            title = _texts(title, f"link #{number} title", found)
        else:
            title = {"ja": str(title)}
        if rules is not None:
            found.extend(_link_problems(number, url, title, rules))
        links.append(Link(title=title, url=url))
    return links


def _link_problems(number: int, url: str, title: dict[str, str], rules: EntryRules) -> list[str]:
    found = [
        f"link #{number}: unknown placeholder {u}" for u in rules.profile.unknown_placeholders(url)
    ]
    if rules.strict and "{" not in url and not is_national_url(url):
        found.append(f"link #{number}: {url} must be a national site or a profile placeholder")
    if rules.complete and (missing := [lang for lang in LANGUAGES if not title.get(lang)]):
        found.append(f"link #{number} title missing in {', '.join(missing)}")
    return found
