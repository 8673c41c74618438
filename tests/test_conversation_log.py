"""The conversation log: every message logged with its outcome, personal data removed,
feedback attached, old rows purged; on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from bot.clock import JAPAN
from bot.gateway.conversation_log import outcome_of
from bot.gateway.rasa_client import to_chat_messages
from bot.report.figures import Month, OfficeCalendar
from bot.report.render import ReportContext, write_report
from bot.settings import Settings
from bot.storage.db import Store
from bot.storage.models import ConversationMessage, Feedback, LineEvent, UnansweredQuestion
from tests.db_backends import database_url, dump_text_cells  # noqa: F401 (fixture)
from tests.personal_data import personal_data_cases, secret_forms
from tests.stack import run_gateway

CASES = personal_data_cases()


@pytest.fixture
def gateway(database_url: str, tmp_path: Path) -> Iterator[str]:  # noqa: F811
    with run_gateway(database_url, tmp_path) as url:
        yield url


def test_at_least_200_personal_data_messages() -> None:
    assert len(CASES) >= 200
    assert all(secrets for _, secrets in CASES)


def test_personal_data_never_reaches_the_database_or_the_report(
    gateway: str,
    database_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    # Rasa is down: the gateway answers 503 and logs each message with outcome "error".
    with httpx.Client(base_url=gateway, timeout=60) as client:
        for number, (message, _) in enumerate(CASES):
            response = client.post("/api/chat", json={"session_id": f"s{number}", "text": message})
            assert response.status_code == 503
    store = Store(database_url)
    # The action server's path (unanswered questions) and answers with feedback.
    for number, (message, _) in enumerate(CASES):
        store.log_unanswered(
            text=message, channel="line", lang="ja", session_hash=f"h{number}", reason="no_match"
        )
        store.log_message(
            text=message,
            channel="line",
            lang="ja",
            session_hash=f"h{number}",
            outcome="unanswered" if number % 2 else "answered",
            faq_id=None if number % 2 else "mynumber-card-lost",
            score=None if number % 2 else 0.9,
        )
        if number % 2 == 0:
            store.record_feedback(
                channel="line",
                lang="ja",
                session_hash=f"h{number}",
                faq_id="mynumber-card-lost",
                helpful=False,
            )

    with store.session() as session:
        outcomes = dict(
            session.execute(
                select(ConversationMessage.outcome, func.count()).group_by(
                    ConversationMessage.outcome
                )
            ).all()
        )
    assert outcomes == {
        "error": len(CASES),
        "unanswered": len(CASES) // 2,
        "answered": len(CASES) - len(CASES) // 2,
    }

    cells = dump_text_cells(store.engine)
    tables = {table for table, _, _ in cells}
    assert {"conversation_log", "unanswered_questions", "feedback"} <= tables
    stored_texts = [value for _, column, value in cells if column == "text"]
    assert any("[個人番号]" in t for t in stored_texts)
    assert any("[氏名]" in t for t in stored_texts) and any("[住所]" in t for t in stored_texts)
    _assert_no_secret([value for _, column, value in cells if not column.endswith("hash")])

    # The report of this month shows the same texts; none of the secrets either.
    month = Month.parse(dt.datetime.now(JAPAN).strftime("%Y-%m"))
    context = ReportContext(
        city="テスト市",
        calendar=OfficeCalendar.from_profile_data(
            {"hours": {"weekdays": ["mon", "tue", "wed", "thu", "fri"]}}
        ),
        faq_titles={},
    )
    paths = write_report(store, month, tmp_path / "report", context)
    report = [p.read_text(encoding="utf-8-sig") for p in paths]
    assert "[個人番号]" in report[0]  # grouped unanswered questions are shown
    _assert_no_secret(report)


def _assert_no_secret(texts: list[str]) -> None:
    haystack = "\n".join(texts)
    digits_only = "\n".join(re.sub(r"[\s\-－ー()（）]", "", t) for t in texts)
    for message, secrets in CASES:
        for secret in secrets:
            for form in secret_forms(secret):
                assert form not in haystack, f"{form!r} (from {message!r}) was stored"
                compact = re.sub(r"[\s\-－ー()（）]", "", form)
                if compact.isdigit():
                    assert compact not in digits_only, f"{form!r} (from {message!r}) was stored"


def test_feedback_marks_the_sessions_latest_answer_with_that_faq(
    database_url: str,  # noqa: F811
) -> None:
    store = Store(database_url)
    common = {"channel": "web", "lang": "ja", "session_hash": "s1"}
    first = store.log_message(text="q1", outcome="answered", faq_id="a", score=0.8, **common)
    second = store.log_message(text="q2", outcome="answered", faq_id="a", score=0.7, **common)
    other = store.log_message(text="q3", outcome="answered", faq_id="b", score=0.9, **common)
    elsewhere = store.log_message(
        text="q4", channel="web", lang="ja", session_hash="s2", outcome="answered", faq_id="a"
    )
    store.record_feedback(faq_id="a", helpful=False, **common)
    helpful = {m.id: m.helpful for m in store.messages()}
    assert helpful == {first.id: None, second.id: False, other.id: None, elsewhere.id: None}
    assert [f.helpful for f in store.feedback("a")] == [False]
    # Feedback without a logged answer (e.g. the log was purged) is still stored.
    store.record_feedback(faq_id="zzz", helpful=True, **common)
    assert len(store.feedback()) == 2


def test_unknown_outcome_is_refused(database_url: str) -> None:  # noqa: F811
    store = Store(database_url)
    with pytest.raises(ValueError, match="unknown outcome"):
        store.log_message(text="x", channel="web", lang="ja", session_hash="s", outcome="bogus")
    assert store.messages() == []


def test_purge_deletes_old_rows_and_keeps_recent_ones(database_url: str) -> None:  # noqa: F811
    store = Store(database_url)
    now = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.timezone.utc)
    old, recent = now - dt.timedelta(days=31), now - dt.timedelta(days=29)
    for when, tag in ((old, "old"), (recent, "recent")):
        store.log_message(
            text=tag, channel="web", lang="ja", session_hash=tag, outcome="other", created_at=when
        )
        store.log_unanswered(
            text=tag,
            channel="web",
            lang="ja",
            session_hash=tag,
            reason="no_match",
            created_at=when,
        )
        store.record_feedback(
            channel="web", lang="ja", session_hash=tag, faq_id=tag, helpful=True, created_at=when
        )
        with store.session() as session, session.begin():
            session.add(LineEvent(event_id=tag, received_at=when))
    store.set_user_language("user", "en")  # not personal data with a date: kept

    deleted = store.purge(30, now=now)

    assert deleted == {
        "conversation_log": 1,
        "unanswered_questions": 1,
        "feedback": 1,
        "line_events": 1,
    }
    with store.session() as session:
        for model in (ConversationMessage, UnansweredQuestion, Feedback):
            assert [r.session_hash for r in session.scalars(select(model))] == ["recent"]
        assert [e.event_id for e in session.scalars(select(LineEvent))] == ["recent"]
    assert store.user_language("user") == "en"
    assert store.purge(30, now=now) == dict.fromkeys(deleted, 0)
    with pytest.raises(ValueError):
        store.purge(0)


def test_the_gateway_purges_at_start(database_url: str, tmp_path: Path) -> None:  # noqa: F811
    store = Store(database_url)
    now = dt.datetime.now(dt.timezone.utc)
    for days in (3, 40):
        store.log_message(
            text=f"{days} days",
            channel="web",
            lang="ja",
            session_hash="s",
            outcome="other",
            created_at=now - dt.timedelta(days=days),
        )
    with run_gateway(database_url, tmp_path, MADOGUCHI_RETENTION_DAYS="30"):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(store.messages()) > 1:
            time.sleep(0.2)
    assert [m.text for m in store.messages()] == ["3 days"]


def test_purge_command_uses_the_configured_retention(
    database_url: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.cli import main

    store = Store(database_url)
    now = dt.datetime.now(dt.timezone.utc)
    for days in (2, 10):
        store.log_message(
            text=str(days),
            channel="web",
            lang="ja",
            session_hash="s",
            outcome="other",
            created_at=now - dt.timedelta(days=days),
        )
    monkeypatch.setenv("MADOGUCHI_DATABASE_URL", database_url)
    monkeypatch.setenv("MADOGUCHI_RETENTION_DAYS", "5")
    assert Settings.from_env().retention_days == 5
    assert main(["purge"]) == 0
    assert "conversation_log: 1 row(s) older than 5 days deleted" in capsys.readouterr().out
    assert [m.text for m in store.messages()] == ["2"]


def test_rasa_reply_outcomes() -> None:
    """The actions' json_message gives the outcome, the FAQ id and the confidence."""
    answered = to_chat_messages(
        [
            {"recipient_id": "x", "text": "転入届は…", "buttons": [{"title": "t", "payload": "p"}]},
            {"recipient_id": "x", "text": "リンク"},
            {
                "recipient_id": "x",
                "custom": {
                    "madoguchi": True,
                    "faq_id": "moving-in",
                    "lang": "ja",
                    "confidence": 0.812,
                },
            },
        ]
    )
    outcome = outcome_of(answered)
    assert (outcome.outcome, outcome.faq_id, outcome.score) == ("answered", "moving-in", 0.812)
    assert "score" not in answered[0].public()
    for kind in ("suggestions", "unanswered", "small_talk", "contact"):
        messages = to_chat_messages(
            [{"text": "…"}, {"custom": {"madoguchi": True, "lang": "en", "outcome": kind}}]
        )
        assert outcome_of(messages).outcome == kind
    assert outcome_of(to_chat_messages([{"text": "plain"}])).outcome == "other"
    assert outcome_of([]).outcome == "other"
