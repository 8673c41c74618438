"""`madoguchi eval`: how well the engine finds entries, and how honestly it declines.

Queries are JSONL lines ``{"query", "lang"?, "relevant"}``. ``relevant`` is a list of entry
ids, or ``{id: grade}`` with grade 2 for "answers it" and 1 for "partly"; ``[]`` marks a
question the assistant must not answer.

Ranking metrics are computed over answerable queries on the engine's ranking, whatever
its confidence: hit@k and MRR@10 count the entries of the query's highest grade, nDCG@10
uses all grades; the answer/decline decision is measured apart:
``oos_rejection`` is the share of must-not-answer queries left unanswered, and
``false_rejection`` the share of answerable queries left unanswered.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.faq.engine import FaqEngine
from bot.faq.exchange import ExchangeError, decode, normalize_id
from bot.text.language import LANGUAGES, detect_language

K_VALUES = (1, 3, 5)
DEPTH = 10


@dataclass(frozen=True)
class Query:
    text: str
    lang: str
    grades: dict[str, int]  # entry id -> grade (1 or 2); empty: must not be answered

    @property
    def answerable(self) -> bool:
        return bool(self.grades)

    @property
    def answers(self) -> frozenset[str]:
        """The ids that answer the query (its highest grade); hit@k and MRR count these."""
        top = max(self.grades.values(), default=0)
        return frozenset(i for i, g in self.grades.items() if g == top)


@dataclass(frozen=True)
class Outcome:
    query: Query
    ranking: tuple[str, ...]
    answered: bool
    latency_ms: float


def load_queries(path: Path, normalize_ids: bool = False) -> list[Query]:
    errors: list[str] = []
    queries: list[Query] = []
    for number, line in enumerate(decode(path.read_bytes()).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            query = _query(item, normalize_ids)
        except (json.JSONDecodeError, ValueError, TypeError, AttributeError) as exc:
            errors.append(f"{path.name}: line {number}: {exc}")
            continue
        queries.append(query)
    if errors:
        raise ExchangeError(errors)
    if not queries:
        raise ExchangeError([f"{path.name}: no queries"])
    return queries


def _query(item: Any, normalize_ids: bool) -> Query:
    if not isinstance(item, dict):
        raise ValueError("expected a JSON object")
    text = item.get("query")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("'query' must be non-empty text")
    relevant = item.get("relevant")
    if isinstance(relevant, list):
        grades = {str(i): 2 for i in relevant}
    elif isinstance(relevant, dict):
        grades = {str(i): int(g) for i, g in relevant.items() if int(g) > 0}
    else:
        raise ValueError("'relevant' must be a list of ids or an {id: grade} object")
    if normalize_ids:
        grades = {normalize_id(i): g for i, g in grades.items()}
    lang = item.get("lang") or detect_language(text)
    if lang not in LANGUAGES:
        raise ValueError(f"'lang' must be one of {', '.join(LANGUAGES)}")
    return Query(text=text, lang=lang, grades=grades)


def run(engine: FaqEngine, queries: Iterable[Query]) -> list[Outcome]:
    outcomes = []
    for query in queries:
        started = time.perf_counter()
        reply = engine.search(query.text, query.lang, limit=DEPTH)
        latency = (time.perf_counter() - started) * 1000
        ranking = tuple(r.entry.id for r in reply.candidates)
        outcomes.append(Outcome(query, ranking, reply.answered, latency))
    return outcomes


def _dcg(gains: Iterable[float]) -> float:
    return sum(gain / math.log2(position + 2) for position, gain in enumerate(gains))


def ndcg(ranking: tuple[str, ...], grades: dict[str, int], depth: int = DEPTH) -> float:
    ideal = _dcg(sorted(grades.values(), reverse=True)[:depth])
    if ideal == 0:
        return 0.0
    return _dcg(grades.get(i, 0) for i in ranking[:depth]) / ideal


def reciprocal_rank(ranking: tuple[str, ...], answers: Iterable[str], depth: int = DEPTH) -> float:
    answers = set(answers)
    for position, entry_id in enumerate(ranking[:depth], start=1):
        if entry_id in answers:
            return 1.0 / position
    return 0.0


def summarize(outcomes: list[Outcome]) -> dict[str, Any]:
    answerable = [o for o in outcomes if o.query.answerable]
    oos = [o for o in outcomes if not o.query.answerable]
    latencies = sorted(o.latency_ms for o in outcomes)
    summary: dict[str, Any] = {
        "n": len(outcomes),
        "n_answerable": len(answerable),
        "n_oos": len(oos),
    }
    for k in K_VALUES:
        summary[f"hit@{k}"] = _mean(
            any(i in o.query.answers for i in o.ranking[:k]) for o in answerable
        )
    summary["mrr@10"] = _mean(reciprocal_rank(o.ranking, o.query.answers) for o in answerable)
    summary["ndcg@10"] = _mean(ndcg(o.ranking, o.query.grades) for o in answerable)
    summary["answered_correct"] = _mean(
        o.answered and bool(o.ranking) and o.ranking[0] in o.query.answers for o in answerable
    )
    summary["oos_rejection"] = _mean(not o.answered for o in oos)
    summary["false_rejection"] = _mean(not o.answered for o in answerable)
    summary["latency_ms_p50"] = round(statistics.median(latencies), 3) if latencies else None
    summary["latency_ms_p95"] = round(_percentile(latencies, 0.95), 3) if latencies else None
    return summary


def report(outcomes: list[Outcome]) -> dict[str, Any]:
    """Overall figures plus the same figures per language."""
    result = summarize(outcomes)
    result["by_lang"] = {
        lang: summarize([o for o in outcomes if o.query.lang == lang])
        for lang in LANGUAGES
        if any(o.query.lang == lang for o in outcomes)
    }
    return result


def failures(outcomes: list[Outcome], limit: int = 50) -> list[dict[str, Any]]:
    """Queries the engine got wrong, for a person to read."""
    wrong = []
    for o in outcomes:
        top = o.ranking[0] if o.ranking else None
        if o.query.answerable and (not o.answered or top not in o.query.answers):
            wrong.append(
                {
                    "query": o.query.text,
                    "expected": list(o.query.grades),
                    "got": top,
                    "answered": o.answered,
                }
            )
        elif not o.query.answerable and o.answered:
            wrong.append({"query": o.query.text, "expected": [], "got": top, "answered": True})
    return wrong[:limit]


def _mean(values: Iterable[float | bool]) -> float | None:
    items = [float(v) for v in values]
    return round(sum(items) / len(items), 4) if items else None


def _percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]
