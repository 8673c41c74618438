"""Who is asking, and what they submitted: the staff pages' dependencies.

Every page needs a signed-in staff member (pages redirect to the sign-in page, the JSON
API answers 401). Every POST must carry the session's CSRF token (403 without it), and
only editors may change anything (403 for viewers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from starlette.datastructures import FormData

from bot.admin.accounts import SignedIn
from bot.admin.context import CSRF_REFUSED, PREFIX, SESSION_COOKIE, AdminContext, is_api

MAX_FORM_BYTES = 512 * 1024


def get_context(request: Request) -> AdminContext:
    return request.app.state.admin


ContextDep = Annotated[AdminContext, Depends(get_context)]


def signed_in(request: Request, context: ContextDep) -> SignedIn:
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


@dataclass(frozen=True)
class Submission:
    """A submitted staff form whose CSRF token was checked, and who submitted it."""

    staff: SignedIn
    form: FormData

    def text(self, name: str) -> str:
        return str(self.form.get(name, ""))


async def posted(request: Request, staff: Staff) -> Submission:
    """The submitted form, once its size and CSRF token are checked."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        raise HTTPException(413, "送信された内容が大きすぎます。")
    form = await request.form()
    if not staff.csrf_ok(form.get("csrf_token") or request.headers.get("x-csrf-token")):
        raise HTTPException(403, CSRF_REFUSED)
    return Submission(staff, form)


Posted = Annotated[Submission, Depends(posted)]


async def editing(submission: Posted) -> Submission:
    if not submission.staff.can_edit:
        raise HTTPException(403, "閲覧者の権限では変更できません。")
    return submission


Editing = Annotated[Submission, Depends(editing)]
