"""Conversations through the real Rasa, action server and gateway: follow-ups read against the
topic, topic switches, clarifying questions, the conversation log, and a topic that outlives
a Rasa restart in the persistent tracker store (SQLite here, PostgreSQL below).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, select, text

from bot.privacy.hashing import hash_id
from bot.storage.db import Store
from bot.storage.models import ConversationMessage, UnansweredQuestion
from tests.conftest import fresh_postgres_database
from tests.stack import Stack, running_stack

pytestmark = pytest.mark.rasa


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("conversations")) as stack:
        yield stack


class Conversation:
    """One resident's session on the widget."""

    def __init__(self, stack: Stack, lang: str | None = None) -> None:
        self.stack, self.lang = stack, lang
        self.session = uuid.uuid4().hex
        self.last: dict = {}

    def say(self, message: str) -> dict:
        self.last = self.stack.chat(message, session_id=self.session, lang=self.lang)
        return self.last

    def answer(self, message: str) -> str | None:
        reply = self.say(message)
        return next((m["faq_id"] for m in reply["messages"] if m.get("faq_id")), None)

    def buttons(self) -> list[dict[str, str]]:
        return [q for m in self.last["messages"] for q in m.get("quick_replies", [])]


def test_follow_ups_about_a_residence_certificate(stack: Stack) -> None:
    resident = Conversation(stack)
    assert resident.answer("住民票がほしい") == "certificate-residence"
    assert resident.answer("必要なものは？") in ("certificate-id-documents", "certificate-residence")
    assert resident.last["turn"] == "follow_up"
    assert resident.answer("いくらかかる？") == "certificate-fees"
    assert resident.answer("代理人でもいい？") == "certificate-proxy"
    assert resident.answer("土曜日でも取れる？") in (
        "certificate-convenience-store",
        "certificate-kiosk",
    )


def test_follow_up_in_english_gets_the_documents_not_another_procedure(stack: Stack) -> None:
    resident = Conversation(stack)
    assert resident.answer("How do I get a residence certificate (juminhyo)?") == (
        "certificate-residence"
    )
    assert resident.answer("What do I need to bring?") in (
        "certificate-id-documents",
        "certificate-residence",
    )
    assert resident.last["lang"] == "en"
    assert resident.answer("how much?") == "certificate-fees"


@pytest.mark.parametrize(
    ("first", "expected_first", "follow_up", "expected"),
    [
        ("粗大ごみを出したい", "garbage-oversized", "エアコンは？", "garbage-home-appliances"),
        ("国民健康保険に入りたい", "nhi-join-leave", "保険料はいくら？", "insurance-nhi-premium"),
        (
            "Quero fazer o cartão My Number",
            "mynumber-card-apply",
            "e para o meu filho?",
            "mynumber-card-child",
        ),
    ],
)
def test_follow_up_that_names_only_a_detail(
    stack: Stack, first: str, expected_first: str, follow_up: str, expected: str
) -> None:
    resident = Conversation(stack)
    assert resident.answer(first) == expected_first
    assert resident.answer(follow_up) == expected
    assert resident.last["turn"] == "follow_up"


def test_a_new_question_changes_the_topic(stack: Stack) -> None:
    resident = Conversation(stack)
    assert resident.answer("住民票がほしい") == "certificate-residence"
    assert resident.answer("ところで粗大ごみは？") == "garbage-oversized"
    assert resident.last["turn"] == "switch"
    # The follow-up is now about bulky waste, not the certificate.
    assert resident.answer("いくら？") == "garbage-oversized"
    # A clear new question without a marker is not dragged back either.
    assert resident.answer("マイナンバーカードをなくしました") == "mynumber-card-lost"
    assert resident.answer("明日の天気は？") is None
    assert resident.last["outcome"] == "unanswered"


def test_clarifying_question_resolved_by_a_button(stack: Stack) -> None:
    resident = Conversation(stack)
    reply = resident.say("引っ越します")
    assert reply["outcome"] == "clarify"
    buttons = resident.buttons()
    assert len(buttons) >= 3
    chosen = next(b for b in buttons if "市外" in b["title"] or "転出" in b["title"])
    assert resident.answer(chosen["payload"]) == "moving-out"
    assert resident.last["turn"] == "clarified"
    # The answer is the topic now.
    assert resident.answer("オンラインでできる？") == "moving-onestop-online"


def test_clarifying_question_resolved_by_typing(stack: Stack) -> None:
    resident = Conversation(stack)
    assert resident.say("カードをなくした")["outcome"] == "clarify"
    assert resident.answer("マイナンバーの方です") == "mynumber-card-lost"


def test_never_two_clarifying_questions_in_a_row(stack: Stack) -> None:
    resident = Conversation(stack)
    assert resident.say("税金")["outcome"] == "clarify"
    assert resident.say("税金")["outcome"] != "clarify"


def test_the_log_keeps_the_turns_in_order_and_the_action_writes_nothing(stack: Stack) -> None:
    resident = Conversation(stack)
    resident.answer("住民票がほしい")
    resident.answer("いくら?")
    resident.say("引っ越します")
    resident.say("明日の天気は?")
    session_hash = hash_id(resident.session, stack.env["MADOGUCHI_HASH_SALT"])
    with Store(stack.database_url).session() as session:
        rows = session.scalars(
            select(ConversationMessage)
            .where(ConversationMessage.session_hash == session_hash)
            .order_by(ConversationMessage.id)
        ).all()
        declined = session.scalars(
            select(UnansweredQuestion).where(UnansweredQuestion.session_hash == session_hash)
        ).all()
    assert [(r.text, r.turn, r.outcome, r.topic_faq_id) for r in rows] == [
        ("住民票がほしい", "first", "answered", None),
        ("いくら?", "follow_up", "answered", "certificate-residence"),
        ("引っ越します", "clarify", "clarify", "certificate-residence"),
        ("明日の天気は?", "switch", "unanswered", "certificate-residence"),
    ]
    # A declined question reaches the review queue once, written by the gateway, with the
    # engine's candidates for staff.
    assert [q.text for q in declined] == ["明日の天気は?"]
    assert declined[0].candidate_ids


def test_topic_survives_a_rasa_restart_and_the_tracker_holds_redacted_text(stack: Stack) -> None:
    resident = Conversation(stack)
    assert resident.answer("I'm Maria Santos, 090-1234-5678. How do I get a juminhyo?") == (
        "certificate-residence"
    )
    stack.restart("rasa")
    assert resident.answer("how much?") == "certificate-fees"
    assert resident.last["lang"] == "en"
    engine = create_engine(f"sqlite:///{stack.env['MADOGUCHI_TRACKER_DB']}")
    with engine.connect() as connection:
        events = connection.execute(text("SELECT data FROM events")).scalars().all()
    engine.dispose()
    stored = "\n".join(events)
    assert "juminhyo" in stored  # the question is there…
    for secret in ("Maria", "Santos", "090-1234-5678", "12345678"):
        assert secret not in stored  # …its personal data is not
    slots = [json.loads(e) for e in events if '"slot"' in e]
    assert any(s.get("name") == "topic" and s.get("value") for s in slots)


def test_topic_survives_a_rasa_restart_on_postgresql(tmp_path_factory: pytest.TempPathFactory) -> None:
    with fresh_postgres_database() as tracker_url:
        workdir = tmp_path_factory.mktemp("conversations-postgres")
        with running_stack(workdir, MADOGUCHI_TRACKER_URL=tracker_url) as stack:
            resident = Conversation(stack)
            assert resident.answer("粗大ごみを出したい") == "garbage-oversized"
            stack.restart("rasa")
            assert resident.answer("エアコンは？") == "garbage-home-appliances"
            engine = create_engine(tracker_url)
            with engine.connect() as connection:
                senders = connection.execute(text("SELECT DISTINCT sender_id FROM events")).all()
            engine.dispose()
            assert len(senders) == 1
