"""The numbers of a monthly report, computed from the conversation log and feedback.

Months are calendar months in Japan time. Definitions (also shown in the report):

- *messages*: every logged resident message, whatever became of it.
- *questions*: messages answered from the FAQ, given "did you mean" suggestions, or declined.
  Small talk, contact requests, errors (Rasa down) and other messages are not questions.
- *answer rate*: answered questions / questions.
- *helpful rate*: 「はい」 / all 役に立ちましたか？ answers given that month.
- *outside office hours*: messages sent when the office is closed, by the profile's ``hours``
  (weekdays, times, national holidays, year-end closure and its own ``closed_days``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from bot.clock import JAPAN
from bot.faq.office_hours import OfficeHours
from bot.report.grouping import Group, group_texts
from bot.storage.db import Store, as_utc
from bot.storage.models import TURNS, ConversationMessage, Feedback

QUESTION_OUTCOMES = ("answered", "suggestions", "unanswered")
TOP_FAQ = 20
TOP_UNANSWERED_GROUPS = 20
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        match = _MONTH.match(text.strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise ValueError(f"expected a month as YYYY-MM, got {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def days(self) -> list[dt.date]:
        count = (self.next().first_day - self.first_day).days
        return [self.first_day + dt.timedelta(days=n) for n in range(count)]

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """Start and end (exclusive) in UTC."""
        start = dt.datetime.combine(self.first_day, dt.time(), JAPAN)
        end = dt.datetime.combine(self.next().first_day, dt.time(), JAPAN)
        return as_utc(start), as_utc(end)


@dataclass(frozen=True)
class OfficeCalendar:
    """When the office is open: the profile's hours plus its own closed days."""

    hours: OfficeHours
    closed_days: frozenset[dt.date] = frozenset()
    closed_month_days: frozenset[tuple[int, int]] = frozenset()

    @classmethod
    def from_profile_data(cls, data: Mapping[str, Any]) -> OfficeCalendar:
        hours = dict(data.get("hours") or {})
        days, month_days = set(), set()
        for value in hours.get("closed_days") or []:
            text = str(value)
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                days.add(dt.date.fromisoformat(text))
            elif re.fullmatch(r"\d{2}-\d{2}", text):
                month_days.add((int(text[:2]), int(text[3:])))
            else:
                raise ValueError(f"hours.closed_days: expected YYYY-MM-DD or MM-DD, got {text!r}")
        return cls(OfficeHours.from_profile(hours), frozenset(days), frozenset(month_days))

    def is_open_day(self, day: dt.date) -> bool:
        if day in self.closed_days or (day.month, day.day) in self.closed_month_days:
            return False
        return self.hours.is_open_day(day)


@dataclass
class Counts:
    """Messages, questions, answers and feedback, and the rates made of them."""

    messages: int = 0
    questions: int = 0
    answered: int = 0
    feedback: int = 0
    helpful: int = 0

    def add_message(self, message: ConversationMessage) -> None:
        self.messages += 1
        self.questions += message.outcome in QUESTION_OUTCOMES
        self.answered += message.outcome == "answered"

    def add_feedback(self, item: Feedback) -> None:
        self.feedback += 1
        self.helpful += item.helpful

    @property
    def answer_rate(self) -> float | None:
        return _rate(self.answered, self.questions)

    @property
    def helpful_rate(self) -> float | None:
        return _rate(self.helpful, self.feedback)


@dataclass
class Breakdown(Counts):
    """The figures of one channel or one language."""

    key: str = ""


@dataclass
class FaqCount:
    faq_id: str
    question: str
    count: int
    helpful: int = 0
    not_helpful: int = 0


@dataclass
class TurnCount:
    turn: str
    messages: int
    answered: int


@dataclass
class Summary(Counts):
    """The headline figures, also kept for the previous month to show the change."""

    after_hours: int = 0

    @property
    def after_hours_share(self) -> float | None:
        return _rate(self.after_hours, self.messages)


@dataclass
class MonthFigures:
    month: Month
    summary: Summary
    previous: Summary
    outcomes: dict[str, int]
    per_day: list[tuple[dt.date, int]]
    per_hour: list[int]
    by_channel: list[Breakdown]
    by_language: list[Breakdown]
    top_faq: list[FaqCount]
    unanswered_groups: list[Group]
    # Per kind of turn (first question, follow-up, …): messages, and how many were answered.
    turns: list[TurnCount] = field(default_factory=list)
    unanswered_total: int = 0
    open_days: int = 0
    generated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(JAPAN))

    @property
    def empty(self) -> bool:
        return self.summary.messages == 0 and self.summary.feedback == 0


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def local_time(moment: dt.datetime) -> dt.datetime:
    """A stored time (UTC; naive from SQLite) in Japan time."""
    return as_utc(moment).astimezone(JAPAN)


def _load(store: Store, month: Month) -> tuple[list[ConversationMessage], list[Feedback]]:
    start, end = month.bounds()
    with store.session() as session:
        messages = list(
            session.scalars(
                select(ConversationMessage)
                .where(ConversationMessage.created_at >= start)
                .where(ConversationMessage.created_at < end)
                .order_by(ConversationMessage.id)
            )
        )
        feedback = list(
            session.scalars(
                select(Feedback)
                .where(Feedback.created_at >= start)
                .where(Feedback.created_at < end)
                .order_by(Feedback.id)
            )
        )
    return messages, feedback


def _summary(
    messages: Iterable[ConversationMessage], feedback: list[Feedback], calendar: OfficeCalendar
) -> Summary:
    summary = Summary()
    for item in feedback:
        summary.add_feedback(item)
    open_days: dict[dt.date, bool] = {}
    for message in messages:
        summary.add_message(message)
        local = local_time(message.created_at)
        day = local.date()
        if day not in open_days:
            open_days[day] = calendar.is_open_day(day)
        is_open = open_days[day] and calendar.hours.opens <= local.time() < calendar.hours.closes
        summary.after_hours += not is_open
    return summary


def _breakdown(
    messages: list[ConversationMessage], feedback: list[Feedback], attribute: str
) -> list[Breakdown]:
    rows: dict[str, Breakdown] = {}
    for message in messages:
        key = getattr(message, attribute) or "?"
        rows.setdefault(key, Breakdown(key=key)).add_message(message)
    for item in feedback:
        key = getattr(item, attribute) or "?"
        rows.setdefault(key, Breakdown(key=key)).add_feedback(item)
    return sorted(rows.values(), key=lambda r: (-r.messages, r.key))


def compute_figures(
    store: Store,
    month: Month,
    calendar: OfficeCalendar,
    faq_titles: Mapping[str, str] | None = None,
) -> MonthFigures:
    """Everything the report shows for ``month``. ``faq_titles`` maps FAQ ids to the
    question shown next to them (the corpus's canonical Japanese question)."""
    faq_titles = faq_titles or {}
    messages, feedback = _load(store, month)
    previous_messages, previous_feedback = _load(store, month.previous())

    per_day = Counter(local_time(m.created_at).date() for m in messages)
    per_hour = Counter(local_time(m.created_at).hour for m in messages)
    asked = Counter(m.faq_id for m in messages if m.outcome == "answered" and m.faq_id)
    votes: dict[str, Counter[bool]] = {}
    for item in feedback:
        votes.setdefault(item.faq_id, Counter())[item.helpful] += 1
    top_faq = [
        FaqCount(
            faq_id=faq_id,
            question=faq_titles.get(faq_id, ""),
            count=count,
            helpful=votes.get(faq_id, Counter())[True],
            not_helpful=votes.get(faq_id, Counter())[False],
        )
        for faq_id, count in sorted(asked.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_FAQ]
    ]
    unanswered = [m.text for m in messages if m.outcome == "unanswered"]
    turn_messages = Counter(m.turn for m in messages if m.turn)
    turn_answered = Counter(m.turn for m in messages if m.turn and m.outcome == "answered")
    turns = [TurnCount(t, turn_messages[t], turn_answered[t]) for t in TURNS if turn_messages[t]]
    return MonthFigures(
        month=month,
        summary=_summary(messages, feedback, calendar),
        previous=_summary(previous_messages, previous_feedback, calendar),
        outcomes=dict(Counter(m.outcome for m in messages).most_common()),
        per_day=[(day, per_day.get(day, 0)) for day in month.days()],
        per_hour=[per_hour.get(hour, 0) for hour in range(24)],
        by_channel=_breakdown(messages, feedback, "channel"),
        by_language=_breakdown(messages, feedback, "lang"),
        top_faq=top_faq,
        unanswered_groups=group_texts(unanswered)[:TOP_UNANSWERED_GROUPS],
        turns=turns,
        unanswered_total=len(unanswered),
        open_days=sum(calendar.is_open_day(day) for day in month.days()),
    )
