"""How the staff pages show values to city staff: times in Japan time, Japanese names.

Stored data (action names, roles, language codes) stays as it is; only what is shown changes.
"""

from __future__ import annotations

import datetime as dt

from bot.clock import JAPAN
from bot.storage.db import as_utc

LANGUAGE_NAMES = {
    "ja": "日本語",
    "en": "英語",
    "zh": "中国語",
    "ko": "韓国語",
    "vi": "ベトナム語",
    "pt": "ポルトガル語",
}
ROLE_NAMES = {"editor": "編集者", "viewer": "閲覧者"}
ACTION_NAMES = {
    "login": "ログイン",
    "add_paraphrase": "言い換えを追加",
    "dismiss": "対象外にした",
    "add_entry": "エントリを追加",
    "edit_entry": "エントリを編集",
    "retire_entry": "エントリを廃止",
}
DONE_MESSAGES = {
    "paraphrase": "言い換えとして追加しました。",
    "dismiss": "対象外にしました。",
}


def jst(moment: dt.datetime | None) -> str:
    """A stored time (UTC; naive from SQLite) in Japan time, e.g. ``2026-11-21 11:51``."""
    if moment is None:
        return ""
    return as_utc(moment).astimezone(JAPAN).strftime("%Y-%m-%d %H:%M")


def language_name(code: str) -> str:
    """``日本語 (ja)``; an unknown code as it is."""
    name = LANGUAGE_NAMES.get(code)
    return f"{name} ({code})" if name else code


def role_name(role: str) -> str:
    return ROLE_NAMES.get(role, role)


def action_name(action: str) -> str:
    return ACTION_NAMES.get(action, action)
