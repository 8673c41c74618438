"""Examples of what the assistant does not answer (weather, sports, recipes, shopping…).

They are Rasa's own `out_of_scope` training examples (`data/nlu/out_of_scope.yml`), so the
intent classifier and the FAQ engine learn from one list. The engine uses them as
counter-examples: a question that sits closer to one of them than to any FAQ question is
not answered outright, even when it shares a word with an entry (金の値段 and 一時金).
"""

from __future__ import annotations

import logging
from pathlib import Path

import yaml

logger = logging.getLogger(__name__)

INTENT = "out_of_scope"


def load_examples(path: Path, intent: str = INTENT) -> tuple[str, ...]:
    """The examples of ``intent`` in a Rasa NLU training file; none if it is missing.

    A file that cannot be read as Rasa training data is logged and ignored: the engine
    still answers, it only loses the counter-examples.
    """
    if not path.is_file():
        return ()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        blocks = [
            b for b in data.get("nlu", []) if isinstance(b, dict) and b.get("intent") == intent
        ]
        examples = [
            _strip_item(line)
            for block in blocks
            for line in str(block.get("examples", "")).splitlines()
        ]
    except (OSError, UnicodeDecodeError, yaml.YAMLError, AttributeError) as exc:
        logger.warning("Ignoring out-of-scope examples in %s: %s", path, exc)
        return ()
    return tuple(dict.fromkeys(e for e in examples if e))


def _strip_item(line: str) -> str:
    # Rasa's examples block is a Markdown list: "- text".
    line = line.strip()
    return line[1:].strip() if line.startswith("-") else ""
