"""The FAQ corpus: YAML files of entries, one file per category, checked as they load.

Every problem is reported with its file and entry, so that staff can fix a file from the
message alone; loading never stops at the first problem.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.faq.profile import Profile, pick
from bot.text.language import LANGUAGES

ENTRY_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
REQUIRED_FIELDS = ("id", "category", "department", "questions", "answer", "source", "reviewed")

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
MAX_FILE_BYTES = 20_000_000
# libyaml's loader when PyYAML has it: a city-sized corpus loads several times faster.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the corpus, located by file and entry."""

    file: str
    entry: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.entry}" if self.entry else self.file
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Link:
    title: dict[str, str]
    url: str


@dataclass(frozen=True)
class Entry:
    id: str
    category: str
    department: str
    questions: dict[str, tuple[str, ...]]
    answer: dict[str, str]
    links: tuple[Link, ...]
    source: str
    reviewed: dt.date
    file: str = ""

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


@dataclass
class Corpus:
    """All entries of a corpus directory, in file order, with the profile they refer to."""

    directory: Path
    profile: Profile
    entries: dict[str, Entry] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @classmethod
    def load(
        cls, directory: str | Path, profile: Profile, strict: bool = True, complete: bool = False
    ) -> Corpus:
        """Load every file of ``directory``.

        ``strict`` enforces the curation rule that answers hold no literal phone numbers or
        web addresses besides national ones. A corpus imported from a city's existing pages
        for evaluation is loaded with ``strict=False``. ``complete`` (what `faq validate`
        checks) requires the questions, the answer and every link title in all six
        languages; the assistant itself serves an incomplete entry, in Japanese where its
        translation is missing.
        """
        corpus = cls(directory=Path(directory), profile=profile)
        files = corpus_files(corpus.directory)
        if not files:
            corpus.problems.append(Problem(str(directory), None, "no FAQ files (*.yml) found"))
        for path in files:
            corpus._add(_load_file(path, profile, corpus.problems, strict, complete))
        return corpus

    @classmethod
    def from_texts(cls, texts: dict[str, str], profile: Profile, strict: bool = True) -> Corpus:
        """A corpus from file texts by file name, checked as `load` checks files: how the
        editor and the importer check a change before anything is written."""
        corpus = cls(directory=Path(), profile=profile)
        for name, text in texts.items():
            corpus._add(_load_text(Path(name), text, profile, corpus.problems, strict))
        return corpus

    def _add(self, entries: list[Entry]) -> None:
        for entry in entries:
            if entry.id in self.entries:
                other = self.entries[entry.id].file
                self.problems.append(
                    Problem(entry.file, entry.id, f"duplicate id (also in {other})")
                )
                continue
            self.entries[entry.id] = entry

    def __len__(self) -> int:
        return len(self.entries)


def corpus_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.y*ml") if p.suffix in (".yml", ".yaml"))


def fingerprint(directory: str | Path, extra: tuple[Path, ...] = ()) -> str:
    """Changes whenever a corpus file (or an extra file such as the profile) changes."""
    digest = hashlib.sha256()
    for path in [*corpus_files(Path(directory)), *extra]:
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        digest.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _load_file(
    path: Path,
    profile: Profile,
    problems: list[Problem],
    strict: bool = True,
    complete: bool = False,
) -> list[Entry]:
    name = path.name
    try:
        raw = path.read_bytes()
        if len(raw) > MAX_FILE_BYTES:
            problems.append(Problem(name, None, f"file is larger than {MAX_FILE_BYTES} bytes"))
            return []
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        problems.append(Problem(name, None, "not UTF-8 text"))
        return []
    return _load_text(path, text, profile, problems, strict, complete)


def _load_text(
    path: Path,
    text: str,
    profile: Profile,
    problems: list[Problem],
    strict: bool = True,
    complete: bool = False,
) -> list[Entry]:
    name = path.name
    try:
        data = yaml.load(text, Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        problems.append(Problem(name, None, f"not valid YAML: {exc}"))
        return []
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        problems.append(Problem(name, None, "expected a mapping with an 'entries' list"))
        return []
    entries = []
    for index, item in enumerate(data["entries"], 1):
        entry = _parse_entry(item, path, index, profile, problems, strict, complete)
        if entry is not None:
            entries.append(entry)
    return entries


def _parse_entry(
    item: Any,
    path: Path,
    index: int,
    profile: Profile,
    problems: list[Problem],
    strict: bool,
    complete: bool = False,
) -> Entry | None:
    name = path.name
    if not isinstance(item, dict):
        problems.append(Problem(name, f"entry #{index}", "an entry must be a mapping"))
        return None
    label = str(item.get("id") or f"entry #{index}")
    found: list[str] = []

    def problem(message: str) -> None:
        found.append(message)

    for required in REQUIRED_FIELDS:
        if item.get(required) in (None, "", [], {}):
            problem(f"missing '{required}'")
    entry_id = str(item.get("id", ""))
    if entry_id and not ENTRY_ID.match(entry_id):
        problem(f"id '{entry_id}' must be kebab-case (a-z, 0-9 and '-')")
    category = str(item.get("category", ""))
    if category and category != path.stem:
        problem(f"category '{category}' does not match the file name '{path.stem}'")
    department = str(item.get("department", ""))
    if department and department not in profile.departments:
        problem(f"unknown department '{department}' (not in the municipality profile)")

    questions = _text_lists(item.get("questions"), "questions", problem)
    answer = _texts(item.get("answer"), "answer", problem)
    if item.get("answer") and "ja" not in answer:
        problem("missing Japanese answer (answer.ja)")
    if item.get("questions") and not questions.get("ja"):
        problem("missing Japanese questions (questions.ja)")
    for lang, text in answer.items():
        _check_answer_text(text, f"answer.{lang}", profile, problem, strict)
    if complete:
        # Residents ask in six languages: an entry that cannot answer one of them would
        # leave its questions to a wrong entry or to Japanese.
        for what, texts in (("answer", answer), ("questions", questions)):
            if item.get(what) and (missing := [lang for lang in LANGUAGES if not texts.get(lang)]):
                problem(f"{what} missing in {', '.join(missing)}")

    links = _links(item.get("links") or [], profile, problem, strict, complete)
    source = str(item.get("source", ""))
    if source and not re.match(r"^https?://[^\s/]+\.[^\s]+$", source):
        problem(f"source '{source}' is not a web address")
    reviewed = _date(item.get("reviewed"), problem)

    if found:
        problems.extend(Problem(name, label, message) for message in found)
        return None
    assert reviewed is not None
    return Entry(
        id=entry_id,
        category=category,
        department=department,
        questions={lang: tuple(qs) for lang, qs in questions.items()},
        answer=answer,
        links=tuple(links),
        source=source,
        reviewed=reviewed,
        file=name,
    )


def _texts(value: Any, what: str, problem: Any) -> dict[str, str]:
    if value in (None, "", {}):
        return {}
    if not isinstance(value, dict):
        problem(f"'{what}' must map languages to text")
        return {}
    texts: dict[str, str] = {}
    for lang, text in value.items():
        if lang not in LANGUAGES:
            problem(f"'{what}' has unsupported language '{lang}' (use {', '.join(LANGUAGES)})")
        elif not isinstance(text, str) or not text.strip():
            problem(f"'{what}.{lang}' must be non-empty text")
        else:
            texts[lang] = text.strip()
    return texts


def _text_lists(value: Any, what: str, problem: Any) -> dict[str, list[str]]:
    if value in (None, "", {}):
        return {}
    if not isinstance(value, dict):
        problem(f"'{what}' must map languages to lists of questions")
        return {}
    lists: dict[str, list[str]] = {}
    for lang, items in value.items():
        if lang not in LANGUAGES:
            problem(f"'{what}' has unsupported language '{lang}' (use {', '.join(LANGUAGES)})")
            continue
        if not isinstance(items, list) or not items:
            problem(f"'{what}.{lang}' must be a non-empty list")
            continue
        clean = [str(q).strip() for q in items if isinstance(q, str | int) and str(q).strip()]
        if len(clean) != len(items):
            problem(f"'{what}.{lang}' has an empty or non-text question")
        lists[lang] = clean
    return lists


def _check_answer_text(
    text: str, what: str, profile: Profile, problem: Any, strict: bool = True
) -> None:
    for unknown in profile.unknown_placeholders(text):
        problem(f"{what}: unknown placeholder {unknown}")
    if not strict:
        return
    # City-specific numbers and addresses belong in the profile, not in answers.
    literal = re.sub(r"\{[^}]*\}", " ", text)
    for phone in PHONE_LIKE.findall(literal):
        if phone.strip() not in NATIONAL_PHONES:
            problem(f"{what}: phone number {phone.strip()} must come from the profile")
    for url in URL_LIKE.findall(literal):
        if not _is_national_url(url):
            problem(f"{what}: web address {url} must come from the profile")


def _is_national_url(url: str) -> bool:
    host = re.sub(r"^https?://", "", url).split("/", 1)[0].split(":", 1)[0].lower()
    return bool(NATIONAL_URL_HOST.match(host))


def _links(
    value: Any, profile: Profile, problem: Any, strict: bool = True, complete: bool = False
) -> list[Link]:
    if not isinstance(value, list):
        problem("'links' must be a list")
        return []
    links = []
    for number, link in enumerate(value, 1):
        if not isinstance(link, dict) or not link.get("url") or not link.get("title"):
            problem(f"link #{number} needs a 'title' and a 'url'")
            continue
        url = str(link["url"])
        for unknown in profile.unknown_placeholders(url):
            problem(f"link #{number}: unknown placeholder {unknown}")
        if strict and "{" not in url and not _is_national_url(url):
            problem(f"link #{number}: {url} must be a national site or a profile placeholder")
        title = link["title"]
        if isinstance(title, dict):
            # A comma in a flow mapping ({en: Health, Labour and Welfare}) silently makes
            # a new key; catching it here saves a broken title.
            title = _texts(title, f"link #{number} title", problem)
        else:
            title = {"ja": str(title)}
        if complete and (missing := [lang for lang in LANGUAGES if not title.get(lang)]):
            problem(f"link #{number} title missing in {', '.join(missing)}")
        links.append(Link(title=title, url=url))
    return links


def _date(value: Any, problem: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        problem(f"reviewed '{value}' is not a date (YYYY-MM-DD)")
        return None
