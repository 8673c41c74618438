"""Moving the corpus in and out of spreadsheets (CSV) and other cities' FAQ pages (JSONL).

The CSV has one row per entry and language, so that a translator can filter on a language
in Excel. It is written as UTF-8 with a byte-order mark (Excel then opens it correctly) and
read back as UTF-8 or, for files saved by Japanese Excel, cp932 (Shift_JIS).

An import either applies completely or not at all: every row is checked, the resulting
corpus is validated as a whole, and only then are files written.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.faq.corpus import LANGUAGES, Corpus, Entry, Link
from bot.faq.profile import Profile
from bot.faq.writer import dump_entries, write_corpus

COLUMNS = (
    "id",
    "category",
    "department",
    "source",
    "reviewed",
    "lang",
    "questions",
    "answer",
    "links",
)
ENTRY_LEVEL = ("category", "department", "source", "reviewed")
LINK_SEPARATOR = " | "
MAX_IMPORT_BYTES = 50_000_000


class ExchangeError(ValueError):
    """An import file was rejected; ``errors`` says where, by row or line."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


# -- CSV export ------------------------------------------------------------------------------


def export_csv(corpus: Corpus) -> str:
    """The corpus as CSV text (without the byte-order mark; see `write_csv`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for entry in corpus.entries.values():
        for lang in _entry_languages(entry):
            writer.writerow(
                [
                    entry.id,
                    entry.category,
                    entry.department,
                    entry.source,
                    entry.reviewed.isoformat(),
                    lang,
                    "\n".join(entry.questions.get(lang, ())),
                    entry.answer.get(lang, ""),
                    "\n".join(
                        f"{link.title[lang]}{LINK_SEPARATOR}{link.url}"
                        for link in entry.links
                        if lang in link.title
                    ),
                ]
            )
    return out.getvalue()


def write_csv(corpus: Corpus, path: Path | None) -> bytes:
    data = export_csv(corpus).encode("utf-8-sig")
    if path is not None:
        path.write_bytes(data)
    return data


def _entry_languages(entry: Entry) -> list[str]:
    present = set(entry.questions) | set(entry.answer)
    for link in entry.links:
        present |= set(link.title)
    return [lang for lang in LANGUAGES if lang in present]


# -- CSV import ------------------------------------------------------------------------------


def decode(data: bytes) -> str:
    """Text of an uploaded file: UTF-8 (with or without BOM), else cp932 (Shift_JIS)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932")
    except UnicodeDecodeError as exc:
        raise ExchangeError(["the file is neither UTF-8 nor Shift_JIS (cp932) text"]) from exc


@dataclass
class _Draft:
    """An entry being assembled from its rows."""

    id: str
    first_row: int
    fields: dict[str, str]
    rows: dict[str, int] = field(default_factory=dict)  # lang -> row number
    questions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    answer: dict[str, str] = field(default_factory=dict)
    links: dict[str, dict[str, str]] = field(default_factory=dict)  # url -> lang -> title


def parse_csv(data: bytes) -> list[_Draft]:
    if len(data) > MAX_IMPORT_BYTES:
        raise ExchangeError([f"the file is larger than {MAX_IMPORT_BYTES} bytes"])
    if b"\x00" in data:
        raise ExchangeError(["the file is not text (it contains NUL bytes)"])
    text = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ExchangeError(["the file is empty"]) from None
    except csv.Error as exc:
        raise ExchangeError([f"row 1: {exc}"]) from exc
    header = [h.strip() for h in header]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ExchangeError([f"row 1: missing column(s): {', '.join(missing)}"])
    position = {name: header.index(name) for name in COLUMNS}
    errors: list[str] = []
    drafts: dict[str, _Draft] = {}
    try:
        for row_number, row in enumerate(reader, start=2):
            if not any(cell.strip() for cell in row):
                continue
            cells = {name: (row[i] if i < len(row) else "").strip() for name, i in position.items()}
            _add_row(drafts, row_number, cells, errors)
    except csv.Error as exc:
        errors.append(f"row {reader.line_num}: {exc}")
    if errors:
        raise ExchangeError(errors)
    if not drafts:
        raise ExchangeError(["the file has no entry rows"])
    return list(drafts.values())


def _add_row(drafts: dict[str, _Draft], row: int, cells: dict[str, str], errors: list[str]) -> None:
    entry_id, lang = cells["id"], cells["lang"]
    if not entry_id:
        errors.append(f"row {row}: 'id' is empty")
        return
    if lang not in LANGUAGES:
        errors.append(
            f"row {row} ({entry_id}): language '{lang}' is not one of {', '.join(LANGUAGES)}"
        )
        return
    fields = {name: cells[name] for name in ENTRY_LEVEL}
    draft = drafts.setdefault(entry_id, _Draft(entry_id, row, fields))
    for name in ENTRY_LEVEL:
        if fields[name] != draft.fields[name]:
            errors.append(
                f"row {row} ({entry_id}): {name} '{fields[name]}' differs from row "
                f"{draft.first_row} ('{draft.fields[name]}')"
            )
    if lang in draft.rows:
        errors.append(
            f"row {row} ({entry_id}): a second '{lang}' row (first is row {draft.rows[lang]})"
        )
        return
    draft.rows[lang] = row
    questions = tuple(q.strip() for q in cells["questions"].splitlines() if q.strip())
    if questions:
        draft.questions[lang] = questions
    if cells["answer"]:
        draft.answer[lang] = cells["answer"].replace("\r\n", "\n")
    for line in cells["links"].splitlines():
        if not line.strip():
            continue
        title, separator, url = line.rpartition(LINK_SEPARATOR.strip())
        if not separator or not url.strip() or not title.strip():
            errors.append(f"row {row} ({entry_id}): link '{line}' must be 'title | url'")
            continue
        draft.links.setdefault(url.strip(), {})[lang] = title.strip()


def import_csv(data: bytes, corpus_dir: Path, profile: Profile) -> list[Entry]:
    """Apply a CSV to ``corpus_dir``: its entries replace entries with the same id and new
    ids are added; entries not in the file stay as they are. Nothing is written unless the
    whole result validates."""
    drafts = parse_csv(data)
    current = Corpus.load(corpus_dir, profile)
    if current.problems:
        raise ExchangeError(
            ["the corpus has problems of its own; fix them first (madoguchi faq validate)"]
            + [str(p) for p in current.problems]
        )
    merged = dict(current.entries)
    for draft in drafts:
        merged[draft.id] = _draft_to_entry(draft)
    _validate_or_raise(list(merged.values()), profile, drafts)
    changed = {draft.id for draft in drafts}
    categories = {merged[i].category for i in changed} | {
        current.entries[i].category for i in changed if i in current.entries
    }
    write_corpus(corpus_dir, [e for e in merged.values() if e.category in categories])
    _remove_emptied_files(corpus_dir, categories, merged.values())
    return [merged[d.id] for d in drafts]


def _draft_to_entry(draft: _Draft) -> Entry:
    # Unchecked values go in as they are; the validation pass reports them by row.
    reviewed_text = draft.fields["reviewed"]
    try:
        reviewed = dt.date.fromisoformat(reviewed_text)
    except ValueError:
        reviewed = reviewed_text  # type: ignore[assignment]
    return Entry.model_construct(
        id=draft.id,
        category=draft.fields["category"],
        department=draft.fields["department"],
        questions=draft.questions,
        answer=draft.answer,
        links=tuple(Link.model_construct(title=t, url=u) for u, t in draft.links.items()),
        source=draft.fields["source"],
        reviewed=reviewed,
    )


def _validate_or_raise(entries: list[Entry], profile: Profile, drafts: list[_Draft]) -> None:
    """Check the would-be corpus as it would be written, with the usual checks, in memory."""
    by_category: dict[str, list[Entry]] = {}
    for entry in entries:
        by_category.setdefault(entry.category or "_", []).append(entry)
    for category in by_category:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", category):
            rows = [str(d.first_row) for d in drafts if d.fields["category"] == category]
            raise ExchangeError(
                [
                    f"row {', '.join(rows)}: category '{category}' must be a simple "
                    "file name (a-z, 0-9, -)"
                ]
            )
    texts = {f"{category}.yml": dump_entries(items) for category, items in by_category.items()}
    problems = Corpus.from_texts(texts, profile).problems
    if problems:
        rows = {d.id: d for d in drafts}
        raise ExchangeError([_located(p.entry, p.message, rows) for p in problems])


def _located(entry_id: str | None, message: str, drafts: dict[str, _Draft]) -> str:
    draft = drafts.get(entry_id or "")
    if draft is None:
        return f"{entry_id}: {message}" if entry_id else message
    lang = re.search(r"\b(?:answer|questions)\.([a-z]{2})\b", message)
    row = draft.rows.get(lang.group(1)) if lang else None
    return f"row {row or draft.first_row} ({draft.id}): {message}"


def _remove_emptied_files(corpus_dir: Path, categories: set[str], entries: Iterable[Entry]) -> None:
    still_used = {e.category for e in entries}
    for category in categories - still_used:
        (corpus_dir / f"{category}.yml").unlink(missing_ok=True)


# -- JSONL import (a city's existing FAQ pages) ----------------------------------------------


def normalize_id(raw: str) -> str:
    """A corpus id for an id from elsewhere: lower-case, other characters become '-'."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", raw.strip().lower()).strip("-")
    return cleaned or "entry"


def import_jsonl(
    data: bytes, out_dir: Path, profile: Profile, category: str = "imported"
) -> list[Entry]:
    """Build a new corpus in ``out_dir`` from lines ``{"id", "question", "answer", "lang"?}``.

    Lines sharing an id add questions (paraphrases) to one entry. Ids are normalised with
    `normalize_id`; braces in the text are kept literally. The new corpus is checked with
    ``strict=False``: a city's own pages may name its phone numbers and web addresses.
    """
    if len(data) > MAX_IMPORT_BYTES:
        raise ExchangeError([f"the file is larger than {MAX_IMPORT_BYTES} bytes"])
    department = "soumu" if "soumu" in profile.departments else next(iter(profile.departments))
    source = profile.website
    today = dt.date.today()
    entries, errors = _jsonl_entries(decode(data))
    if errors:
        raise ExchangeError(errors)
    built = [
        Entry.model_construct(
            id=entry_id,
            category=category,
            department=department,
            questions={lang: tuple(dict.fromkeys(qs)) for lang, qs in e["questions"].items()},
            answer=e["answer"],
            links=(),
            source=source,
            reviewed=today,
        )
        for entry_id, e in entries.items()
    ]
    if not built:
        raise ExchangeError(["the file has no entries"])
    if any(out_dir.glob("*.yml")):
        raise ExchangeError([f"{out_dir} already holds a corpus; choose an empty directory"])
    texts = {f"{category}.yml": dump_entries(built)}
    checked = Corpus.from_texts(texts, profile, strict=False)
    if checked.problems:
        raise ExchangeError([str(p) for p in checked.problems])
    write_corpus(out_dir, built)
    return list(checked.entries.values())


def _jsonl_entries(text: str) -> tuple[dict[str, dict], list[str]]:
    """Each entry's questions and answers by language, from the JSONL lines, and the
    problems found, each naming its line."""
    errors: list[str] = []
    entries: dict[str, dict] = {}
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"line {line_number}: not valid JSON ({exc.msg})")
            continue
        if not isinstance(item, dict):
            errors.append(f"line {line_number}: expected a JSON object")
            continue
        raw_id, question = item.get("id"), item.get("question")
        answer, lang = item.get("answer"), item.get("lang") or "ja"
        if not isinstance(raw_id, str | int) or not str(raw_id).strip():
            errors.append(f"line {line_number}: 'id' is missing")
            continue
        if lang not in LANGUAGES:
            errors.append(f"line {line_number}: 'lang' must be one of {', '.join(LANGUAGES)}")
            continue
        if not isinstance(question, str) or not question.strip():
            errors.append(f"line {line_number}: 'question' is missing")
            continue
        entry = entries.setdefault(
            normalize_id(str(raw_id)), {"questions": {}, "answer": {}, "line": line_number}
        )
        entry["questions"].setdefault(lang, []).append(question.strip())
        if isinstance(answer, str) and answer.strip():
            entry["answer"].setdefault(lang, _escape_braces(answer.strip()))
    for entry_id, entry in entries.items():
        if "ja" not in entry["answer"] and entry["answer"]:
            # An imported corpus in another language: use it as the base text as well.
            first = next(iter(entry["answer"].values()))
            entry["answer"]["ja"] = first
        if not entry["answer"]:
            errors.append(f"line {entry['line']}: entry '{entry_id}' has no answer")
        if "ja" not in entry["questions"]:
            entry["questions"]["ja"] = next(iter(entry["questions"].values()))
    return entries, errors


def _escape_braces(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")
