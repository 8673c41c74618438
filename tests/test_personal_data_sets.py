"""The redactor on the personal-data sets: every secret removed, every question kept.

Both sets were written without looking at the redactor: ``dev.jsonl`` to tune it,
``test.jsonl`` to check it. They hold names, My Numbers, phones, e-mail addresses, street
addresses, rooms, postal codes, birth dates, bank accounts, insurance, pension, passport,
residence-card, licence and card numbers, in six languages and in the shapes residents
type them, and messages without personal data that look as if they had some.
"""

from __future__ import annotations

import json

import pytest

from bot.cli import main
from bot.privacy.redact import redact
from bot.settings import PROJECT_ROOT
from bot.text.japanese import normalize
from tests.personal_data.leaks import kept, leaked, load

SETS = ("dev", "test")


@pytest.mark.parametrize("name", SETS)
def test_no_secret_survives_redaction(name: str) -> None:
    failures = []
    for case in load(name):
        out = redact(case.text)
        found = [s for s in case.secrets if leaked(s, out)]
        if found:
            failures.append(f"{case.id}: {found} in {out!r}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("name", SETS)
def test_the_question_survives_redaction(name: str) -> None:
    lost = []
    for case in load(name):
        out = redact(case.text)
        lost += [f"{case.id}: {k!r} lost from {out!r}" for k in case.keep if not kept(k, out)]
    assert not lost, "\n".join(lost)


def test_sets_cover_every_kind_and_language() -> None:
    cases = load("test")
    assert len(cases) >= 400
    kinds = {kind for case in cases for kind in case.kinds}
    assert kinds >= {
        "name",
        "my_number",
        "phone",
        "email",
        "address",
        "postal_code",
        "room",
        "birth_date",
        "bank_account",
        "health_insurance",
        "pension_number",
        "passport",
        "residence_card",
        "driving_licence",
    }
    for lang in ("ja", "en", "zh", "ko", "vi", "pt"):
        assert sum(case.lang == lang for case in cases) >= 30, lang


def test_redacting_twice_changes_nothing() -> None:
    for case in load("dev"):
        once = redact(case.text)
        assert redact(once) == once, case.id


@pytest.mark.parametrize("name", ("dev", "test"))
def test_evaluation_queries_are_answered_the_same_after_redaction(name: str, tmp_path) -> None:
    """The gateway redacts before the engine sees a question: retrieval must not suffer."""
    import contextlib
    import io

    source = PROJECT_ROOT / "tests" / "eval" / f"{name}.jsonl"
    redacted = tmp_path / f"{name}-redacted.jsonl"
    rows = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines()]
    changed = [r["query"] for r in rows if redact(r["query"]) != normalize(r["query"])]
    for row in rows:
        row["query"] = redact(row["query"])
    redacted.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")

    def figures(path) -> dict:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["eval", "--queries", str(path), "--json"]) == 0
        return json.loads(out.getvalue())

    before, after = figures(source), figures(redacted)
    assert not changed, changed  # no evaluation question carries personal data
    for key in ("hit@1", "hit@3", "oos_rejection", "false_rejection"):
        assert abs(before[key] - after[key]) <= 0.01, (key, before[key], after[key])
