"""What happened: the audit trail of staff changes, and the monthly report."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from bot.admin.context import page
from bot.admin.deps import ContextDep, Staff
from bot.clock import today_in_japan

router = APIRouter()
# The report is one self-contained page: inline styles, charts and font as data URLs.
REPORT_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


@router.get("/audit")
def audit(request: Request, staff: Staff, context: ContextDep) -> Response:
    return page(request, "audit.html", staff, records=context.staff.audit_records(limit=500))


@router.get("/report")
def report(request: Request, staff: Staff, context: ContextDep, month: str = "") -> Response:
    # The report's charts need matplotlib: loaded when a report is asked for, not when
    # the gateway starts.
    from bot.report.figures import Month
    from bot.report.render import ReportContext, month_report_html

    if not month:
        return page(request, "report.html", staff, months=recent_months(12))
    try:
        chosen = Month.parse(month[:16])
    except ValueError as exc:
        raise HTTPException(
            400, "月の指定が正しくありません。YYYY-MM の形で指定してください。"
        ) from exc
    html = month_report_html(context.store, chosen, ReportContext.from_settings(context.settings))
    response = HTMLResponse(html)
    response.headers["Content-Security-Policy"] = REPORT_POLICY
    return response


def recent_months(count: int) -> list[Any]:
    """This month (Japan time) and the ``count - 1`` before it, newest first."""
    from bot.report.figures import Month

    today = today_in_japan()
    month = Month(today.year, today.month)
    months = []
    for _ in range(count):
        months.append(month)
        month = month.previous()
    return months
