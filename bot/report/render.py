"""The monthly report as one self-contained HTML page (inline CSS, charts as data: URLs,
A4 print layout) and as CSV files for Excel."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont
from jinja2 import Environment, PackageLoader, select_autoescape

from bot.faq.corpus import Corpus
from bot.faq.profile import Profile
from bot.report import charts
from bot.report.figures import Month, MonthFigures, OfficeCalendar, Summary, compute_figures
from bot.settings import Settings
from bot.storage.db import Store

OUTCOME_LABELS = {
    "answered": "FAQで回答",
    "suggestions": "候補を提示",
    "clarify": "聞き返し",
    "unanswered": "回答できず",
    "small_talk": "あいさつ等",
    "contact": "問い合わせ先の案内",
    "error": "処理できず（障害）",
    "other": "その他",
}
TURN_LABELS = {
    "first": "最初の質問",
    "follow_up": "続けての質問（前の回答の話題で）",
    "switch": "会話の途中の新しい質問",
    "clarify": "聞き返した質問",
    "clarified": "聞き返しへの返事",
    "other": "あいさつ・窓口の問い合わせ",
}
# Excel runs a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ReportContext:
    """What a report needs besides the database: the city's name, hours and FAQ titles."""

    city: str
    calendar: OfficeCalendar
    faq_titles: Mapping[str, str]

    @classmethod
    def from_settings(cls, settings: Settings) -> ReportContext:
        profile = Profile.load(settings.profile_path)
        corpus = Corpus.load(settings.corpus_dir, profile, strict=False)
        return cls(
            city=profile.city_name("ja"),
            calendar=OfficeCalendar.from_profile_data({"hours": profile.hours}),
            faq_titles={i: e.canonical_question("ja") for i, e in corpus.entries.items()},
        )


def figures_for(store: Store, month: Month | str, context: ReportContext) -> MonthFigures:
    month = Month.parse(month) if isinstance(month, str) else month
    return compute_figures(store, month, context.calendar, context.faq_titles)


def render_html(figures: MonthFigures, context: ReportContext) -> str:
    hours = context.calendar.hours
    opens = hours.opens.hour + hours.opens.minute / 60
    closes = hours.closes.hour + hours.closes.minute / 60
    images: dict[str, str] = {}
    if not figures.empty:
        images = {
            "per_day": _data_url(charts.per_day_chart(figures)),
            "per_hour": _data_url(charts.per_hour_chart(figures, opens, closes)),
            "by_channel": _data_url(charts.breakdown_chart(figures.by_channel, "チャネル別")),
            "by_language": _data_url(charts.breakdown_chart(figures.by_language, "言語別")),
        }
    page = (
        _environment()
        .get_template("report.html.j2")
        .render(
            f=figures,
            city=context.city,
            hours=f"{hours.opens:%H:%M}〜{hours.closes:%H:%M}",
            images=images,
            outcome_labels=OUTCOME_LABELS,
            turn_labels=TURN_LABELS,
            changes=_changes(figures.summary, figures.previous),
        )
    )
    return page.replace(FONT_FACE_MARKER, _font_face(page), 1)


FONT_FACE_MARKER = "/* font-face */"


def _font_face(page: str) -> str:
    """An @font-face with the Japanese font cut down to the characters of ``page``, so that
    the page shows (and prints) the same on a computer without Japanese fonts."""
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    font = TTFont(str(files("matplotlib_fontja") / "fonts" / "ipaexg.ttf"))
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(set(page))))
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (
        '@font-face { font-family: "Madoguchi Report"; '
        f'src: url("data:font/ttf;base64,{data}") format("truetype"); }}'
    )


def month_report_html(store: Store, month: Month | str, context: ReportContext) -> str:
    """The report page for ``month`` (for example to serve it on a staff page)."""
    return render_html(figures_for(store, month, context), context)


def write_report(
    store: Store, month: Month | str, out_dir: Path, context: ReportContext
) -> list[Path]:
    """Write ``report-YYYY-MM.html`` and the CSV files into ``out_dir``; return the paths."""
    figures = figures_for(store, month, context)
    out_dir.mkdir(parents=True, exist_ok=True)
    html_path = out_dir / f"report-{figures.month}.html"
    html_path.write_text(render_html(figures, context), encoding="utf-8")
    written = [html_path]
    for name, rows in csv_tables(figures).items():
        path = out_dir / f"{name}-{figures.month}.csv"
        path.write_bytes(_csv_bytes(rows))
        written.append(path)
    return written


def csv_tables(figures: MonthFigures) -> dict[str, list[list[object]]]:
    """The report's tables, header row first."""
    breakdown_header = [
        "key",
        "messages",
        "questions",
        "answered",
        "answer_rate",
        "feedback",
        "helpful",
        "helpful_rate",
    ]

    def breakdown(rows):  # type: ignore[no-untyped-def]
        return [breakdown_header] + [
            [
                r.key,
                r.messages,
                r.questions,
                r.answered,
                _fraction(r.answer_rate),
                r.feedback,
                r.helpful,
                _fraction(r.helpful_rate),
            ]
            for r in rows
        ]

    return {
        "summary": [["metric", "month", "previous_month", "change"]]
        + [[c["key"], c["now"], c["before"], c["change"]] for c in _changes_raw(figures)],
        "outcomes": [["outcome", "messages"]] + [[k, v] for k, v in figures.outcomes.items()],
        "turns": [["turn", "messages", "answered"]]
        + [[t.turn, t.messages, t.answered] for t in figures.turns],
        "messages_per_day": [["date", "messages"]]
        + [[d.isoformat(), n] for d, n in figures.per_day],
        "messages_per_hour": [["hour", "messages"]]
        + [[h, n] for h, n in enumerate(figures.per_hour)],
        "by_channel": breakdown(figures.by_channel),
        "by_language": breakdown(figures.by_language),
        "top_faq": [["rank", "faq_id", "question", "count", "helpful", "not_helpful"]]
        + [
            [rank, r.faq_id, r.question, r.count, r.helpful, r.not_helpful]
            for rank, r in enumerate(figures.top_faq, 1)
        ],
        "unanswered_groups": [["rank", "count", "representative", "examples"]]
        + [
            [rank, g.count, g.representative, " / ".join(g.examples)]
            for rank, g in enumerate(figures.unanswered_groups, 1)
        ],
    }


def _fraction(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _changes_raw(figures: MonthFigures) -> list[dict[str, object]]:
    now, before = figures.summary, figures.previous
    out: list[dict[str, object]] = []
    for key in ("messages", "questions", "answered", "feedback", "after_hours"):
        a, b = getattr(now, key), getattr(before, key)
        out.append({"key": key, "now": a, "before": b, "change": a - b})
    for key in ("answer_rate", "helpful_rate", "after_hours_share"):
        a, b = getattr(now, key), getattr(before, key)
        change = "" if a is None or b is None else f"{a - b:+.4f}"
        out.append({"key": key, "now": _fraction(a), "before": _fraction(b), "change": change})
    return out


def _changes(now: Summary, before: Summary) -> list[dict[str, str]]:
    """Headline rows for the HTML: label, this month, previous month, change."""

    def count(label: str, a: int, b: int) -> dict[str, str]:
        change = f"{a - b:+,}" + (f"（{(a - b) / b:+.0%}）" if b else "")
        return {"label": label, "now": f"{a:,}", "before": f"{b:,}", "change": change}

    def rate(label: str, a: float | None, b: float | None) -> dict[str, str]:
        change = "—" if a is None or b is None else f"{(a - b) * 100:+.1f} ポイント"
        return {"label": label, "now": _percent(a), "before": _percent(b), "change": change}

    return [
        count("メッセージ数", now.messages, before.messages),
        count("質問数", now.questions, before.questions),
        rate("回答率", now.answer_rate, before.answer_rate),
        rate("役に立った率", now.helpful_rate, before.helpful_rate),
        rate("開庁時間外の割合", now.after_hours_share, before.after_hours_share),
    ]


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _csv_bytes(rows: list[list[object]]) -> bytes:
    """UTF-8 with a BOM (Excel reads it as UTF-8), formula-like cells quoted away."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def _cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _is_number(value):
        return "'" + value
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=1)
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("bot.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["percent"] = _percent
    environment.filters["weekday"] = lambda day: "月火水木金土日"[day.weekday()]
    environment.globals["today"] = dt.date.today
    return environment
