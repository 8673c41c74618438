"""The staff pages under /admin: sign-in, review queue, FAQ editor, audit trail, report.

`router` gathers the page routers (bot.admin.pages); the gateway includes it and keeps one
`AdminContext` in ``app.state.admin`` (see bot.admin.deps for who may do what).
"""

from __future__ import annotations

from fastapi import APIRouter

from bot.admin.context import PREFIX, PUBLIC_PATHS, AdminContext
from bot.admin.pages import faq, records, review, signin

__all__ = ["PREFIX", "PUBLIC_PATHS", "AdminContext", "router"]

router = APIRouter(include_in_schema=False)
for pages in (signin, review, faq, records):
    router.include_router(pages.router, prefix=PREFIX)
