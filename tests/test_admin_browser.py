"""The staff pages on the real stack, in a real browser (Debian's chromium via Playwright).

The stack serves a copy of faq/ (MADOGUCHI_FAQ_DIR), so nothing here changes the
repository's corpus. The main test turns a question the assistant cannot answer into a
paraphrase through the review queue, and the same question is then answered through
/api/chat (gateway -> Rasa -> action server) without restarting anything.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.admin.routes import PREFIX, PUBLIC_PATHS
from bot.settings import PROJECT_ROOT, Settings
from bot.storage.db import Store
from bot.storage.models import UnansweredQuestion
from tests.stack import Stack, running_stack
from tests.test_admin import PASSWORD, admin_routes, concrete

pytestmark = pytest.mark.rasa

CHROMIUM = "/usr/bin/chromium"
OUTPUT = PROJECT_ROOT / "test-output"
# City questions the sample corpus has no entry for. The test uses the first one the
# running assistant really declines (and does not file as out of scope).
UNANSWERED_CANDIDATES = (
    "市議会の傍聴はできますか",
    "市議会を傍聴したい",
    "市のマスコットキャラクターの名前は",
    "市の花は何ですか",
    "市の職員採用試験はいつですか",
)


def corpus_digest(directory: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    repository_faq = corpus_digest(PROJECT_ROOT / "faq")
    workdir = tmp_path_factory.mktemp("admin-stack")
    shutil.copytree(PROJECT_ROOT / "faq", workdir / "faq")
    with running_stack(workdir, MADOGUCHI_FAQ_DIR=str(workdir / "faq")) as stack:
        for username, role in (("editor1", "editor"), ("viewer1", "viewer")):
            result = stack.madoguchi(
                "staff", "add", username, "--role", role, "--password-stdin",
                input=PASSWORD + "\n", timeout=120,
            )  # fmt: skip
            assert result.returncode == 0, result.stderr
        yield stack
    assert corpus_digest(PROJECT_ROOT / "faq") == repository_faq, "the repository's faq/ changed"


@contextmanager
def http_sign_in(stack: Stack, username: str) -> Iterator[tuple[httpx.Client, str]]:
    """An HTTP client with a session cookie, and the session's CSRF token."""
    with httpx.Client(base_url=stack.gateway_url, timeout=120) as client:
        yield _sign_in(client, username)


def _sign_in(client: httpx.Client, username: str) -> tuple[httpx.Client, str]:
    page = client.get(f"{PREFIX}/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post(
        f"{PREFIX}/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303, response.text
    assert client.cookies.get("madoguchi_staff")
    page = client.get(f"{PREFIX}/faq")
    return client, re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def test_every_admin_route_needs_a_session(stack: Stack) -> None:
    from bot.gateway.app import create_app

    routes = admin_routes(create_app(Settings.from_env()))
    protected = [(m, p) for m, p in routes if p not in PUBLIC_PATHS]
    assert len(protected) >= 13
    with httpx.Client(base_url=stack.gateway_url, timeout=60) as client:
        for method, path in protected:
            response = client.request(method, concrete(path))
            if path.startswith(f"{PREFIX}/api/"):
                assert response.status_code == 401, (method, path)
            else:
                assert response.status_code == 302, (method, path, response.status_code)
                assert response.headers["location"].startswith(f"{PREFIX}/login")
        # A made-up session cookie is no session either.
        client.cookies.set("madoguchi_staff", "made-up")
        assert client.get(f"{PREFIX}/api/queue").status_code == 401


def test_posts_without_the_csrf_token_are_rejected(stack: Stack) -> None:
    with http_sign_in(stack, "editor1") as (client, token):
        form = {"item": "unanswered:1", "reason": "test"}
        assert client.post(f"{PREFIX}/review/dismiss", data=form).status_code == 403
        forged = {**form, "csrf_token": "x" * len(token)}
        assert client.post(f"{PREFIX}/review/dismiss", data=forged).status_code == 403
        assert client.post(f"{PREFIX}/logout", data={}).status_code == 403
        # With the token the same session works.
        assert client.get(f"{PREFIX}/api/queue").status_code == 200


def test_a_viewer_cannot_edit(stack: Stack) -> None:
    with http_sign_in(stack, "viewer1") as (client, token):
        assert client.get(f"{PREFIX}/faq/mynumber-card-lost").status_code == 200
        page = client.get(f"{PREFIX}/faq/mynumber-card-lost")
        version = re.search(r'name="version" value="([^"]+)"', page.text).group(1)
        for path, data in (
            (f"{PREFIX}/faq/mynumber-card-lost/retire", {"version": version}),
            (f"{PREFIX}/faq/new", {"id": "viewer-entry"}),
            (f"{PREFIX}/review/dismiss", {"item": "unanswered:1", "reason": "x"}),
        ):
            response = client.post(path, data={**data, "csrf_token": token})
            assert response.status_code == 403, path
        assert client.get(f"{PREFIX}/faq/mynumber-card-lost").status_code == 200


def unanswered_rows(stack: Stack) -> list[UnansweredQuestion]:
    with Store(stack.database_url).session() as session:
        return list(session.scalars(select(UnansweredQuestion).order_by(UnansweredQuestion.id)))


def declined_question(stack: Stack) -> str:
    """The first candidate the running assistant declines and files for review."""
    for question in UNANSWERED_CANDIDATES:
        before = len(unanswered_rows(stack))
        reply = stack.chat(question, session_id=uuid.uuid4().hex)
        rows = unanswered_rows(stack)
        answered = any(m.get("faq_id") for m in reply["messages"])
        if not answered and len(rows) == before + 1 and rows[-1].reason != "out_of_scope":
            assert "お答えできません" in reply["messages"][0]["text"]
            return question
    pytest.fail("every candidate question is answered or out of scope; extend the list")


def test_editor_adds_a_paraphrase_in_the_browser_and_it_is_answered_live(stack: Stack) -> None:
    from playwright.sync_api import sync_playwright

    question = declined_question(stack)
    # More residents asked the same, in other words, and something else entirely.
    store = Store(stack.database_url)
    for text in (question, f"{question}？", "ガチャピンは市の職員ですか", "ガチャピンは市の職員？"):
        store.log_unanswered(
            text=text, channel="web", lang="ja", session_hash="seeded", reason="no_match"
        )
    OUTPUT.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(120_000)
            page.goto(f"{stack.gateway_url}{PREFIX}/review")
            assert page.url.startswith(f"{stack.gateway_url}{PREFIX}/login")
            page.fill("input[name=username]", "editor1")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{stack.gateway_url}{PREFIX}/review")

            group = page.locator("section.group").filter(
                has=page.locator("span.question", has_text=question)
            )
            assert group.count() == 1
            assert group.locator("span.count").inner_text() == "3×"
            assert page.locator("section.group").count() >= 2
            page.screenshot(path=str(OUTPUT / "admin-review-queue.png"), full_page=True)
            form = group.locator("form.paraphrase")
            entry_id = form.locator("input[name=entry_id]").input_value()
            assert entry_id
            form.locator("select[name=lang]").select_option("ja")
            assert form.locator("input[name=text]").input_value() == question
            form.locator("button[type=submit]").click()
            page.wait_for_url(re.compile(r".*/admin/review\?done=paraphrase$"))
            assert page.locator("span.question", has_text=question).count() == 0
            assert page.locator("span.question", has_text="ガチャピン").count() == 1

            # Live: the same question through the real gateway -> Rasa -> actions path.
            deadline = time.monotonic() + 30
            while True:
                reply = stack.chat(question, session_id=uuid.uuid4().hex)
                if reply["messages"][0].get("faq_id") == entry_id:
                    break
                assert time.monotonic() < deadline, reply
                time.sleep(1)

            page.goto(f"{stack.gateway_url}{PREFIX}/faq/{entry_id}")
            assert question in page.locator("textarea[name=questions_ja]").input_value()
            history = page.locator(".change").first
            assert "言い換えを追加" in history.inner_text()
            assert question in history.locator("td.after").first.inner_text()
            page.screenshot(path=str(OUTPUT / "admin-faq-editor.png"), full_page=True)
        finally:
            browser.close()
    assert stack.processes["actions"].poll() is None  # nothing was restarted
