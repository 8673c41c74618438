"""Writes FAQ entries back to the corpus's YAML files, in the layout staff edit by hand."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from bot.faq.corpus import LANGUAGES, Entry


class _BlockDumper(yaml.SafeDumper):
    """Multi-line answers as `|-` blocks and indented lists, as staff write the files."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str_representer)


def _ordered(mapping: dict[str, Any]) -> dict[str, Any]:
    known = [lang for lang in LANGUAGES if lang in mapping]
    return {lang: mapping[lang] for lang in known + sorted(set(mapping) - set(known))}


def entry_to_dict(entry: Entry) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": entry.id,
        "category": entry.category,
        "department": entry.department,
        "questions": {lang: list(qs) for lang, qs in _ordered(dict(entry.questions)).items()},
        "answer": _ordered(dict(entry.answer)),
    }
    if entry.links:
        data["links"] = [
            {"title": _ordered(dict(link.title)), "url": link.url} for link in entry.links
        ]
    data["source"] = entry.source
    data["reviewed"] = entry.reviewed
    return data


def dump_entries(entries: Iterable[Entry]) -> str:
    return yaml.dump(
        {"entries": [entry_to_dict(e) for e in entries]},
        Dumper=_BlockDumper,
        allow_unicode=True,
        sort_keys=False,
        width=100,
    )


def write_corpus(directory: Path, entries: Iterable[Entry]) -> list[Path]:
    """Write ``entries`` into one file per category, each replaced atomically and keeping
    the comment block at its top."""
    by_category: dict[str, list[Entry]] = {}
    for entry in entries:
        by_category.setdefault(entry.category, []).append(entry)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for category, items in by_category.items():
        path = directory / f"{category}.yml"
        atomic_write(path, leading_comment(path) + dump_entries(items))
        written.append(path)
    return written


def atomic_write(path: Path, text: str) -> None:
    """Replace ``path`` so that readers see either the old or the new file, never half."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def leading_comment(path: Path) -> str:
    """The comment block at the top of a corpus file, kept when the file is rewritten."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    except (FileNotFoundError, UnicodeDecodeError):
        return ""
    header = []
    for line in lines:
        if not line.startswith("#"):
            break
        header.append(line)
    return "".join(header)
