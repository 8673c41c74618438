"""The gateway's input checks, over real HTTP to a running gateway (Rasa not needed)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.stack import run_gateway


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A gateway whose Rasa URL points at a closed port."""
    workdir = tmp_path_factory.mktemp("gateway")
    with run_gateway(f"sqlite:///{workdir / 'madoguchi.db'}", workdir) as url:
        yield url


def post(url: str, content: bytes, content_type: str = "application/json") -> httpx.Response:
    return httpx.post(f"{url}/api/chat", content=content, headers={"Content-Type": content_type})


def test_healthz(gateway: str) -> None:
    assert httpx.get(f"{gateway}/healthz").json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"", 400, "not valid JSON"),
        (b"not json", 400, "not valid JSON"),
        (b"\xff\xfe\x00\x01", 400, "not UTF-8"),
        (b"[1, 2]", 400, "must be a JSON object"),
        (b'{"session_id": "a"}', 400, "'text' is required"),
        (b'{"session_id": "a", "text": "   "}', 400, "'text' is required"),
        (b'{"session_id": "", "text": "hi"}', 400, "'session_id' is required"),
        (b'{"session_id": 5, "text": "hi"}', 400, "'session_id' is required"),
        (b'{"session_id": "a", "text": "hi", "lang": "fr"}', 400, "'lang' must be one of"),
        ('{"session_id": "a", "text": "%s"}' % ("あ" * 1001), 413, "at most 1000 characters"),
        (b'{"session_id": "a", "text": "' + b"a" * 70_000 + b'"}', 413, "larger than"),
        # What the standard library turns into a 500: nesting, huge numbers, lone surrogates.
        (
            b'{"session_id": "a", "text": "x", "n": ' + b"[" * 30_000 + b"]" * 30_000 + b"}",
            400,
            "not valid JSON",
        ),
        (b'{"session_id": "a", "text": "x", "n": ' + b"9" * 5000 + b"}", 400, "not valid JSON"),
        (b'{"session_id": "\\ud800", "text": "x"}', 400, "not valid JSON"),
        (b'{"session_id": "a", "text": "\\udc00x"}', 400, "not valid JSON"),
        # The limit holds after NFKC: U+FDFA becomes 18 characters.
        ('{"session_id": "a", "text": "%s"}' % ("\ufdfa" * 100), 413, "at most 1000 characters"),
        ('{"session_id": "a", "text": "%s"}' % ("a," * 300), 413, "at most 500 words"),
        (b'{"session_id": "a", "text": "\\u0000\\u0001"}', 400, "'text' is empty"),
    ],
)
def test_bad_input_gets_a_clear_4xx(
    gateway: str, body: bytes | str, status: int, message: str
) -> None:
    response = post(gateway, body.encode() if isinstance(body, str) else body)
    assert response.status_code == status
    assert message in response.json()["error"]


def test_rasa_down_gives_503_not_a_crash(gateway: str) -> None:
    response = post(gateway, '{"session_id": "a", "text": "こんにちは"}'.encode())
    assert response.status_code == 503
    assert "try again" in response.json()["error"]
    # The resident is told so honestly, and whom to ask meanwhile: the general desk.
    said = response.json()["messages"][0]["text"]
    assert "お答えできません" in said and "000-000-0000" in said and "8時30分" in said
    assert httpx.get(f"{gateway}/healthz").status_code == 200


def test_demo_page_is_served_with_a_strict_csp(gateway: str) -> None:
    response = httpx.get(f"{gateway}/")
    assert response.status_code == 200
    assert '<script src="/static/widget.js"' in response.text
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp
    assert httpx.get(f"{gateway}/static/widget.js").status_code == 200


def test_a_huge_chunked_body_is_cut_off_as_it_streams(gateway: str) -> None:
    """Neither the staff sign-in form nor the chat API reads a body past the limit."""
    sent = 0

    def chunks():  # type: ignore[no-untyped-def]
        nonlocal sent
        for _ in range(200):  # up to 200 MB, if the server kept reading
            sent += 1
            yield b"a" * (1024 * 1024)

    for path, content_type in (
        ("/admin/login", "application/x-www-form-urlencoded"),
        ("/api/chat", "application/json"),
    ):
        sent = 0
        try:
            response = httpx.post(
                f"{gateway}{path}",
                content=chunks(),
                headers={"Content-Type": content_type},
                timeout=30,
            )
            assert response.status_code == 413
        except httpx.HTTPError:
            pass  # the server may close the connection while the body is still being sent
        assert sent < 50, (path, sent)
