"""`madoguchi seed-traffic` and `madoguchi report` on SQLite and on the real PostgreSQL server:
the figures match what was seeded, counted here independently; nothing personal shows."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from collections import Counter
from pathlib import Path

import holidays
import pytest
import yaml

from bot.cli import main
from bot.clock import JAPAN
from bot.faq.corpus import Corpus
from bot.faq.profile import Profile
from bot.report.figures import Month
from bot.report.render import ReportContext, month_report_html
from bot.report.seed import Manifest, seed_traffic
from bot.settings import PROJECT_ROOT, Settings
from bot.storage.db import Store
from tests.db_backends import database_url, dump_text_cells  # noqa: F401 (fixture)

OUTPUT = PROJECT_ROOT / "test-output" / "report"
MONTH, PREVIOUS = Month(2026, 10), Month(2026, 9)


def _entries() -> list:
    settings = Settings.from_env()
    return list(
        Corpus.load(settings.corpus_dir, Profile.load(settings.profile_path)).entries.values()
    )


def _read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def _office_open(moment: dt.datetime) -> bool:
    """Written from the sample profile's hours: weekdays 08:30–17:15 except holidays."""
    hours = yaml.safe_load((PROJECT_ROOT / "faq" / "municipality.yml").read_text())["hours"]
    assert hours["weekdays"] == ["mon", "tue", "wed", "thu", "fri"]
    assert (hours["open"], hours["close"]) == ("08:30", "17:15")
    day = moment.date()
    if day.weekday() >= 5 or day in holidays.Japan(years=day.year):
        return False
    return dt.time(8, 30) <= moment.time() < dt.time(17, 15)


def _in_month(moment: dt.datetime, month: Month) -> bool:
    local = moment.astimezone(JAPAN)
    return (local.year, local.month) == (month.year, month.month)


@pytest.fixture
def seeded(
    database_url: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Store, Manifest, Manifest]:
    monkeypatch.setenv("MADOGUCHI_DATABASE_URL", database_url)
    store = Store(database_url)
    entries = _entries()
    this = seed_traffic(store, MONTH, entries, messages=1200, seed=11)
    previous = seed_traffic(store, PREVIOUS, entries, messages=500, seed=12)
    return store, this, previous


def test_report_figures_match_the_seeded_traffic(
    seeded: tuple[Store, Manifest, Manifest],
    database_url: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store, this, previous = seeded
    out = tmp_path / "report"
    assert main(["report", "--month", str(MONTH), "--out", str(out)]) == 0
    printed = capsys.readouterr().out.split()
    assert printed[0].endswith("report-2026-10.html") and len(printed) == 10

    messages = this.messages
    answered = [m for m in messages if m.outcome == "answered"]
    questions = [m for m in messages if m.outcome in ("answered", "suggestions", "unanswered")]
    votes = [
        m
        for m in this.messages + previous.messages
        if m.helpful is not None and _in_month(m.feedback_at, MONTH)
    ]
    after_hours = sum(not _office_open(m.at) for m in messages)
    assert 0 < after_hours < len(messages)

    summary = {r["metric"]: r for r in _read_csv(out / "summary-2026-10.csv")}
    assert summary["messages"]["month"] == str(len(messages))
    assert summary["messages"]["previous_month"] == str(len(previous.messages))
    assert summary["questions"]["month"] == str(len(questions))
    assert summary["answered"]["month"] == str(len(answered))
    assert summary["feedback"]["month"] == str(len(votes))
    assert summary["after_hours"]["month"] == str(after_hours)
    assert float(summary["answer_rate"]["month"]) == pytest.approx(
        len(answered) / len(questions), abs=1e-4
    )
    assert float(summary["helpful_rate"]["month"]) == pytest.approx(
        sum(m.helpful for m in votes) / len(votes), abs=1e-4
    )
    assert float(summary["after_hours_share"]["month"]) == pytest.approx(
        after_hours / len(messages), abs=1e-4
    )

    per_day = Counter(m.at.date().isoformat() for m in messages)
    rows = _read_csv(out / "messages_per_day-2026-10.csv")
    assert len(rows) == 31
    assert {r["date"]: int(r["messages"]) for r in rows} == {
        d.isoformat(): per_day.get(d.isoformat(), 0) for d in MONTH.days()
    }
    per_hour = Counter(m.at.hour for m in messages)
    rows = _read_csv(out / "messages_per_hour-2026-10.csv")
    assert [int(r["messages"]) for r in rows] == [per_hour.get(h, 0) for h in range(24)]

    for attribute, name in (("channel", "by_channel"), ("lang", "by_language")):
        rows = {r["key"]: r for r in _read_csv(out / f"{name}-2026-10.csv")}
        counted = Counter(getattr(m, attribute) for m in messages)
        assert {k: int(r["messages"]) for k, r in rows.items()} == dict(counted)
        for key, row in rows.items():
            assert int(row["answered"]) == sum(getattr(m, attribute) == key for m in answered)
            assert int(row["feedback"]) == sum(getattr(m, attribute) == key for m in votes)
    assert set(rows) == {"ja", "en", "zh", "ko", "vi", "pt"}

    asked = Counter(m.faq_id for m in answered)
    top = _read_csv(out / "top_faq-2026-10.csv")
    assert len(top) == 20
    assert [(r["faq_id"], int(r["count"])) for r in top] == sorted(
        asked.items(), key=lambda kv: (-kv[1], kv[0])
    )[:20]
    assert all(r["question"] for r in top)  # titled from the corpus

    unanswered = [m for m in messages if m.outcome == "unanswered"]
    groups = _read_csv(out / "unanswered_groups-2026-10.csv")
    assert 0 < len(groups) <= 20
    assert sum(int(g["count"]) for g in groups) <= len(unanswered)
    assert int(groups[0]["count"]) >= int(groups[-1]["count"])
    # Wordings of one topic end up in one group.
    pool = next(
        g for g in groups if "市営プール" in g["representative"] or "花火" in g["representative"]
    )
    assert int(pool["count"]) > 1

    html = (out / "report-2026-10.html").read_text(encoding="utf-8")
    assert f"{len(messages):,}" in html
    assert html.count('src="data:image/png;base64,') == 4
    assert "@page" in html and "@font-face" in html
    assert "<script" not in html and "<link" not in html and 'src="http' not in html

    # No personal data in the database, the page or the CSV files.
    assert this.secrets
    texts = [v for _, c, v in dump_text_cells(store.engine) if not c.endswith("hash")]
    texts += [p.read_text(encoding="utf-8-sig") for p in out.iterdir()]
    haystack = "\n".join(texts)
    for secret in this.secrets + previous.secrets:
        assert secret not in haystack

    backend = store.engine.dialect.name
    _screenshot(out / "report-2026-10.html", OUTPUT / f"report-page-{backend}.png")


def _screenshot(page: Path, target: Path) -> None:
    """The report's first A4 page as PNG, in the Debian chromium via Playwright."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(page, target.with_suffix(".html"))
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    assert chromium, "chromium is missing (make test installs it)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        tab = browser.new_page(viewport={"width": 794, "height": 1123})  # A4 at 96 dpi
        tab.goto(page.as_uri())
        tab.screenshot(path=str(target))
        tab.pdf(path=str(target.with_suffix(".pdf")), format="A4")
        browser.close()
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert target.stat().st_size > 20_000


def test_an_empty_month_gives_a_no_data_report(
    database_url: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("MADOGUCHI_DATABASE_URL", database_url)
    out = tmp_path / "empty"
    assert main(["report", "--month", "2027-01", "--out", str(out)]) == 0
    html = (out / "report-2027-01.html").read_text(encoding="utf-8")
    assert 'id="no-data"' in html and "データがありません" in html
    assert "data:image/png" not in html
    assert _read_csv(out / "messages_per_day-2027-01.csv")[0] == {
        "date": "2027-01-01",
        "messages": "0",
    }
    assert _read_csv(out / "top_faq-2027-01.csv") == []
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / "report-empty.html").write_text(html, encoding="utf-8")


def test_report_html_for_the_staff_pages(seeded: tuple[Store, Manifest, Manifest]) -> None:
    store, this, _ = seeded
    context = ReportContext.from_settings(Settings.from_env())
    html = month_report_html(store, "2026-10", context)
    assert html.startswith("<!doctype html>") and f"{len(this.messages):,}" in html
    with pytest.raises(ValueError, match="YYYY-MM"):
        month_report_html(store, "2026-13", context)


def test_seed_traffic_command(
    database_url: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("MADOGUCHI_DATABASE_URL", database_url)
    assert main(["seed-traffic", "--month", "2026-08", "--messages", "150", "--seed", "4"]) == 0
    store = Store(database_url)
    rows = store.messages()
    assert len(rows) == 150
    assert all(
        _in_month(
            r.created_at.replace(tzinfo=r.created_at.tzinfo or dt.timezone.utc), Month(2026, 8)
        )
        for r in rows
    )
    assert {r.channel for r in rows} == {"line", "web"}
    assert main(["seed-traffic", "--month", "2026-8"]) == 2
    assert main(["report", "--month", "oops", "--out", "x"]) == 2
    (tmp_path / "a-file").write_text("")
    assert main(["report", "--month", "2026-08", "--out", str(tmp_path / "a-file")]) == 1
