"""The conversation's rules without the stack: faq/conversation.yml and its checks, the
decision on the real FAQ engine, idle conversations, and purging Rasa's tracker store."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text

from bot.conversation.context import Context, slot_values
from bot.conversation.decide import Turn, decide
from bot.conversation.guide import Guide, GuideError, GuideFile
from bot.faq.engine import FaqEngine, build_engine
from bot.settings import PROJECT_ROOT, Settings
from bot.storage.tracker import purge_tracker
from tests.conftest import fresh_postgres_database

GUIDE_PATH = PROJECT_ROOT / "faq" / "conversation.yml"


@pytest.fixture(scope="module")
def engine() -> FaqEngine:
    return build_engine(Settings.from_env())


@pytest.fixture(scope="module")
def guide(engine: FaqEngine) -> Guide:
    return GuideFile(GUIDE_PATH).get(engine.corpus)


def data() -> dict:
    return yaml.safe_load(GUIDE_PATH.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["relations"]["entries"].update({"no-such-entry": {"fees": "x"}}), "no entry"),
        (lambda d: d["relations"]["categories"].update({"nowhere": {}}), "unknown category"),
        (lambda d: d["relations"]["categories"]["tax"].update({"colour": "tax-resident"}), "facet"),
        (lambda d: d["facets"]["fees"].update({"fr": ["combien"]}), "unknown language"),
        (lambda d: d["clarify"]["tax"].update({"entries": ["tax-resident"]}), "at least two"),
        (lambda d: d["clarify"]["tax"].update({"entries": ["tax-resident", "gone"]}), "no entry"),
    ],
)
def test_mistakes_in_the_conversation_file_are_reported(engine: FaqEngine, change, message) -> None:  # type: ignore[no-untyped-def]
    broken = data()
    change(broken)
    with pytest.raises(GuideError, match=message):
        Guide.from_data(broken, engine.corpus)


def test_the_project_file_is_valid_and_faq_validate_checks_it(faq_copy: Path) -> None:
    env = {**os.environ, "MADOGUCHI_FAQ_DIR": str(faq_copy)}
    command = [sys.executable, "-m", "bot.cli", "faq", "validate"]
    ok = subprocess.run(command, env=env, capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert ok.returncode == 0, ok.stderr
    assert "clarifying questions" in ok.stdout
    broken = data()
    broken["relations"]["entries"]["certificate-proxy"] = {"fees": "certificate-gone"}
    (faq_copy / "conversation.yml").write_text(yaml.safe_dump(broken, allow_unicode=True))
    failed = subprocess.run(command, env=env, capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert failed.returncode == 1
    assert "certificate-gone" in failed.stderr


def test_a_broken_edit_keeps_the_previous_guide(tmp_path: Path, engine: FaqEngine) -> None:
    path = tmp_path / "conversation.yml"
    path.write_text(GUIDE_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    guide_file = GuideFile(path)
    before = guide_file.get(engine.corpus)
    assert before.facets_in("いくら？") == ["fees"]
    path.write_text("facets: [not, a, mapping\n", encoding="utf-8")
    assert guide_file.get(engine.corpus) is before
    edited = data()
    edited["facets"]["fees"]["ja"].append("おいくら万円")
    path.write_text(yaml.safe_dump(edited, allow_unicode=True), encoding="utf-8")
    assert guide_file.get(engine.corpus).facets_in("おいくら万円") == ["fees"]


def run(engine: FaqEngine, guide: Guide, message: str, context: Context, lang: str = "ja"):  # type: ignore[no-untyped-def]
    return decide(engine, guide, Turn(message, lang, "faq", 0.9), context)


def test_follow_up_facets_pick_the_related_entry(engine: FaqEngine, guide: Guide) -> None:
    topic = Context(topic="certificate-residence")
    assert run(engine, guide, "いくら？", topic).entry.id == "certificate-fees"
    assert run(engine, guide, "郵送でもいい？", topic).entry.id == "certificate-by-mail"
    decision = run(engine, guide, "手数料は？", Context(topic="certificate-family-register"))
    assert decision.entry.id == "certificate-fees"
    # The conversation stays about the certificate, not about its fees.
    assert decision.subject.id == "certificate-family-register"


def test_facet_words_are_read_whole(guide: Guide) -> None:
    # A shorter facet phrase inside a longer one does not count on its own.
    assert guide.facets_in("trong bao nhiêu ngày phải làm") == ["deadline"]
    assert "fees" in guide.facets_in("bao nhiêu tiền?")
    # Korean particles written on to a facet word go with it, not into the remainder.
    assert guide.facets_in("요금은요?") == ["fees"]
    assert guide.remainder("요금은요?") == ""


def test_a_short_follow_up_stays_with_the_topic(engine: FaqEngine, guide: Guide) -> None:
    # Words the engine would place elsewhere alone ("alguma coisa", 「いつもらえる」) do not
    # take a short follow-up away from the procedure being discussed.
    school = Context(topic="kosodate-school-enrollment")
    pays = run(engine, guide, "tem que pagar alguma coisa?", school, "pt")
    assert (pays.kind, pays.subject.id) == ("follow_up", "kosodate-school-enrollment")
    allowance = Context(topic="child-allowance")
    when = run(engine, guide, "いつもらえる？", allowance)
    assert (when.kind, when.entry.id) == ("follow_up", "child-allowance")
    water = run(engine, guide, "can i pay at 7-eleven?", Context(topic="water-bill-payment"), "en")
    assert water.entry.id == "water-bill-payment"


def test_a_clear_new_question_or_a_marker_changes_the_topic(engine: FaqEngine, guide: Guide) -> None:
    topic = Context(topic="certificate-residence")
    new = run(engine, guide, "マイナンバーカードの暗証番号を忘れました", topic)
    assert (new.kind, new.entry.id) == ("switch", "mynumber-card-pin-forgot")
    marked = run(engine, guide, "ところで粗大ごみは？", topic)
    assert (marked.kind, marked.entry.id) == ("switch", "garbage-oversized")
    weather = run(engine, guide, "明日の天気は？", topic)
    assert weather.outcome in ("unanswered", "suggestions")
    assert weather.entry is None


def test_clarifying_question_is_asked_once_and_resolved(engine: FaqEngine, guide: Guide) -> None:
    asked = run(engine, guide, "引っ越します", Context())
    assert asked.outcome == "clarify"
    options = tuple(e.id for e in asked.options)
    assert {"moving-out", "moving-in", "moving-within-city"} <= set(options)
    pending = Context(options=options)
    assert run(engine, guide, "市外です", pending).entry.id == "moving-out"
    assert run(engine, guide, "2", pending).entry.id == options[1]
    assert run(engine, guide, "引っ越します", pending).outcome != "clarify"
    # An unrelated message is not taken for one of the options.
    assert run(engine, guide, "明日の天気は？", pending).entry is None
    # Other words that choose an option need no question.
    assert run(engine, guide, "市外に引っ越します", Context()).outcome == "answered"
    # Nor do details that point at a procedure outside the options.
    child = run(engine, guide, "引っ越します 子ども", Context())
    assert (child.outcome, child.entry.id) == ("answered", "school-transfer")


def test_small_talk_never_hides_an_answer(engine: FaqEngine, guide: Guide) -> None:
    thanks = decide(engine, guide, Turn("ありがとう", "ja", "thanks", 0.99), Context(topic="x"))
    assert thanks.outcome == "small_talk"
    question = decide(
        engine, guide, Turn("マイナンバーカードをなくしました", "ja", "greet", 0.95), Context()
    )
    assert question.entry.id == "mynumber-card-lost"
    proxy = decide(
        engine,
        guide,
        Turn("代理人でもいい？", "ja", "ask_human", 0.95),
        Context(topic="certificate-residence"),
    )
    assert proxy.entry.id == "certificate-proxy"


def test_an_idle_conversation_forgets_its_topic_but_not_its_language() -> None:
    now = time.time()
    slots = {"topic": "certificate-residence", "clarify_options": ["a", "b"], "last_turn_at": now}
    assert Context.from_slots(slots, now + 60, idle_minutes=30).topic == "certificate-residence"
    assert Context.from_slots(slots, now + 31 * 60, idle_minutes=30) == Context()
    assert Context.from_slots({"topic": "x"}, now, idle_minutes=30) == Context()
    after_small_talk = slot_values(answered=None, options=[], keep_topic=True, now=now)
    assert "topic" not in after_small_talk and "language" not in after_small_talk


@pytest.fixture(params=["sqlite", "postgresql"])
def tracker_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tracker.db'}"
    else:
        with fresh_postgres_database() as url:
            yield url


def test_tracker_events_past_retention_are_purged(tracker_url: str) -> None:
    assert purge_tracker(tracker_url, 30) == 0  # Rasa has not created its table yet
    engine = create_engine(tracker_url)
    now = dt.datetime.now(dt.timezone.utc)
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), "
                "type_name VARCHAR(255), timestamp FLOAT, intent_name VARCHAR(255), "
                "action_name VARCHAR(255), data TEXT)"
            )
        )
        for i, days in enumerate((40, 31, 29, 0)):
            at = (now - dt.timedelta(days=days)).timestamp()
            connection.execute(
                text("INSERT INTO events VALUES (:i, 's', 'user', :at, NULL, NULL, '{}')"),
                {"i": i, "at": at},
            )
    assert purge_tracker(tracker_url, 30) == 2
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM events")).scalar() == 2
    engine.dispose()
    with pytest.raises(ValueError):
        purge_tracker(tracker_url, 0)
