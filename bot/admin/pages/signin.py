"""Signing in and out, with CSRF on the sign-in form and a throttle on failures."""

from __future__ import annotations

import asyncio
import secrets

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from bot.admin.accounts import MAX_PASSWORD_CHARS
from bot.admin.context import (
    CSRF_REFUSED,
    HERE,
    LOGIN_CSRF_COOKIE,
    PREFIX,
    SESSION_COOKIE,
    page,
    set_cookie,
)
from bot.admin.deps import ContextDep, Posted, Staff

router = APIRouter()
LOCKED_OUT = (
    "ログインの失敗が続いたため、一時的にログインできません。"
    "{minutes}分後にもう一度お試しください。"
)


def safe_next(value: str) -> str:
    """Only a path inside /admin may be a redirect target after signing in."""
    clean = value.startswith(f"{PREFIX}/") and not any(c in value for c in "\\\r\n\t")
    if clean and value.isprintable():
        return value
    return f"{PREFIX}/review"


@router.get("/static/admin.css")
def stylesheet() -> FileResponse:
    return FileResponse(HERE / "static" / "admin.css", media_type="text/css")


@router.get("/login")
def login_form(request: Request, next: str = "") -> Response:
    token = secrets.token_urlsafe(32)
    response = page(request, "login.html", None, csrf_token=token, next=safe_next(next))
    set_cookie(request, response, LOGIN_CSRF_COOKIE, token, 3600)
    return response


@router.post("/login")
async def login(request: Request, context: ContextDep) -> Response:
    form = await request.form()
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    next_url = safe_next(str(form.get("next", "")))
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    submitted = str(form.get("csrf_token", ""))
    if not expected or not secrets.compare_digest(expected, submitted):
        raise HTTPException(403, CSRF_REFUSED)
    # The proxy's X-Forwarded-For is applied by the app's middleware, and only from the
    # proxies in MADOGUCHI_TRUSTED_PROXIES; otherwise this is the connecting peer.
    client = request.client.host if request.client else "unknown"
    throttle = context.throttle
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
        response = page(
            request,
            "login.html",
            None,
            status=429,
            csrf_token=expected,
            next=next_url,
            error=LOCKED_OUT.format(minutes=int(wait // 60) + 1),
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
    lifetime = int(context.staff.lifetime.total_seconds())
    set_cookie(request, response, SESSION_COOKIE, token, lifetime)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=PREFIX)
    context.staff.audit(account.username, "login", f"staff:{account.username}", None, None)
    return response


@router.post("/logout")
def logout(request: Request, submission: Posted, context: ContextDep) -> Response:
    context.staff.close_session(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse(f"{PREFIX}/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response


@router.get("")
@router.get("/")
def home(staff: Staff) -> Response:
    return RedirectResponse(f"{PREFIX}/review", status_code=303)
