"""The review queue: questions the assistant could not answer, and answers residents said
did not help, grouped so that one need asked many ways is one line (with the grouping the
monthly report uses, bot.report.grouping)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import select

from bot.report.grouping import group_texts
from bot.storage.db import Store
from bot.storage.models import ConversationMessage, UnansweredQuestion

MAX_ITEMS = 1000
SOURCES = ("unanswered", "not_helpful")


@dataclass(frozen=True)
class Item:
    source: str  # "unanswered" or "not_helpful"
    id: int
    text: str
    lang: str
    created_at: dt.datetime
    faq_id: str | None = None  # the entry that was answered, for "not helpful"

    @property
    def key(self) -> str:
        return f"{self.source}:{self.id}"


@dataclass(frozen=True)
class Closest:
    entry_id: str
    question: str
    confidence: float


@dataclass
class Group:
    items: list[Item]
    closest: list[Closest] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.items)

    @property
    def text(self) -> str:
        """The wording asked most often."""
        return self.examples[0][0]

    @property
    def lang(self) -> str:
        return Counter(i.lang for i in self.items).most_common(1)[0][0]

    @property
    def examples(self) -> list[tuple[str, int]]:
        return Counter(i.text for i in self.items).most_common(5)

    @property
    def unanswered(self) -> int:
        return sum(i.source == "unanswered" for i in self.items)

    @property
    def not_helpful(self) -> Counter[str]:
        """Entries residents got and said did not help, with how often."""
        return Counter(i.faq_id for i in self.items if i.source == "not_helpful" and i.faq_id)

    @property
    def keys(self) -> list[str]:
        return [i.key for i in self.items]

    @property
    def last_asked(self) -> dt.datetime:
        return max(i.created_at for i in self.items)


def pending_items(store: Store, decided: set[tuple[str, int]]) -> list[Item]:
    """The newest questions not yet decided on, at most MAX_ITEMS of each kind."""
    items: list[Item] = []
    with store.session() as session:
        unanswered = session.scalars(
            select(UnansweredQuestion).order_by(UnansweredQuestion.id.desc()).limit(MAX_ITEMS * 2)
        )
        for row in unanswered:
            if ("unanswered", row.id) not in decided and row.text.strip():
                items.append(Item("unanswered", row.id, row.text, row.lang, row.created_at))
        not_helpful = session.scalars(
            select(ConversationMessage)
            .where(ConversationMessage.helpful.is_(False))
            .order_by(ConversationMessage.id.desc())
            .limit(MAX_ITEMS * 2)
        )
        for row in not_helpful:
            if ("not_helpful", row.id) not in decided and row.text.strip():
                items.append(
                    Item("not_helpful", row.id, row.text, row.lang, row.created_at, row.faq_id)
                )
    return items[: MAX_ITEMS * 2]


def build_queue(
    items: list[Item], closest: Callable[[str, str], list[Closest]] | None = None
) -> list[Group]:
    """Group ``items`` (newest first) and find each group's closest entries."""
    ordered = sorted(items, key=lambda i: -i.created_at.timestamp())
    grouped = group_texts([i.text for i in ordered])
    groups = [Group([ordered[i] for i in g.members]) for g in grouped]
    groups.sort(key=lambda g: (-g.count, -g.last_asked.timestamp()))
    if closest is not None:
        for group in groups:
            group.closest = closest(group.text, group.lang)
    return groups


def parse_keys(values: Iterable[str]) -> list[tuple[str, int]]:
    """Item keys posted by a form ("unanswered:12"); anything malformed is dropped."""
    keys = []
    for value in values:
        source, _, number = str(value).partition(":")
        if source in SOURCES and number.isdigit() and len(number) < 12:
            keys.append((source, int(number)))
    return list(dict.fromkeys(keys))


def items_by_key(store: Store, keys: list[tuple[str, int]]) -> list[Item]:
    """The posted items that exist, so that forged ids change nothing."""
    wanted = {source: [i for s, i in keys if s == source] for source in SOURCES}
    found: list[Item] = []
    with store.session() as session:
        if wanted["unanswered"]:
            for row in session.scalars(
                select(UnansweredQuestion).where(UnansweredQuestion.id.in_(wanted["unanswered"]))
            ):
                found.append(Item("unanswered", row.id, row.text, row.lang, row.created_at))
        if wanted["not_helpful"]:
            for row in session.scalars(
                select(ConversationMessage).where(
                    ConversationMessage.id.in_(wanted["not_helpful"]),
                    ConversationMessage.helpful.is_(False),
                )
            ):
                found.append(
                    Item("not_helpful", row.id, row.text, row.lang, row.created_at, row.faq_id)
                )
    return found
