"""The FAQ editor: list and search entries, add, edit and retire them, with history."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from bot.admin.accounts import SignedIn
from bot.admin.context import PREFIX, AdminContext, page
from bot.admin.corpus_edit import EditError, entry_snapshot, entry_version
from bot.admin.deps import ContextDep, Editing, Staff
from bot.admin.forms import entry_fields, entry_from_fields, form_fields
from bot.admin.review import items_by_key, parse_keys
from bot.faq.corpus import Corpus, Entry
from bot.text.language import LANGUAGES

router = APIRouter()
MAX_QUERY_CHARS = 200


def entry_page(
    request: Request,
    context: AdminContext,
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


def matching(corpus: Corpus, query: str, lang: str) -> list[Entry]:
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


def _existing(context: AdminContext, entry_id: str) -> Entry:
    entry = context.editor.load().entries.get(entry_id)
    if entry is None:
        raise HTTPException(404, f"エントリ「{entry_id}」はありません。")
    return entry


@router.get("/faq")
def faq_list(
    request: Request, staff: Staff, context: ContextDep, q: str = "", lang: str = ""
) -> Response:
    corpus = context.editor.load()
    query = q[:MAX_QUERY_CHARS]
    entries = matching(corpus, query, lang if lang in LANGUAGES else "")
    return page(
        request,
        "faq_list.html",
        staff,
        entries=entries,
        q=query,
        lang=lang,
        problems=corpus.problems,
        total=len(corpus),
    )


@router.get("/faq/new")
def faq_new(request: Request, staff: Staff, context: ContextDep) -> Response:
    return entry_page(request, context, staff, None, entry_fields(None))


@router.post("/faq/new")
def faq_create(request: Request, submission: Editing, context: ContextDep) -> Response:
    staff, form = submission.staff, submission.form
    fields = form_fields(form)
    keys = parse_keys(form.getlist("item"))
    queued = [f"{s}:{i}" for s, i in keys]
    entry, errors = entry_from_fields(fields)
    if entry is None:
        return entry_page(request, context, staff, None, fields, errors, queued)
    try:
        _, after = context.editor.save_entry(entry, original_id=None, expected_version=None)
    except EditError as exc:
        return entry_page(request, context, staff, None, fields, exc.errors, queued)
    items = items_by_key(context.store, keys)
    context.staff.audit(staff.username, "add_entry", f"entry:{entry.id}", None, after)
    if items:
        context.staff.decide(
            [(i.source, i.id) for i in items], "new_entry", staff.username, entry_id=entry.id
        )
    return RedirectResponse(f"{PREFIX}/faq/{entry.id}?saved=1", status_code=303)


@router.get("/faq/{entry_id}")
def faq_entry(request: Request, entry_id: str, staff: Staff, context: ContextDep) -> Response:
    entry = context.editor.load().entries.get(entry_id)
    if entry is None:
        history = context.staff.audit_records(f"entry:{entry_id}")
        if not history:
            raise HTTPException(404, f"エントリ「{entry_id}」はありません。")
        return page(request, "retired.html", staff, entry_id=entry_id, history=history)
    return entry_page(request, context, staff, entry, entry_fields(entry))


@router.post("/faq/{entry_id}")
def faq_save(request: Request, entry_id: str, submission: Editing, context: ContextDep) -> Response:
    staff = submission.staff
    current = _existing(context, entry_id)
    fields = form_fields(submission.form)
    fields["id"] = entry_id
    version = submission.text("version")
    entry, errors = entry_from_fields(fields)
    if entry is None:
        return entry_page(request, context, staff, current, fields, errors, version=version)
    try:
        before, after = context.editor.save_entry(
            entry, original_id=entry_id, expected_version=version
        )
    except EditError as exc:
        return entry_page(request, context, staff, current, fields, exc.errors, version=version)
    if before != after:
        context.staff.audit(staff.username, "edit_entry", f"entry:{entry_id}", before, after)
    return RedirectResponse(f"{PREFIX}/faq/{entry_id}?saved=1", status_code=303)


@router.post("/faq/{entry_id}/retire")
def faq_retire(
    request: Request, entry_id: str, submission: Editing, context: ContextDep
) -> Response:
    staff = submission.staff
    current = _existing(context, entry_id)
    try:
        before = context.editor.retire(entry_id, submission.text("version"))
    except EditError as exc:
        fields = entry_fields(current)
        return entry_page(request, context, staff, current, fields, exc.errors)
    context.staff.audit(staff.username, "retire_entry", f"entry:{entry_id}", before, None)
    return RedirectResponse(f"{PREFIX}/faq?retired={quote(entry_id)}", status_code=303)


@router.get("/api/entries")
def api_entries(staff: Staff, context: ContextDep, q: str = "", lang: str = "") -> JSONResponse:
    corpus = context.editor.load()
    entries = matching(corpus, q[:MAX_QUERY_CHARS], lang if lang in LANGUAGES else "")
    return JSONResponse([entry_snapshot(e) for e in entries])
