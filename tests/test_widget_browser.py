"""The website widget in a real browser (Debian's Chromium driven by Playwright) against the
real stack: gateway -> Rasa -> action server -> FAQ engine, with a real database.

Screenshots for a person to look at go to test-output/widget-*.png.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from bot.faq.profile import Profile
from bot.gateway.web import open_now
from bot.settings import PROJECT_ROOT
from bot.storage.db import Store
from tests.stack import Stack, free_port, running_stack

pytestmark = pytest.mark.rasa

CHROMIUM = Path("/usr/bin/chromium")
OUTPUT = PROJECT_ROOT / "test-output"
LOST_CARD = "マイナンバーカードをなくしました"
# A city site on another origin; on loopback like the gateway, as Chromium keeps pages on
# public addresses from loading anything from loopback.
CITY_PORT = free_port()
CITY_ORIGIN = f"http://127.0.0.1:{CITY_PORT}"
OTHER_ORIGIN = f"http://localhost:{CITY_PORT}"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("widget-stack")
    with running_stack(workdir, MADOGUCHI_ALLOWED_ORIGINS=CITY_ORIGIN) as stack:
        yield stack


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: `make test` installs it (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, stack: Stack) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ja-JP")
    page = context.new_page()
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and "Failed to load resource" not in message.text:
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(stack.gateway_url + "/")
    yield page
    context.close()
    assert errors == [], errors  # no script error, no CSP violation


def open_widget(page: Page) -> None:
    page.get_by_role("button", name="質問する").click()
    expect(page.get_by_role("dialog")).to_be_visible()


def ask(page: Page, text: str) -> None:
    box = page.locator("#mdg-input")
    box.fill(text)
    box.press("Enter")


def bot_messages(page: Page):  # type: ignore[no-untyped-def]
    return page.locator(".mdg-log .mdg-bot")


def screenshot(page: Page, name: str) -> None:
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"widget-{name}.png"))


def test_japanese_question_gets_the_answer(page: Page) -> None:
    open_widget(page)
    expect(page.locator("#mdg-input")).to_be_focused()  # focus moves into the widget
    ask(page, LOST_CARD)
    answer = bot_messages(page).filter(has_text="0120-95-0178").first
    expect(answer).to_be_visible()
    expect(answer).to_have_attribute("lang", "ja")
    expect(page.locator(".mdg-log .mdg-user")).to_have_text([f"あなた: {LOST_CARD}"])
    expect(page.get_by_role("group", name="役に立ちましたか？")).to_be_visible()
    expect(page.locator(".mdg-typing")).to_be_hidden()
    # The answer's web address is a real link, opened safely in a new window.
    link = page.locator(".mdg-log a.mdg-link").first
    expect(link).to_have_attribute("href", re.compile(r"^https://www\.city\.sakurano\.example/"))
    assert link.inner_text().startswith(link.get_attribute("href") or "-")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    screenshot(page, "desktop")


def test_english_question_then_switching_language(page: Page) -> None:
    open_widget(page)
    # Without a choice in the menu, the answer follows the question's language.
    with page.expect_request("**/api/chat") as request:
        ask(page, "I lost my My Number card. What should I do?")
    assert "lang" not in json.loads(request.value.post_data or "{}")
    answer = bot_messages(page).filter(has_text="0120-95-0178").first
    expect(answer).to_be_visible()
    expect(answer).to_have_attribute("lang", "en")
    expect(page.get_by_role("group", name="Was this helpful?")).to_be_visible()
    assert not re.search(r"[\u3040-\u30ff]", answer.inner_text()[:80])

    # Choosing English changes the widget's own texts and is sent with every question.
    page.get_by_label("言語").select_option("en")
    expect(page.get_by_role("button", name="Send")).to_be_visible()
    expect(page.get_by_role("heading", name="City Hall Help")).to_be_visible()
    expect(page.get_by_role("button", name="Talk to a person")).to_be_visible()
    with page.expect_request("**/api/chat") as request:
        ask(page, "暗証番号を忘れてしまいました")
    assert json.loads(request.value.post_data or "{}")["lang"] == "en"
    expect(page.locator(".mdg-feedback")).to_have_count(2)
    assert bot_messages(page).last.get_attribute("lang") == "en"
    # Korean, to see one more language end to end.
    page.get_by_label("Language").select_option("ko")
    expect(page.get_by_role("button", name="보내기")).to_be_visible()
    ask(page, LOST_CARD)
    expect(page.locator(".mdg-feedback")).to_have_count(3)
    assert bot_messages(page).last.get_attribute("lang") == "ko"


def test_a_suggestion_is_sent_by_clicking_it(page: Page) -> None:
    open_widget(page)
    ask(page, "引っ越し")
    suggestion = page.locator(".mdg-reply").first
    expect(suggestion).to_be_visible()
    title = suggestion.inner_text()
    with page.expect_request("**/api/chat") as request:
        suggestion.click()
    assert json.loads(request.value.post_data or "{}")["text"]
    expect(page.locator(".mdg-log .mdg-user").last).to_contain_text(title)
    expect(page.locator(".mdg-feedback").last).to_be_visible()


def test_feedback_is_stored(page: Page, stack: Stack) -> None:
    store = Store(stack.database_url)
    before = len(store.feedback("mynumber-card-lost"))
    open_widget(page)
    ask(page, LOST_CARD)
    page.get_by_role("group", name="役に立ちましたか？").get_by_role("button", name="はい").click()
    expect(page.locator(".mdg-feedback-done")).to_have_text("ご回答ありがとうございました。")
    rows = store.feedback("mynumber-card-lost")
    assert len(rows) == before + 1
    assert (rows[-1].channel, rows[-1].lang, rows[-1].helpful) == ("web", "ja", True)
    session_id = page.evaluate("JSON.parse(sessionStorage.getItem('madoguchi-widget')).session_id")
    assert rows[-1].session_hash and session_id not in rows[-1].session_hash

    ask(page, "暗証番号を忘れてしまいました")
    feedback = page.get_by_role("group", name="役に立ちましたか？")
    feedback.get_by_role("button", name="いいえ").click()
    expect(bot_messages(page).last).to_contain_text("お役に立てず")
    assert store.feedback("mynumber-card-pin-forgot")[-1].helpful is False


def test_history_survives_a_reload_in_the_same_tab(page: Page, stack: Stack) -> None:
    open_widget(page)
    ask(page, LOST_CARD)
    expect(bot_messages(page).filter(has_text="0120-95-0178").first).to_be_visible()
    count = bot_messages(page).count()
    page.reload()
    expect(page.get_by_role("dialog")).to_be_visible()  # it stays open
    expect(page.locator(".mdg-log .mdg-user")).to_have_text([f"あなた: {LOST_CARD}"])
    expect(bot_messages(page)).to_have_count(count)
    # A new tab is a new conversation.
    other = page.context.new_page()
    other.goto(stack.gateway_url + "/")
    expect(other.get_by_role("button", name="質問する")).to_be_visible()
    expect(other.locator(".mdg-log .mdg-user")).to_have_count(0)
    other.close()


def test_html_in_a_message_is_shown_as_text(page: Page) -> None:
    payload = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
    open_widget(page)
    ask(page, payload)
    expect(page.locator(".mdg-log .mdg-user .mdg-text")).to_have_text(payload)
    expect(bot_messages(page).nth(1)).to_be_visible()  # the assistant answered
    assert page.locator(".mdg-log script, .mdg-log img").count() == 0
    assert page.evaluate("window.__pwned") is None


def test_keyboard_only(page: Page) -> None:
    def focused(selector: str) -> bool:
        return page.evaluate("s => document.activeElement.matches(s)", selector)

    for _ in range(40):  # the widget comes last in the page's tab order
        page.keyboard.press("Tab")
        if focused(".mdg-launcher"):
            break
    assert focused(".mdg-launcher")
    page.keyboard.press("Enter")
    assert focused("#mdg-input")
    page.keyboard.type("暗証番号を忘れてしまいました")
    page.keyboard.press("Enter")
    expect(page.get_by_role("group", name="役に立ちましたか？")).to_be_visible()
    # Shift+Enter adds a line instead of sending.
    page.keyboard.type("一行目")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("二行目")
    assert page.locator("#mdg-input").input_value() == "一行目\n二行目"
    page.locator("#mdg-input").fill("")
    # Tab reaches the send button and then the contact button.
    page.keyboard.press("Tab")
    assert focused(".mdg-send")
    page.keyboard.press("Tab")
    assert focused(".mdg-person")
    page.keyboard.press("Enter")
    expect(bot_messages(page).last).to_contain_text("000-000-1002")  # the desk of that answer
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    assert focused(".mdg-launcher")
    assert page.locator(".mdg-launcher").get_attribute("aria-expanded") == "false"


def test_talk_to_a_person_shows_the_contact_and_whether_it_is_open(page: Page) -> None:
    open_widget(page)
    page.get_by_role("button", name="職員に問い合わせる").click()
    card = bot_messages(page).last
    expect(card).to_contain_text("000-000-0000")
    expect(card).to_contain_text("8時30分")
    is_open = open_now(Profile.load(PROJECT_ROOT / "faq" / "municipality.yml"))
    expect(card).to_contain_text("開いています" if is_open else "閉まっています")
    expect(card.locator("a.mdg-call")).to_have_attribute("href", "tel:0000000000")


def test_screen_reader_structure(page: Page) -> None:
    launcher = page.get_by_role("button", name="質問する")
    assert launcher.get_attribute("aria-expanded") == "false"
    open_widget(page)
    log = page.get_by_role("log", name="会話")
    assert log.get_attribute("aria-live") == "polite"
    expect(
        page.get_by_role("textbox", name="質問を入力（Enterで送信、Shift+Enterで改行）")
    ).to_be_visible()
    expect(page.get_by_role("dialog", name="市役所 質問窓口")).to_be_visible()
    # Sizes follow the browser's text size: twice the root font size, twice the text.
    base = page.evaluate("getComputedStyle(document.querySelector('.mdg-send')).fontSize")
    page.evaluate("document.documentElement.style.fontSize = '32px'")
    assert page.evaluate("getComputedStyle(document.querySelector('.mdg-send')).fontSize") == "32px"
    assert base == "16px"


def test_phone_screenshots(browser: Browser, stack: Stack) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
    )
    page = context.new_page()
    page.goto(stack.gateway_url + "/")
    expect(page.get_by_role("button", name="質問する")).to_be_visible()
    screenshot(page, "phone-closed")
    open_widget(page)
    ask(page, "引っ越し")
    expect(page.locator(".mdg-reply").first).to_be_visible()
    ask(page, LOST_CARD)
    expect(page.get_by_role("group", name="役に立ちましたか？")).to_be_visible()
    box = page.get_by_role("dialog").bounding_box()
    assert box and box["width"] == 390  # the panel fills the phone's screen
    # A long answer is shown from its first line.
    log = page.locator(".mdg-log").bounding_box()
    start = bot_messages(page).filter(has_text="0120-95-0178").first.bounding_box()
    assert log and start and start["y"] >= log["y"] - 1
    screenshot(page, "phone-open")
    context.close()


@pytest.fixture(scope="module")
def city_site(stack: Stack) -> Iterator[None]:
    """A city's own web server, whose page embeds the widget with one script tag."""
    page = (
        '<!doctype html><html lang="en"><head><title>City</title></head><body><h1>City</h1>'
        f'<script src="{stack.gateway_url}/static/widget.js"></script></body></html>'
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", CITY_PORT), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield
    server.shutdown()
    server.server_close()


def city_page(browser: Browser, origin: str) -> tuple[Page, list[str]]:
    page = browser.new_context().new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text))
    page.goto(f"{origin}/")
    return page, errors


def test_widget_embedded_on_a_configured_city_site(browser: Browser, city_site: None) -> None:
    page, _ = city_page(browser, CITY_ORIGIN)
    page.get_by_role("button", name="Ask a question").click()  # the page's lang is en
    ask(page, LOST_CARD)
    expect(bot_messages(page).filter(has_text="0120-95-0178").first).to_be_visible()
    page.get_by_role("button", name="Talk to a person").click()
    expect(bot_messages(page).last).to_contain_text("000-000-1002")
    page.context.close()


def test_widget_on_a_site_not_configured_cannot_call_the_api(
    browser: Browser, city_site: None
) -> None:
    page, errors = city_page(browser, OTHER_ORIGIN)
    page.get_by_role("button", name="Ask a question").click()
    ask(page, LOST_CARD)
    expect(page.get_by_role("alert")).to_contain_text("Cannot reach the server")
    assert any("CORS" in error for error in errors), errors
    page.context.close()


def test_offline_message_and_retry_when_the_gateway_is_down(page: Page, stack: Stack) -> None:
    # Last test of the module: the gateway process is really stopped, then started again.
    open_widget(page)
    stack.stop(("gateway",))
    ask(page, LOST_CARD)
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("サーバーに接続できません")
    expect(page.locator(".mdg-unsent")).to_contain_text(LOST_CARD)  # the question is kept
    expect(page.locator(".mdg-typing")).to_be_hidden()
    screenshot(page, "offline")

    restart_gateway(stack)
    alert.get_by_role("button", name="もう一度送信").click()
    expect(bot_messages(page).filter(has_text="0120-95-0178").first).to_be_visible()
    expect(page.get_by_role("alert")).to_be_hidden()
    expect(page.locator(".mdg-unsent")).to_have_count(0)
    expect(page.locator(".mdg-log .mdg-user")).to_have_count(1)  # sent once, not twice


def restart_gateway(stack: Stack) -> None:
    log = (stack.workdir / "logs" / "gateway-restarted.log").open("wb")
    stack.processes["gateway"] = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "gateway"],
        cwd=PROJECT_ROOT,
        env=stack.env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{stack.gateway_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError("the gateway did not come back")


def test_session_ids_differ_between_tabs(browser: Browser, stack: Stack) -> None:
    # Runs after the restart: the widget keeps working on the restarted gateway.
    context = browser.new_context()
    ids = set()
    for _ in range(2):
        page = context.new_page()
        page.goto(stack.gateway_url + "/")
        expect(page.get_by_role("button", name="質問する")).to_be_visible()
        ids.add(page.evaluate("JSON.parse(sessionStorage.getItem('madoguchi-widget')).session_id"))
        page.close()
    context.close()
    assert len(ids) == 2 and all(uuid.UUID(i) for i in ids)
