"""The FAQ corpus: YAML files of entries, one file per category, checked as they load.

Every problem is reported with its file and entry, so that staff can fix a file from the
message alone; loading never stops at the first problem.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.faq.entry import Entry, EntryRules, Link
from bot.faq.profile import Profile
from bot.text.language import LANGUAGES

__all__ = ["LANGUAGES", "Corpus", "Entry", "Link", "Problem", "corpus_files", "fingerprint"]

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
            rules = EntryRules(path.name, profile, strict, complete)
            corpus._add(_load_file(path, rules, corpus.problems))
        return corpus

    @classmethod
    def from_texts(cls, texts: dict[str, str], profile: Profile, strict: bool = True) -> Corpus:
        """A corpus from file texts by file name, checked as `load` checks files: how the
        editor and the importer check a change before anything is written."""
        corpus = cls(directory=Path(), profile=profile)
        for name, text in texts.items():
            rules = EntryRules(Path(name).name, profile, strict)
            corpus._add(_load_text(text, rules, corpus.problems))
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


def _load_file(path: Path, rules: EntryRules, problems: list[Problem]) -> list[Entry]:
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
    return _load_text(text, rules, problems)


def _load_text(text: str, rules: EntryRules, problems: list[Problem]) -> list[Entry]:
    name = rules.file
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
        if not isinstance(item, dict):
            problems.append(Problem(name, f"entry #{index}", "an entry must be a mapping"))
            continue
        checked = Entry.check(item, rules)
        if isinstance(checked, Entry):
            entries.append(checked)
        else:
            label = str(item.get("id") or f"entry #{index}")
            problems.extend(Problem(name, label, message) for message in checked)
    return entries
