"""Examples of what the assistant does not answer (weather, sports, recipes, shopping…).

The engine uses two lists as counter-examples: a question that sits closer to one of them
than to any FAQ question is not answered outright, even when it shares a word with an
entry (金の値段 and 一時金).

- Rasa's own `out_of_scope` training examples (`data/nlu/out_of_scope.yml`), which the
  intent classifier learns from too.
- Near misses (`faq/near_misses.yml`): questions that share the FAQ's words but are not the
  city's business (a lost bank card, a moving company's quote). Rasa does not train on
  them: its classifier weighs words, and would learn to decline 「引っ越し」 on its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import yaml

from bot.settings import Settings

logger = logging.getLogger(__name__)

INTENT = "out_of_scope"


def load_examples(path: Path, intent: str = INTENT) -> tuple[str, ...]:
    """The examples of ``intent`` in a Rasa NLU training file; none if it is missing.

    A file that cannot be read as Rasa training data is logged and ignored: the engine
    still answers, it only loses the counter-examples.
    """

    def examples(data: dict) -> list[str]:
        blocks = [
            b for b in data.get("nlu", []) if isinstance(b, dict) and b.get("intent") == intent
        ]
        return [
            _strip_item(line)
            for block in blocks
            for line in str(block.get("examples", "")).splitlines()
        ]

    return _read(path, examples, "out-of-scope examples")


def load_near_misses(path: Path) -> tuple[str, ...]:
    """The ``examples`` list of a near-miss file; none if it is missing or unreadable."""

    def examples(data: dict) -> list[str]:
        items = data.get("examples") or []
        if not isinstance(items, list):
            raise ValueError("'examples' must be a list")
        return [str(e).strip() for e in items]

    return _read(path, examples, "near-miss examples")


def _read(path: Path, examples: Callable[[dict], list[str]], what: str) -> tuple[str, ...]:
    """The non-empty, distinct ``examples`` of a YAML file; none (with a warning) if the
    file cannot be read or has the wrong shape."""
    if not path.is_file():
        return ()
    try:
        found = examples(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    except (OSError, UnicodeDecodeError, yaml.YAMLError, AttributeError, ValueError) as exc:
        logger.warning("Ignoring %s in %s: %s", what, path, exc)
        return ()
    return tuple(dict.fromkeys(e for e in found if e))


def engine_examples(settings: Settings) -> tuple[str, ...]:
    """Every counter-example the FAQ engine uses: Rasa's, then the near misses."""
    both = load_examples(settings.out_of_scope_path) + load_near_misses(settings.near_misses_path)
    return tuple(dict.fromkeys(both))


def _strip_item(line: str) -> str:
    # Rasa's examples block is a Markdown list: "- text".
    line = line.strip()
    return line[1:].strip() if line.startswith("-") else ""
