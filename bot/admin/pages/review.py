"""The review queue: questions residents were not answered, grouped, to become a paraphrase
of an entry, a new entry, or be dismissed with a reason."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from bot.admin.accounts import SignedIn
from bot.admin.context import PREFIX, AdminContext, page
from bot.admin.corpus_edit import EditError
from bot.admin.deps import ContextDep, Editing, Staff
from bot.admin.forms import entry_fields
from bot.admin.pages.faq import entry_page
from bot.admin.review import Group, build_queue, items_by_key, parse_keys, pending_items
from bot.faq.corpus import Corpus

router = APIRouter()
MAX_REASON_CHARS = 2000
NO_LONGER_QUEUED = "これらの質問は、すでにレビュー待ちの一覧にありません。"


def queue(context: AdminContext) -> tuple[list[Group], Corpus]:
    items = pending_items(context.store, context.staff.decided())
    groups = build_queue(items, context.closest)
    return groups, context.engine().corpus


def review_error(
    request: Request, context: AdminContext, staff: SignedIn, errors: list[str]
) -> Response:
    groups, corpus = queue(context)
    return page(
        request, "review.html", staff, 422, groups=groups, entries=corpus.entries, errors=errors
    )


@router.get("/review")
def review(request: Request, staff: Staff, context: ContextDep) -> Response:
    groups, corpus = queue(context)
    return page(request, "review.html", staff, groups=groups, entries=corpus.entries)


@router.post("/review/paraphrase")
def review_paraphrase(request: Request, submission: Editing, context: ContextDep) -> Response:
    staff, form = submission.staff, submission.form
    items = items_by_key(context.store, parse_keys(form.getlist("item")))
    entry_id, lang = submission.text("entry_id"), submission.text("lang")
    text = submission.text("text")
    if not items:
        return review_error(request, context, staff, [NO_LONGER_QUEUED])
    try:
        before, after = context.editor.add_paraphrase(entry_id, lang, text)
    except EditError as exc:
        return review_error(request, context, staff, exc.errors)
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
def review_dismiss(request: Request, submission: Editing, context: ContextDep) -> Response:
    staff, form = submission.staff, submission.form
    items = items_by_key(context.store, parse_keys(form.getlist("item")))
    reason = " ".join(submission.text("reason").split())[:MAX_REASON_CHARS]
    if not reason:
        return review_error(request, context, staff, ["対象外にする理由を入力してください。"])
    if not items:
        return review_error(request, context, staff, [NO_LONGER_QUEUED])
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
def review_draft(request: Request, staff: Staff, context: ContextDep) -> Response:
    """A new entry's form, filled from a group of questions and its closest entry."""
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
    return entry_page(request, context, staff, None, fields, items=[i.key for i in items])


@router.get("/api/queue")
def api_queue(staff: Staff, context: ContextDep) -> JSONResponse:
    groups, _ = queue(context)
    return JSONResponse(
        [
            {
                "text": g.text,
                "lang": g.lang,
                "count": g.count,
                "items": g.keys,
                "examples": [{"text": t, "count": n} for t, n in g.examples],
                "closest": [
                    {"id": c.entry_id, "question": c.question, "confidence": round(c.confidence, 3)}
                    for c in g.closest
                ],
            }
            for g in groups
        ]
    )
