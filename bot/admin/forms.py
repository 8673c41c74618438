"""The FAQ entry form: an entry as form fields and back.

Per language there are three text areas, as in the CSV export: questions (one per line,
the canonical question first), the answer, and links (one `title | url` per line).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from bot.faq.corpus import LANGUAGES, Entry, Link

LINK_SEPARATOR = "|"
MAX_FIELD_CHARS = 20_000


def entry_fields(entry: Entry | None) -> dict[str, str]:
    """Form values for ``entry`` (empty values for a new one)."""
    if entry is None:
        return {"id": "", "category": "", "department": "", "source": "", "reviewed": ""}
    fields = {
        "id": entry.id,
        "category": entry.category,
        "department": entry.department,
        "source": entry.source,
        "reviewed": entry.reviewed.isoformat(),
    }
    for lang in LANGUAGES:
        fields[f"questions_{lang}"] = "\n".join(entry.questions.get(lang, ()))
        fields[f"answer_{lang}"] = entry.answer.get(lang, "")
        fields[f"links_{lang}"] = "\n".join(
            f"{link.title[lang]} {LINK_SEPARATOR} {link.url}"
            for link in entry.links
            if lang in link.title
        )
    return fields


def form_fields(form: Mapping[str, Any]) -> dict[str, str]:
    """The entry fields of a submitted form, as text (uploads and other keys ignored)."""
    names = ["id", "category", "department", "source", "reviewed"]
    names += [f"{kind}_{lang}" for lang in LANGUAGES for kind in ("questions", "answer", "links")]
    fields = {}
    for name in names:
        value = form.get(name, "")
        fields[name] = value.replace("\r\n", "\n") if isinstance(value, str) else ""
    return fields


def entry_from_fields(fields: Mapping[str, str]) -> tuple[Entry | None, list[str]]:
    """An entry from form fields, or the errors that stop it from being one.

    Only what the form itself can get wrong is checked here; the corpus rules (departments,
    placeholders, phone numbers...) are checked by the corpus validation afterwards.
    """
    errors: list[str] = []
    for name, value in fields.items():
        if len(value) > MAX_FIELD_CHARS:
            errors.append(f"{name}: {MAX_FIELD_CHARS}文字以内で入力してください。")
        if "\x00" in value:
            errors.append(f"{name}: 使用できない文字（NUL）が含まれています。")
    reviewed_text = fields.get("reviewed", "").strip()
    try:
        reviewed = dt.date.fromisoformat(reviewed_text)
    except ValueError:
        errors.append(
            f"確認日「{reviewed_text}」は日付ではありません。YYYY-MM-DD の形で入力してください。"
        )
        reviewed = dt.date.today()
    questions: dict[str, tuple[str, ...]] = {}
    answer: dict[str, str] = {}
    links: dict[str, dict[str, str]] = {}  # url -> lang -> title
    for lang in LANGUAGES:
        lines = fields.get(f"questions_{lang}", "").splitlines()
        listed = tuple(dict.fromkeys(q.strip() for q in lines if q.strip()))
        if listed:
            questions[lang] = listed
        text = fields.get(f"answer_{lang}", "").strip()
        if text:
            answer[lang] = text
        for line in fields.get(f"links_{lang}", "").splitlines():
            if not line.strip():
                continue
            title, separator, url = line.rpartition(LINK_SEPARATOR)
            if not separator or not title.strip() or not url.strip():
                errors.append(
                    f"リンク ({lang}): 「{line.strip()}」は「タイトル | URL」の形で書いてください。"
                )
                continue
            links.setdefault(url.strip(), {})[lang] = title.strip()
        if text and not listed:
            errors.append(f"questions.{lang}: 回答があるときは、質問を1つ以上入力してください。")
    if errors:
        return None, errors
    # A draft: the corpus rules check it with the files it would be written to.
    entry = Entry.model_construct(
        id=fields.get("id", "").strip(),
        category=fields.get("category", "").strip(),
        department=fields.get("department", "").strip(),
        questions=questions,
        answer=answer,
        links=tuple(Link.model_construct(title=t, url=u) for u, t in links.items()),
        source=fields.get("source", "").strip(),
        reviewed=reviewed,
    )
    return entry, []
