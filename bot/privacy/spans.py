"""Spans of personal data found in a text, and their replacement by labels."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# A label redaction left in a text: [電話番号], [氏名]. Redacting a text twice changes nothing.
LABEL = re.compile(r"\[[^\[\]\s]{1,12}\]")


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    label: str


def replace_spans(text: str, spans: Iterable[Span]) -> str:
    """Replace each span by its label. Overlapping spans merge into the longest one's label;
    spans inside an existing label are ignored."""
    kept = [s for s in spans if s.end > s.start and not _inside_label(text, s)]
    kept.sort(key=lambda s: (s.start, -(s.end - s.start)))
    out: list[str] = []
    position = 0
    current: Span | None = None
    for span in kept:
        if current is not None and span.start < current.end:
            if span.end > current.end:  # extend, keeping the label of the longer start
                current = Span(current.start, span.end, current.label)
            continue
        if current is not None:
            out += [text[position : current.start], current.label]
            position = current.end
        current = span
    if current is not None:
        out += [text[position : current.start], current.label]
        position = current.end
    out.append(text[position:])
    return "".join(out)


def _inside_label(text: str, span: Span) -> bool:
    for match in LABEL.finditer(text, max(0, span.start - 13), span.end + 13):
        if match.start() <= span.start and span.end <= match.end():
            return True
    return False
