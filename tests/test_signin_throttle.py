"""Sign-in limits that protect without locking out: a stranger guessing a staff member's
password cannot stop that staff member signing in from elsewhere, and X-Forwarded-For counts
only from a configured proxy.

The app is the real gateway app from tests/test_admin.py's `client` fixture (accounts
editor1 and viewer1). Each "browser" below is a TestClient on that app connecting from its
own address. The throttle is the real one with delays of hundredths of a second, and it
keeps the verdicts it gives, so the delay is asserted as asked for, never by timing.
"""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.testclient import TestClient

import bot.admin.context as admin_context
from bot.admin.routes import PREFIX
from bot.admin.throttle import SignInThrottle, Verdict
from bot.settings import Settings
from tests import test_admin
from tests.test_admin import PASSWORD, sign_in

client = test_admin.client  # the fixture: the gateway app with accounts editor1 and viewer1

PROXIES = "10.9.0.0/16"  # MADOGUCHI_TRUSTED_PROXIES for these tests
PROXY = "10.9.0.2"
STRANGER = "203.0.113.66"
OFFICE = "198.51.100.10"
REFUSED_TEXT = "ログインの失敗が続いたため、一時的にログインできません。"


class RecordingThrottle(SignInThrottle):
    """The real throttle with short delays, keeping every (username, client, verdict)."""

    def __init__(self) -> None:
        super().__init__(first_delay=0.01, max_delay=0.04)
        self.verdicts: list[tuple[str, str, Verdict]] = []

    def check(self, username: str, client: str) -> Verdict:
        verdict = super().check(username, client)
        self.verdicts.append((username, client, verdict))
        return verdict

    def clients_seen(self) -> list[str]:
        return [seen for _, seen, _ in self.verdicts]


@pytest.fixture(autouse=True)
def throttles(monkeypatch: pytest.MonkeyPatch) -> list[RecordingThrottle]:
    """Runs before `client` builds the app: the throttles the app creates, and a proxy."""
    made: list[RecordingThrottle] = []

    def make() -> RecordingThrottle:
        made.append(RecordingThrottle())
        return made[-1]

    monkeypatch.setattr(admin_context, "SignInThrottle", make)
    monkeypatch.setenv("MADOGUCHI_TRUSTED_PROXIES", PROXIES)
    return made


def browser(client: TestClient, address: str) -> TestClient:
    """Another browser on the same app, connecting from `address`."""
    return TestClient(client.app_state, base_url="http://127.0.0.1", client=(address, 50000))  # type: ignore[attr-defined]


def attempt(
    browser: TestClient, username: str, password: str, forwarded_for: str | None = None
) -> httpx.Response:
    """One sign-in through the form, with a fresh CSRF token."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    page = browser.get(f"{PREFIX}/login", headers=headers)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return browser.post(
        f"{PREFIX}/login",
        data={"username": username, "password": password, "csrf_token": token},
        headers=headers,
        follow_redirects=False,
    )


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 429, response.status_code
    assert REFUSED_TEXT in response.text
    assert 0 < int(response.headers["retry-after"]) <= 901
    assert "madoguchi_staff=" not in response.headers.get("set-cookie", "")


# -- (a), (b): strangers are refused, the account's owner is not ---------------------------


def test_a_stranger_guessing_one_password_cannot_lock_its_owner_out(
    client: TestClient, throttles: list[RecordingThrottle]
) -> None:
    stranger = browser(client, STRANGER)
    answers = [attempt(stranger, "editor1", "wrong password").status_code for _ in range(20)]
    # After 5 failures this pair (account, address) is refused; refusals count as nothing.
    assert answers == [401] * 5 + [429] * 15
    assert_refused(attempt(stranger, "editor1", PASSWORD))  # even the right password, there

    # The owner, elsewhere, signs in with the right password at once (sign_in asserts 303).
    sign_in(browser(client, OFFICE), "editor1")
    # Signing in cleared the account's failures: no more delay for editor1 from anywhere.
    assert throttles[-1].check("editor1", "192.0.2.1") == Verdict(retry_after=0.0, delay=0.0)


def test_an_address_is_refused_after_ten_failures_at_any_accounts(client: TestClient) -> None:
    stranger = browser(client, STRANGER)
    names = ["editor1", "viewer1", "admin", "root", "tanaka"] * 2
    assert [attempt(stranger, name, "wrong password").status_code for name in names] == [401] * 10
    # The address is now refused for every account, right password or not.
    assert_refused(attempt(stranger, "suzuki", "wrong password"))
    assert_refused(attempt(stranger, "viewer1", PASSWORD))
    # Nobody else is: both accounts sign in from the office.
    office = browser(client, OFFICE)
    assert attempt(office, "viewer1", PASSWORD).status_code == 303
    assert attempt(office, "editor1", PASSWORD).status_code == 303


# -- (c): X-Forwarded-For only from a configured proxy ---------------------------------------


def test_forwarded_for_from_a_client_that_is_no_proxy_is_ignored(
    client: TestClient, throttles: list[RecordingThrottle]
) -> None:
    spoofer = browser(client, STRANGER)
    answers = [
        attempt(spoofer, f"user{i}", "wrong password", forwarded_for=f"192.0.2.{i}").status_code
        for i in range(12)
    ]
    # A new X-Forwarded-For each time does not make a new client: the address limit holds.
    assert answers == [401] * 10 + [429] * 2
    assert set(throttles[-1].clients_seen()) == {STRANGER}


def test_forwarded_for_from_a_configured_proxy_names_the_client(
    client: TestClient, throttles: list[RecordingThrottle]
) -> None:
    proxy = browser(client, PROXY)
    answers = [
        attempt(proxy, f"user{i}", "wrong password", forwarded_for=OFFICE).status_code
        for i in range(11)
    ]
    assert answers == [401] * 10 + [429]
    assert set(throttles[-1].clients_seen()) == {OFFICE}
    # The count is the resident's, not the proxy's: another client behind it is not refused.
    assert attempt(proxy, "editor1", PASSWORD, forwarded_for=STRANGER).status_code == 303
    # A client cannot hide behind a name it prepends itself: the proxy appends the real one.
    attempt(proxy, "nobody", "wrong password", forwarded_for=f"192.0.2.99, {STRANGER}")
    assert throttles[-1].clients_seen()[-1] == STRANGER


def test_without_the_setting_nobody_is_trusted(
    client: TestClient, throttles: list[RecordingThrottle], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.gateway.app import create_app

    monkeypatch.delenv("MADOGUCHI_TRUSTED_PROXIES")
    app = create_app()  # same database and accounts as `client`
    local = TestClient(app, base_url="http://127.0.0.1", client=("127.0.0.1", 50000))
    attempt(local, "editor1", "wrong password", forwarded_for=OFFICE)
    assert throttles[-1].clients_seen() == ["127.0.0.1"]


def test_trusted_proxies_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MADOGUCHI_TRUSTED_PROXIES", " 10.0.0.5, 10.9.0.0/16 ,, ::1 ")
    assert Settings.from_env().trusted_proxies == ("10.0.0.5", "10.9.0.0/16", "::1")
    monkeypatch.delenv("MADOGUCHI_TRUSTED_PROXIES")
    assert Settings.from_env().trusted_proxies == ()
    for bad in ("proxy.example", "*", "10.0.0.1/8", "10.0.0.0/33"):
        monkeypatch.setenv("MADOGUCHI_TRUSTED_PROXIES", f"10.0.0.5,{bad}")
        with pytest.raises(ValueError, match=r"MADOGUCHI_TRUSTED_PROXIES: .*" + re.escape(bad)):
            Settings.from_env()


# -- (d): many failures at one account slow it down, from every address --------------------


def test_failures_from_many_addresses_slow_the_account_down(
    client: TestClient, throttles: list[RecordingThrottle]
) -> None:
    addresses = [f"192.0.2.{i}" for i in range(1, 10)]
    answers = [attempt(browser(client, a), "editor1", "wrong password") for a in addresses]
    assert [a.status_code for a in answers] == [401] * 9  # never refused: one try per address
    asked: dict[str, float] = {}
    for username, seen, verdict in throttles[-1].verdicts:
        assert username == "editor1" and verdict.retry_after == 0
        asked.setdefault(seen, verdict.delay)  # the verdict the attempt was answered by
    # From the 6th attempt on, each is answered after a delay doubling up to its cap.
    assert [asked[a] for a in addresses] == pytest.approx([0] * 5 + [0.01, 0.02, 0.04, 0.04])

    # The owner is slowed too, not refused, and signing in clears the account's count.
    assert attempt(browser(client, OFFICE), "editor1", PASSWORD).status_code == 303
    assert throttles[-1].verdicts[-1] == ("editor1", OFFICE, Verdict(0.0, 0.04))
    assert throttles[-1].check("editor1", "192.0.2.200").delay == 0


# -- the throttle alone, on a fake clock -----------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_refusals_end_when_the_oldest_failure_leaves_the_window() -> None:
    clock = Clock()
    throttle = SignInThrottle(clock=clock)
    for i in range(10):
        throttle.failed(f"user{i}", STRANGER)
        clock.now += 10
    verdict = throttle.check("anyone", STRANGER)
    assert verdict.retry_after == pytest.approx(900 - 100)  # the first failure was 100 s ago
    clock.now += 800
    assert throttle.check("anyone", STRANGER).retry_after == 0
    assert throttle.check("anyone", OFFICE).retry_after == 0  # never refused elsewhere


def test_ipv6_addresses_count_by_their_64_network() -> None:
    throttle = SignInThrottle()
    for i in range(10):
        throttle.failed(f"user{i}", f"2001:db8:1:2::{i + 1:x}")
    assert throttle.check("x", "2001:db8:1:2:ffff::9").retry_after > 0
    assert throttle.check("x", "2001:db8:1:3::1").retry_after == 0
    throttle.failed("y", "::ffff:192.0.2.7")  # an IPv4 client on a dual-stack socket
    assert throttle.check("y", "192.0.2.7") == throttle.check("y", "::ffff:192.0.2.7")


def test_success_clears_the_account_and_the_pair_but_not_the_address() -> None:
    throttle = SignInThrottle(first_delay=0.01)
    for _ in range(5):
        throttle.failed("Editor1", STRANGER)
    assert throttle.check("editor1 ", STRANGER).retry_after > 0  # names compare casefolded
    throttle.succeeded("editor1", STRANGER)
    assert throttle.check("editor1", STRANGER) == Verdict(0.0, 0.0)
    for i in range(5):
        throttle.failed(f"other{i}", STRANGER)
    throttle.succeeded("editor1", STRANGER)
    assert throttle.check("editor1", STRANGER).retry_after > 0  # 10 failures from there


def test_memory_is_bounded() -> None:
    clock = Clock()
    throttle = SignInThrottle(max_keys=50, clock=clock)
    for i in range(1000):
        throttle.failed(f"user{i}", f"192.0.{i // 256}.{i % 256}")
    assert throttle.tracked() <= 50
    throttle.failed("x" * 100_000, OFFICE)  # a huge name is cut, not kept whole
    assert max(len(key[1]) for key in throttle._failures if key[0] == "account") <= 65
    clock.now += 901
    throttle.failed("last", OFFICE)
    assert throttle.tracked() == 3  # the stale keys are gone: address, pair, account of the last
    for _ in range(100):
        throttle.failed("editor1", OFFICE)  # one key's list does not grow without end
    assert all(len(failures) <= 21 for failures in throttle._failures.values())
