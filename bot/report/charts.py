"""The report's charts as PNG images, drawn with matplotlib in a Japanese font.

The font (IPAexGothic) ships inside the matplotlib-fontja package, so no system font is
needed and labels never render as empty boxes.
"""

from __future__ import annotations

import io
from functools import lru_cache
from importlib.resources import files

import matplotlib
from matplotlib import font_manager
from matplotlib.figure import Figure

from bot.report.figures import Breakdown, MonthFigures

BAR = "#2f6db5"
AFTER_HOURS = "#d9822b"
DPI = 150


@lru_cache(maxsize=1)
def japanese_font() -> str:
    """Register the bundled IPAexGothic with matplotlib and return its family name."""
    path = files("matplotlib_fontja") / "fonts" / "ipaexg.ttf"
    font_manager.fontManager.addfont(str(path))
    family = font_manager.FontProperties(fname=str(path)).get_name()
    matplotlib.rcParams["font.family"] = family
    return family


def _figure(width: float = 7.0, height: float = 2.6) -> Figure:
    """A figure outside pyplot's global state, so that reports can be drawn in threads."""
    japanese_font()
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")  # Agg, the default canvas for a bare Figure
    return buffer.getvalue()


def per_day_chart(figures: MonthFigures) -> bytes:
    figure = _figure()
    axes = figure.add_subplot()
    days = [day for day, _ in figures.per_day]
    counts = [count for _, count in figures.per_day]
    axes.bar([d.day for d in days], counts, color=BAR)
    axes.set_title(f"{figures.month} 日別メッセージ数")
    axes.set_xlabel("日")
    axes.set_ylabel("件数")
    axes.set_xticks([d.day for d in days if d.day == 1 or d.day % 5 == 0])
    axes.spines[["top", "right"]].set_visible(False)
    return _png(figure)


def per_hour_chart(figures: MonthFigures, opens: float, closes: float) -> bytes:
    """Messages per hour of the day, with the office's opening hours shaded."""
    figure = _figure()
    axes = figure.add_subplot()
    hours = list(range(24))
    colours = [BAR if opens <= h + 0.5 < closes else AFTER_HOURS for h in hours]
    axes.bar(hours, figures.per_hour, color=colours)
    axes.axvspan(opens - 0.5, closes - 0.5, color="#e8eef7", zorder=0, label="開庁時間")
    axes.set_title(f"{figures.month} 時間帯別メッセージ数（橙：開庁時間外）")
    axes.set_xlabel("時")
    axes.set_ylabel("件数")
    axes.set_xticks(range(0, 24, 3))
    axes.legend(loc="upper left", frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    return _png(figure)


def breakdown_chart(rows: list[Breakdown], title: str) -> bytes:
    """Messages per channel or language, answered part darker."""
    figure = _figure(3.4, 2.4)
    axes = figure.add_subplot()
    keys = [r.key for r in rows]
    axes.barh(keys, [r.messages for r in rows], color="#b7cbe6", label="メッセージ")
    axes.barh(keys, [r.answered for r in rows], color=BAR, label="回答済み")
    axes.invert_yaxis()
    axes.set_title(title)
    axes.legend(loc="lower right", frameon=False, fontsize="small")
    axes.spines[["top", "right"]].set_visible(False)
    return _png(figure)
