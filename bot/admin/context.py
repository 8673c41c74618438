"""What the staff pages share: the database, the accounts, the corpus editor, the sign-in
throttle and an engine for the review queue's closest entries, all on the gateway's one
store and one corpus; and how a page is drawn.

The gateway builds one `AdminContext` and keeps it in ``app.state.admin``; the pages reach
it through bot.admin.deps.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.templating import Jinja2Templates

from bot.admin.accounts import SignedIn, StaffStore
from bot.admin.corpus_edit import CorpusEditor
from bot.admin.history import changes
from bot.admin.labels import DONE_MESSAGES, action_name, jst, language_name, role_name
from bot.admin.review import Closest
from bot.admin.throttle import SignInThrottle
from bot.faq.directory import FaqDirectory
from bot.faq.engine import FaqEngine, build_engine
from bot.settings import Settings
from bot.storage.db import Store
from bot.text.language import LANGUAGES

PREFIX = "/admin"
SESSION_COOKIE = "madoguchi_staff"
LOGIN_CSRF_COOKIE = "madoguchi_login_csrf"
# The only /admin paths served without a session: the sign-in form and its stylesheet.
PUBLIC_PATHS = frozenset({f"{PREFIX}/login", f"{PREFIX}/static/admin.css"})
HERE = Path(__file__).parent
CSRF_REFUSED = (
    "フォームの確認用トークンがないか、正しくありません。"
    "ページを再読み込みしてから、もう一度操作してください。"
)

templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals.update(LANGUAGES=LANGUAGES, changes=changes, DONE=DONE_MESSAGES)
templates.env.filters.update(jst=jst, language=language_name, role=role_name, action=action_name)
templates.env.tests["search"] = lambda value, pattern: re.search(pattern, str(value)) is not None


class AdminContext:
    """One per gateway: the staff side's state, on the gateway's one store."""

    def __init__(self, settings: Settings, store: Store, directory: FaqDirectory) -> None:
        self.settings = settings
        self.store = store
        self.directory = directory
        self.staff = StaffStore(store, dt.timedelta(hours=settings.staff_session_hours))
        self.editor = CorpusEditor(directory, settings.root / "var" / "corpus.lock")
        self.throttle = SignInThrottle()
        self._engine: FaqEngine | None = None
        self._engine_lock = threading.Lock()

    def engine(self) -> FaqEngine:
        """The FAQ engine as the action server runs it, built on first use. It reloads
        itself when the corpus files change."""
        with self._engine_lock:
            if self._engine is None:
                self._engine = build_engine(self.settings, directory=self.directory)
            return self._engine

    def closest(self, text: str, lang: str) -> list[Closest]:
        engine = self.engine()
        return [
            Closest(r.entry.id, r.entry.canonical_question(lang), r.confidence)
            for r in engine.search(text, lang, limit=5).candidates[:3]
        ]


def is_api(path: str) -> bool:
    return path.startswith(f"{PREFIX}/api/")


def page(
    request: Request, name: str, staff: SignedIn | None, status: int = 200, **values: Any
) -> Response:
    return templates.TemplateResponse(
        request, name, {"staff": staff, "prefix": PREFIX, **values}, status_code=status
    )


def set_cookie(request: Request, response: Response, name: str, value: str, age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=age,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
