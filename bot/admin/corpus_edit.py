"""Changes to the FAQ corpus made from the staff pages.

Every change is checked the way `madoguchi faq validate` checks the files: the would-be
files are checked in memory (`Corpus.from_texts`). Only a corpus without problems is
written back, one atomically replaced file per changed category, keeping each file's
leading comment. The action server's engine notices the new files within seconds.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from filelock import FileLock

from bot.faq.corpus import LANGUAGES, Corpus, Entry
from bot.faq.directory import FaqDirectory
from bot.faq.profile import Profile
from bot.faq.writer import atomic_write, dump_entries, entry_to_dict, leading_comment

CATEGORY = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
MAX_QUESTION_CHARS = 500


class EditError(ValueError):
    """A change was rejected; nothing was written. ``errors`` are shown to staff."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def entry_snapshot(entry: Entry) -> dict[str, Any]:
    """The entry as plain JSON-able data, for the audit trail."""
    data = entry_to_dict(entry)
    data["reviewed"] = entry.reviewed.isoformat()
    return data


def entry_version(entry: Entry) -> str:
    """Changes whenever the entry changes; forms carry it to catch concurrent edits."""
    return hashlib.sha256(dump_entries([entry]).encode()).hexdigest()[:16]


class CorpusEditor:
    def __init__(self, directory: FaqDirectory, lock_path: Path) -> None:
        self.directory = directory
        self.corpus_dir = directory.corpus_dir
        self.lock_path = lock_path

    def load(self) -> Corpus:
        """The corpus as its files are now (the directory rereads files that changed)."""
        return self.directory.corpus()

    @contextmanager
    def _locked(self) -> Iterator[Corpus]:
        """The current corpus, with other writers (other gateway workers) kept out."""
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(self.lock_path):
            corpus = self.load()
            if corpus.problems:
                raise EditError(
                    ["FAQファイル自体に問題があります。先に次の点を直してください。"]
                    + [str(p) for p in corpus.problems[:20]]
                )
            yield corpus

    # -- the changes -----------------------------------------------------------------------

    def save_entry(
        self, entry: Entry, *, original_id: str | None, expected_version: str | None
    ) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        """Add (``original_id`` None) or replace an entry. Returns (before, after)."""
        with self._locked() as corpus:
            entries = dict(corpus.entries)
            before = None
            if original_id is None:
                if entry.id in entries:
                    raise EditError([f"ID「{entry.id}」のエントリはすでにあります。"])
            else:
                current = entries.get(original_id)
                if current is None:
                    raise EditError([f"エントリ「{original_id}」はもうありません。"])
                self._check_version(current, expected_version)
                if entry.id != original_id:
                    raise EditError(["エントリのIDは変更できません。"])
                before = entry_snapshot(current)
                if before == entry_snapshot(entry):
                    return before, before  # nothing changed: leave the file as it is
            entries[entry.id] = entry
            self._write(corpus, entries, {entry.category} | self._category_of(corpus, original_id))
            return before, entry_snapshot(entry)

    def add_paraphrase(
        self, entry_id: str, lang: str, text: str
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Add ``text`` as a question of ``entry_id`` in ``lang``. Returns (before, after)."""
        text = " ".join(text.split())
        if lang not in LANGUAGES:
            raise EditError([f"言語は {', '.join(LANGUAGES)} のいずれかを選んでください。"])
        if not text:
            raise EditError(["質問が空です。"])
        if len(text) > MAX_QUESTION_CHARS:
            raise EditError([f"質問は{MAX_QUESTION_CHARS}文字以内で入力してください。"])
        with self._locked() as corpus:
            current = corpus.entries.get(entry_id)
            if current is None:
                raise EditError([f"エントリ「{entry_id}」はありません。"])
            questions = dict(current.questions)
            existing = questions.get(lang, ())
            if text in existing:
                raise EditError([f"「{text}」は、すでに {entry_id} ({lang}) の質問にあります。"])
            questions[lang] = (*existing, text)
            changed = current.model_copy(update={"questions": questions})
            entries = {**corpus.entries, entry_id: changed}
            self._write(corpus, entries, {current.category})
            return entry_snapshot(current), entry_snapshot(changed)

    def retire(self, entry_id: str, expected_version: str | None) -> dict[str, Any]:
        """Take an entry out of the corpus; the audit trail keeps its last state."""
        with self._locked() as corpus:
            current = corpus.entries.get(entry_id)
            if current is None:
                raise EditError([f"エントリ「{entry_id}」はありません。"])
            self._check_version(current, expected_version)
            entries = {k: v for k, v in corpus.entries.items() if k != entry_id}
            self._write(corpus, entries, {current.category})
            return entry_snapshot(current)

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _check_version(current: Entry, expected: str | None) -> None:
        if expected is not None and expected != entry_version(current):
            raise EditError(
                [
                    f"エントリ「{current.id}」は、ページを開いた後にほかの人が変更しました。"
                    "ページを再読み込みしてから、もう一度変更してください。"
                ]
            )

    @staticmethod
    def _category_of(corpus: Corpus, entry_id: str | None) -> set[str]:
        entry = corpus.entries.get(entry_id or "")
        return {entry.category} if entry else set()

    def _write(self, corpus: Corpus, entries: dict[str, Entry], categories: set[str]) -> None:
        by_category: dict[str, list[Entry]] = {}
        for entry in entries.values():
            by_category.setdefault(entry.category, []).append(entry)
        bad = [c for c in by_category if not CATEGORY.match(c or "")]
        if bad:
            raise EditError(
                [f"カテゴリ「{c}」は半角英小文字・数字・-・_ だけで入力してください。" for c in bad]
            )
        self._validate(by_category, corpus.profile)
        for category in sorted(categories):
            path = self.corpus_dir / f"{category}.yml"
            items = by_category.get(category)
            if items:
                atomic_write(path, leading_comment(path) + dump_entries(items))
            else:
                path.unlink(missing_ok=True)

    @staticmethod
    def _validate(by_category: dict[str, list[Entry]], profile: Profile) -> None:
        texts = {f"{category}.yml": dump_entries(items) for category, items in by_category.items()}
        problems = Corpus.from_texts(texts, profile).problems
        if problems:
            raise EditError([f"{p.entry}: {p.message}" if p.entry else p.message for p in problems])
