"""The staff pages under /admin: sign-in, review queue, FAQ editor, audit trail.

Every page and API needs a signed-in staff member (pages redirect to the sign-in page,
the JSON API answers 401). Every POST must carry the session's CSRF token (403 without
it), and only editors may change anything (403 for viewers).
"""

# No `from __future__ import annotations` here: FastAPI must resolve the Annotated
# dependency aliases defined inside create_admin_router, which only works at run time.

import asyncio
import datetime as dt
import re
import secrets
import threading
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from fastapi.templating import Jinja2Templates

from bot.admin.accounts import MAX_PASSWORD_CHARS, SignedIn, StaffStore
from bot.admin.corpus_edit import CorpusEditor, EditError, entry_snapshot, entry_version
from bot.admin.forms import entry_fields, entry_from_fields, form_fields
from bot.admin.history import changes
from bot.admin.labels import DONE_MESSAGES, action_name, jst, language_name, role_name
from bot.admin.review import (
    Closest,
    Group,
    build_queue,
    items_by_key,
    parse_keys,
    pending_items,
)
from bot.admin.throttle import SignInThrottle
from bot.clock import today_in_japan
from bot.faq.corpus import LANGUAGES, Corpus, Entry
from bot.faq.engine import FaqEngine, build_engine
from bot.settings import Settings
from bot.storage.db import Store

PREFIX = "/admin"
SESSION_COOKIE = "madoguchi_staff"
LOGIN_CSRF_COOKIE = "madoguchi_login_csrf"
# The only /admin paths served without a session: the sign-in form and its stylesheet.
PUBLIC_PATHS = frozenset({f"{PREFIX}/login", f"{PREFIX}/static/admin.css"})
HERE = Path(__file__).parent
MAX_FORM_BYTES = 512 * 1024
MAX_REASON_CHARS = 2000
CSRF_REFUSED = (
    "フォームの確認用トークンがないか、正しくありません。"
    "ページを再読み込みしてから、もう一度操作してください。"
)
NO_LONGER_QUEUED = "これらの質問は、すでにレビュー待ちの一覧にありません。"


class AdminContext:
    """What the staff pages share: the database, the corpus editor and an engine."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.staff = StaffStore(
            self.store, dt.timedelta(hours=settings.staff_session_hours)
        )
        self.editor = CorpusEditor(
            settings.corpus_dir, settings.profile_path, settings.root / "var" / "corpus.lock"
        )
        self._engine: FaqEngine | None = None
        self._engine_lock = threading.Lock()

    def engine(self) -> FaqEngine:
        """The FAQ engine as the action server runs it, built on first use. It reloads
        itself when the corpus files change."""
        with self._engine_lock:
            if self._engine is None:
                self._engine = build_engine(self.settings)
            return self._engine

    def closest(self, text: str, lang: str) -> list[Closest]:
        engine = self.engine()
        return [
            Closest(r.entry.id, r.entry.canonical_question(lang), r.confidence)
            for r in engine.search(text, lang, limit=5).candidates[:3]
        ]


def is_api(path: str) -> bool:
    return path.startswith(f"{PREFIX}/api/")


def create_admin_router(settings: Settings, store: Store) -> APIRouter:
    context = AdminContext(settings, store)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals.update(LANGUAGES=LANGUAGES, changes=changes, DONE=DONE_MESSAGES)
    templates.env.filters.update(
        jst=jst, language=language_name, role=role_name, action=action_name
    )
    templates.env.tests["search"] = lambda value, pattern: (
        re.search(pattern, str(value)) is not None
    )
    router = APIRouter(prefix=PREFIX, include_in_schema=False)
    throttle = SignInThrottle()

    # -- authentication and CSRF -----------------------------------------------------------

    def signed_in(request: Request) -> SignedIn:
        staff = context.staff.signed_in(request.cookies.get(SESSION_COOKIE))
        if staff is not None:
            return staff
        if is_api(request.url.path):
            raise HTTPException(401, "ログインしてください。")
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise HTTPException(
            302, "ログインしてください。", {"Location": f"{PREFIX}/login?next={quote(target)}"}
        )

    Staff = Annotated[SignedIn, Depends(signed_in)]

    async def posted(request: Request, staff: Staff) -> dict[str, Any]:
        """The submitted form, once its CSRF token is checked."""
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
            raise HTTPException(413, "送信された内容が大きすぎます。")
        form = await request.form()
        if not staff.csrf_ok(form.get("csrf_token") or request.headers.get("x-csrf-token")):
            raise HTTPException(403, CSRF_REFUSED)
        return {"staff": staff, "form": form}

    Posted = Annotated[dict[str, Any], Depends(posted)]

    async def edit(submission: Posted) -> dict[str, Any]:
        if not submission["staff"].can_edit:
            raise HTTPException(403, "閲覧者の権限では変更できません。")
        return submission

    Editing = Annotated[dict[str, Any], Depends(edit)]

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

    # -- sign-in ---------------------------------------------------------------------------

    @router.get("/static/admin.css")
    def stylesheet() -> FileResponse:
        return FileResponse(HERE / "static" / "admin.css", media_type="text/css")

    @router.get("/login")
    def login_form(request: Request, next: str = "") -> Response:
        token = secrets.token_urlsafe(32)
        response = page(request, "login.html", None, csrf_token=token, next=_safe_next(next))
        set_cookie(request, response, LOGIN_CSRF_COOKIE, token, 3600)
        return response

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = await request.form()
        username, password = str(form.get("username", "")), str(form.get("password", ""))
        next_url = _safe_next(str(form.get("next", "")))
        expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        submitted = str(form.get("csrf_token", ""))
        if not expected or not secrets.compare_digest(expected, submitted):
            raise HTTPException(403, CSRF_REFUSED)
        # The proxy's X-Forwarded-For is applied by the app's middleware, and only from the
        # proxies in MADOGUCHI_TRUSTED_PROXIES; otherwise this is the connecting peer.
        client = request.client.host if request.client else "unknown"
        verdict = throttle.check(username, client)
        if verdict.delay and not verdict.retry_after:
            # Many recent failures for this account: answer slowly rather than refuse, so a
            # stranger cannot lock the real user out. Other requests are served meanwhile.
            await asyncio.sleep(verdict.delay)
            verdict = throttle.check(username, client)  # failures may have landed meanwhile
        # No await from here to throttle.failed(): the check and the count of this attempt
        # cannot interleave with concurrent attempts, so a burst cannot overshoot the limits.
        wait = verdict.retry_after
        if wait > 0:
            minutes = int(wait // 60) + 1
            response = page(
                request,
                "login.html",
                None,
                status=429,
                csrf_token=expected,
                next=next_url,
                error=f"ログインの失敗が続いたため、一時的にログインできません。{minutes}分後にもう一度お試しください。",
                username=username[:64],
            )
            response.headers["Retry-After"] = str(int(wait) + 1)
            return response
        account = None
        if username and password and len(password) <= MAX_PASSWORD_CHARS:
            account = context.staff.authenticate(username, password)
        if account is None:
            throttle.failed(username, client)
            token = secrets.token_urlsafe(32)
            response = page(
                request,
                "login.html",
                None,
                status=401,
                csrf_token=token,
                next=next_url,
                error="ユーザー名またはパスワードが違います。",
                username=username[:64],
            )
            set_cookie(request, response, LOGIN_CSRF_COOKIE, token, 3600)
            return response
        throttle.succeeded(username, client)
        token = context.staff.open_session(account)
        response = RedirectResponse(next_url, status_code=303)
        set_cookie(
            request, response, SESSION_COOKIE, token, int(context.staff.lifetime.total_seconds())
        )
        response.delete_cookie(LOGIN_CSRF_COOKIE, path=PREFIX)
        context.staff.audit(account.username, "login", f"staff:{account.username}", None, None)
        return response

    @router.post("/logout")
    def logout(request: Request, submission: Posted) -> Response:
        context.staff.close_session(request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse(f"{PREFIX}/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path=PREFIX)
        return response

    @router.get("")
    @router.get("/")
    def home(staff: Staff) -> Response:
        return RedirectResponse(f"{PREFIX}/review", status_code=303)

    # -- review queue ----------------------------------------------------------------------

    def queue() -> tuple[list[Group], Corpus]:
        items = pending_items(context.store, context.staff.decided())
        groups = build_queue(items, context.closest)
        return groups, context.engine().corpus

    @router.get("/review")
    def review(request: Request, staff: Staff) -> Response:
        groups, corpus = queue()
        return page(request, "review.html", staff, groups=groups, entries=corpus.entries)

    def review_error(request: Request, staff: SignedIn, errors: list[str]) -> Response:
        groups, corpus = queue()
        return page(
            request, "review.html", staff, 422, groups=groups, entries=corpus.entries, errors=errors
        )

    @router.post("/review/paraphrase")
    def review_paraphrase(request: Request, submission: Editing) -> Response:
        staff, form = submission["staff"], submission["form"]
        items = items_by_key(context.store, parse_keys(form.getlist("item")))
        entry_id, lang = str(form.get("entry_id", "")), str(form.get("lang", ""))
        text = str(form.get("text", ""))
        if not items:
            return review_error(request, staff, [NO_LONGER_QUEUED])
        try:
            before, after = context.editor.add_paraphrase(entry_id, lang, text)
        except EditError as exc:
            return review_error(request, staff, exc.errors)
        context.staff.audit(
            staff.username,
            "add_paraphrase",
            f"entry:{entry_id}",
            before,
            after,
            f"{lang}: {' '.join(text.split())}",
        )
        context.staff.decide(
            [(i.source, i.id) for i in items], "paraphrase", staff.username, entry_id=entry_id
        )
        return RedirectResponse(f"{PREFIX}/review?done=paraphrase", status_code=303)

    @router.post("/review/dismiss")
    def review_dismiss(request: Request, submission: Editing) -> Response:
        staff, form = submission["staff"], submission["form"]
        items = items_by_key(context.store, parse_keys(form.getlist("item")))
        reason = " ".join(str(form.get("reason", "")).split())[:MAX_REASON_CHARS]
        if not reason:
            return review_error(request, staff, ["対象外にする理由を入力してください。"])
        if not items:
            return review_error(request, staff, [NO_LONGER_QUEUED])
        taken = context.staff.decide(
            [(i.source, i.id) for i in items], "dismissed", staff.username, reason=reason
        )
        context.staff.audit(
            staff.username,
            "dismiss",
            "review",
            None,
            {"items": [i.key for i in items], "texts": sorted({i.text for i in items})[:20]},
            f"{taken}件: {reason}",
        )
        return RedirectResponse(f"{PREFIX}/review?done=dismiss", status_code=303)

    @router.get("/review/draft")
    def review_draft(request: Request, staff: Staff) -> Response:
        items = items_by_key(context.store, parse_keys(request.query_params.getlist("item")))
        corpus = context.engine().corpus
        fields = entry_fields(None)
        if items:
            group = Group(items)
            fields[f"questions_{group.lang}"] = "\n".join(t for t, _ in group.examples)
            nearest = context.closest(group.text, group.lang)
            if nearest and nearest[0].entry_id in corpus.entries:
                model = corpus.entries[nearest[0].entry_id]
                fields["category"], fields["department"] = model.category, model.department
        return entry_page(request, staff, None, fields, items=[i.key for i in items])

    # -- FAQ editor ------------------------------------------------------------------------

    def entry_page(
        request: Request,
        staff: SignedIn,
        entry: Entry | None,
        fields: dict[str, str],
        errors: list[str] | None = None,
        items: list[str] | None = None,
        version: str = "",
    ) -> Response:
        corpus = context.editor.load()
        history = context.staff.audit_records(f"entry:{entry.id}") if entry else []
        return page(
            request,
            "entry.html",
            staff,
            422 if errors else 200,
            entry=entry,
            fields=fields,
            errors=errors or [],
            items=items or [],
            version=version or (entry_version(entry) if entry else ""),
            history=history,
            categories=sorted({e.category for e in corpus.entries.values()}),
            departments=sorted(corpus.profile.departments),
        )

    @router.get("/faq")
    def faq_list(request: Request, staff: Staff, q: str = "", lang: str = "") -> Response:
        corpus = context.editor.load()
        entries = _matching(corpus, q[:200], lang if lang in LANGUAGES else "")
        return page(
            request,
            "faq_list.html",
            staff,
            entries=entries,
            q=q[:200],
            lang=lang,
            problems=corpus.problems,
            total=len(corpus),
        )

    @router.get("/faq/new")
    def faq_new(request: Request, staff: Staff) -> Response:
        return entry_page(request, staff, None, entry_fields(None))

    @router.post("/faq/new")
    def faq_create(request: Request, submission: Editing) -> Response:
        staff, form = submission["staff"], submission["form"]
        fields = form_fields(form)
        keys = parse_keys(form.getlist("item"))
        entry, errors = entry_from_fields(fields)
        if entry is None:
            return entry_page(request, staff, None, fields, errors, [f"{s}:{i}" for s, i in keys])
        try:
            _, after = context.editor.save_entry(entry, original_id=None, expected_version=None)
        except EditError as exc:
            return entry_page(
                request, staff, None, fields, exc.errors, [f"{s}:{i}" for s, i in keys]
            )
        items = items_by_key(context.store, keys)
        context.staff.audit(staff.username, "add_entry", f"entry:{entry.id}", None, after)
        if items:
            context.staff.decide(
                [(i.source, i.id) for i in items], "new_entry", staff.username, entry_id=entry.id
            )
        return RedirectResponse(f"{PREFIX}/faq/{entry.id}?saved=1", status_code=303)

    @router.get("/faq/{entry_id}")
    def faq_entry(request: Request, entry_id: str, staff: Staff) -> Response:
        entry = context.editor.load().entries.get(entry_id)
        if entry is None:
            history = context.staff.audit_records(f"entry:{entry_id}")
            if not history:
                raise HTTPException(404, f"エントリ「{entry_id}」はありません。")
            return page(request, "retired.html", staff, entry_id=entry_id, history=history)
        return entry_page(request, staff, entry, entry_fields(entry))

    @router.post("/faq/{entry_id}")
    def faq_save(request: Request, entry_id: str, submission: Editing) -> Response:
        staff, form = submission["staff"], submission["form"]
        current = context.editor.load().entries.get(entry_id)
        if current is None:
            raise HTTPException(404, f"エントリ「{entry_id}」はありません。")
        fields = form_fields(form)
        fields["id"] = entry_id
        version = str(form.get("version", ""))
        entry, errors = entry_from_fields(fields)
        if entry is None:
            return entry_page(request, staff, current, fields, errors, version=version)
        try:
            before, after = context.editor.save_entry(
                entry, original_id=entry_id, expected_version=version
            )
        except EditError as exc:
            return entry_page(request, staff, current, fields, exc.errors, version=version)
        if before != after:
            context.staff.audit(staff.username, "edit_entry", f"entry:{entry_id}", before, after)
        return RedirectResponse(f"{PREFIX}/faq/{entry_id}?saved=1", status_code=303)

    @router.post("/faq/{entry_id}/retire")
    def faq_retire(request: Request, entry_id: str, submission: Editing) -> Response:
        staff, form = submission["staff"], submission["form"]
        current = context.editor.load().entries.get(entry_id)
        if current is None:
            raise HTTPException(404, f"エントリ「{entry_id}」はありません。")
        try:
            before = context.editor.retire(entry_id, str(form.get("version", "")))
        except EditError as exc:
            return entry_page(request, staff, current, entry_fields(current), exc.errors)
        context.staff.audit(staff.username, "retire_entry", f"entry:{entry_id}", before, None)
        return RedirectResponse(f"{PREFIX}/faq?retired={quote(entry_id)}", status_code=303)

    # -- audit trail -----------------------------------------------------------------------

    @router.get("/audit")
    def audit(request: Request, staff: Staff) -> Response:
        return page(request, "audit.html", staff, records=context.staff.audit_records(limit=500))

    # -- monthly report --------------------------------------------------------------------

    @router.get("/report")
    def report(request: Request, staff: Staff, month: str = "") -> Response:
        from bot.report.figures import Month
        from bot.report.render import ReportContext, month_report_html

        if not month:
            return page(request, "report.html", staff, months=_recent_months(Month, 12))
        try:
            chosen = Month.parse(month[:16])
        except ValueError as exc:
            raise HTTPException(
                400, "月の指定が正しくありません。YYYY-MM の形で指定してください。"
            ) from exc
        html = month_report_html(
            context.store, chosen, ReportContext.from_settings(context.settings)
        )
        response = HTMLResponse(html)
        # The report is one self-contained page: inline styles, charts and font as data URLs.
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
        )
        return response

    # -- JSON API --------------------------------------------------------------------------

    @router.get("/api/queue")
    def api_queue(staff: Staff) -> JSONResponse:
        groups, _ = queue()
        return JSONResponse(
            [
                {
                    "text": g.text,
                    "lang": g.lang,
                    "count": g.count,
                    "items": g.keys,
                    "examples": [{"text": t, "count": n} for t, n in g.examples],
                    "closest": [
                        {
                            "id": c.entry_id,
                            "question": c.question,
                            "confidence": round(c.confidence, 3),
                        }
                        for c in g.closest
                    ],
                }
                for g in groups
            ]
        )

    @router.get("/api/entries")
    def api_entries(staff: Staff, q: str = "", lang: str = "") -> JSONResponse:
        corpus = context.editor.load()
        entries = _matching(corpus, q[:200], lang if lang in LANGUAGES else "")
        return JSONResponse([entry_snapshot(e) for e in entries])

    return router


def _matching(corpus: Corpus, query: str, lang: str) -> list[Entry]:
    """Entries whose id, questions or answers contain ``query`` (in ``lang`` if given)."""
    needle = query.strip().lower()
    found = []
    for entry in corpus.entries.values():
        if lang and lang not in entry.questions and lang not in entry.answer:
            continue
        if needle:
            langs = [lang] if lang else list(LANGUAGES)
            haystack = [entry.id, entry.category]
            for code in langs:
                haystack += [*entry.questions.get(code, ()), entry.answer.get(code, "")]
            if not any(needle in text.lower() for text in haystack):
                continue
        found.append(entry)
    return found


def _safe_next(value: str) -> str:
    """Only a path inside /admin may be a redirect target after signing in."""
    clean = value.startswith(f"{PREFIX}/") and not any(c in value for c in "\\\r\n\t")
    if clean and value.isprintable():
        return value
    return f"{PREFIX}/review"


def _recent_months(month_type: Any, count: int) -> list[Any]:
    """This month (Japan time) and the ``count - 1`` before it, newest first."""

    today = today_in_japan()
    month = month_type(today.year, today.month)
    months = []
    for _ in range(count):
        months.append(month)
        month = month.previous()
    return months
