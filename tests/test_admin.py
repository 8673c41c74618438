"""Staff pages without the Rasa stack: accounts, passwords, sessions, CSRF, roles, audit trail.

The browser tests against the running stack are in tests/test_admin_browser.py.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.admin.accounts import StaffError, StaffStore, hash_password, verify_password
from bot.admin.labels import jst
from bot.admin.routes import PREFIX, PUBLIC_PATHS
from bot.settings import PROJECT_ROOT, Settings
from bot.storage.db import Store
from bot.storage.models import AuditRecord, ReviewDecision, StaffAccount, StaffSession

PASSWORD = "correct horse battery staple"


def admin_routes(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(method, path) of every route registered under /admin, included routers too."""
    found: list[tuple[str, str]] = []

    def visit(routes) -> None:  # type: ignore[no-untyped-def]
        for route in routes:
            contexts = getattr(route, "effective_route_contexts", None)
            if contexts is not None:  # FastAPI keeps included routers as one route
                visit(contexts())
                continue
            path = getattr(route, "path", "")
            for method in getattr(route, "methods", None) or ():
                if path == PREFIX or path.startswith(f"{PREFIX}/"):
                    found.append((method, path))

    visit(app.routes)
    return sorted(set(found))


def concrete(path: str) -> str:
    """A request path for a route path: parameters get a plausible value."""
    return re.sub(r"\{[^}]+\}", "mynumber-card-lost", path)


# -- passwords and accounts ----------------------------------------------------------------


def test_passwords_are_hashed_with_argon2id_and_verified() -> None:
    hashed = hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$")
    assert PASSWORD not in hashed
    assert hash_password(PASSWORD) != hashed  # salted
    assert verify_password(hashed, PASSWORD)
    assert not verify_password(hashed, PASSWORD + "!")
    assert not verify_password(hashed, "")
    assert not verify_password("not a hash", PASSWORD)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'staff.db'}"
    else:
        yield request.getfixturevalue("postgres_url")


def cli(database_url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ, "MADOGUCHI_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=PROJECT_ROOT,
        env=env,
        input=stdin,
        text=True,
        capture_output=True,
        timeout=600,
    )


def test_staff_add_through_the_real_cli(database_url: str) -> None:
    result = cli(
        database_url, "staff", "add", "tanaka", "--role", "editor", "--password-stdin",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "created editor 'tanaka'" in result.stdout
    store = Store(database_url)
    with store.session() as session:
        account = session.scalars(select(StaffAccount)).one()
    assert account.username == "tanaka" and account.role == "editor"
    assert PASSWORD not in account.password_hash
    assert StaffStore(store).authenticate("tanaka", PASSWORD) is not None
    assert StaffStore(store).authenticate("tanaka", "wrong password!") is None

    again = cli(database_url, "staff", "add", "tanaka", "--role", "viewer", "--password-stdin",
                stdin=PASSWORD + "\n")  # fmt: skip
    assert again.returncode == 1 and "already exists" in again.stderr
    short = cli(database_url, "staff", "add", "suzuki", "--role", "viewer", "--password-stdin",
                stdin="short\n")  # fmt: skip
    assert short.returncode == 1 and "at least" in short.stderr
    bad_role = cli(database_url, "staff", "add", "sato", "--role", "admin", "--password-stdin",
                   stdin=PASSWORD + "\n")  # fmt: skip
    assert bad_role.returncode == 2
    listed = cli(database_url, "staff", "list")
    assert listed.returncode == 0 and listed.stdout.split("\t")[:2] == ["tanaka", "editor"]
    with store.session() as session:
        assert len(session.scalars(select(StaffAccount)).all()) == 1


def test_bad_usernames_are_refused(tmp_path: Path) -> None:
    staff = StaffStore(Store(f"sqlite:///{tmp_path / 'db.sqlite'}"))
    for name in ("", "a", "x" * 65, "名前", "has space", "-dash"):
        with pytest.raises(StaffError):
            staff.add_staff(name, PASSWORD, "viewer")


def test_sessions_expire(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    staff = StaffStore(store, lifetime=dt.timedelta(hours=1))
    account = staff.add_staff("yamada", PASSWORD, "viewer")
    start = dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.timezone.utc)
    token = staff.open_session(account, now=start)
    signed_in = staff.signed_in(token, now=start + dt.timedelta(minutes=59))
    assert signed_in is not None and signed_in.username == "yamada" and not signed_in.can_edit
    assert staff.signed_in(token + "x", now=start) is None
    assert staff.signed_in(token, now=start + dt.timedelta(hours=1, seconds=1)) is None
    # The expired row is gone, and the database never held the token itself.
    assert staff.signed_in(token, now=start) is None
    with store.session() as session:
        assert session.scalars(select(StaffSession)).all() == []


def test_logout_ends_the_session(tmp_path: Path) -> None:
    staff = StaffStore(Store(f"sqlite:///{tmp_path / 'db.sqlite'}"))
    token = staff.open_session(staff.add_staff("kato", PASSWORD, "editor"))
    assert staff.signed_in(token) is not None
    staff.close_session(token)
    assert staff.signed_in(token) is None


# -- the pages, in process -----------------------------------------------------------------


def admin_settings(faq_copy: Path, tmp_path: Path) -> Settings:
    return Settings(
        faq_dir=faq_copy,
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        hash_salt="test-salt",
        embedding_model="none",
    )


@pytest.fixture
def client(faq_copy: Path, tmp_path: Path) -> Iterator[TestClient]:
    from bot.gateway.app import create_app

    settings = admin_settings(faq_copy, tmp_path)
    app = create_app(settings)
    staff = StaffStore(Store(f"sqlite:///{tmp_path / 'db.sqlite'}"))
    staff.add_staff("editor1", PASSWORD, "editor")
    staff.add_staff("viewer1", PASSWORD, "viewer")
    with TestClient(app, base_url="http://127.0.0.1") as test_client:
        test_client.app_state = app  # type: ignore[attr-defined]
        yield test_client


def sign_in(client: TestClient, username: str) -> str:
    """Signs in; returns the session's CSRF token (from a page's form)."""
    page = client.get(f"{PREFIX}/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post(
        f"{PREFIX}/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    page = client.get(f"{PREFIX}/faq")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def test_every_admin_route_needs_a_session(client: TestClient) -> None:
    routes = admin_routes(client.app_state)  # type: ignore[attr-defined]
    assert len(routes) >= 15
    checked = 0
    for method, path in routes:
        if path in PUBLIC_PATHS:
            continue
        response = client.request(method, concrete(path), follow_redirects=False)
        if path.startswith(f"{PREFIX}/api/"):
            assert response.status_code == 401, (method, path)
        else:
            assert response.status_code == 302, (method, path, response.status_code)
            assert response.headers["location"].startswith(f"{PREFIX}/login")
        checked += 1
    assert checked >= 13
    # The public ones are exactly the sign-in form and its stylesheet.
    assert {p for _, p in routes if p in PUBLIC_PATHS} == set(PUBLIC_PATHS)


def test_login_rejects_wrong_passwords_and_forged_tokens(client: TestClient) -> None:
    page = client.get(f"{PREFIX}/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    wrong = client.post(
        f"{PREFIX}/login",
        data={"username": "editor1", "password": "nope nope nope", "csrf_token": token},
        follow_redirects=False,
    )
    assert wrong.status_code == 401 and "ユーザー名またはパスワードが違います。" in wrong.text
    assert "madoguchi_staff" not in wrong.headers.get("set-cookie", "")
    forged = client.post(
        f"{PREFIX}/login",
        data={"username": "editor1", "password": PASSWORD, "csrf_token": "forged"},
        follow_redirects=False,
    )
    assert forged.status_code == 403


def test_session_cookie_is_httponly_and_strict(client: TestClient) -> None:
    page = client.get(f"{PREFIX}/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    response = client.post(
        f"{PREFIX}/login",
        data={"username": "viewer1", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("madoguchi_staff=")
    )
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/admin" in cookie
    assert "Secure" not in cookie  # plain http here; https gets Secure


def test_edits_write_audit_rows_with_before_and_after(client: TestClient, faq_copy: Path) -> None:
    csrf = sign_in(client, "editor1")
    page = client.get(f"{PREFIX}/faq/family-divorce")
    version = re.search(r'name="version" value="([^"]+)"', page.text).group(1)
    from bot.admin.forms import entry_fields
    from bot.faq.corpus import Corpus
    from bot.faq.profile import Profile

    profile = Profile.load(faq_copy / "municipality.yml")
    entry = Corpus.load(faq_copy / "corpus", profile).entries["family-divorce"]
    data = {**entry_fields(entry), "csrf_token": csrf, "version": version}
    data["answer_ko"] = "이혼 신고는 시청에서 할 수 있습니다."
    data["questions_ko"] = "이혼 신고는 어디서 하나요?"
    assert 'name="answer_ko"' in page.text
    saved = client.post(f"{PREFIX}/faq/family-divorce", data=data, follow_redirects=False)
    assert saved.status_code == 303, saved.text

    # Written to the corpus file, and the audit trail has the change.
    on_disk = yaml.safe_load((faq_copy / "corpus" / "family.yml").read_text(encoding="utf-8"))
    written = next(e for e in on_disk["entries"] if e["id"] == "family-divorce")
    assert written["answer"]["ko"] == "이혼 신고는 시청에서 할 수 있습니다."
    assert (faq_copy / "corpus" / "family.yml").read_text(encoding="utf-8").startswith("#")
    staff_store = StaffStore(Store(_db_url(client)))
    record = staff_store.audit_records("entry:family-divorce")[0]
    assert record.actor == "editor1" and record.action == "edit_entry"
    assert record.before["answer"]["ko"] == entry.answer["ko"] != data["answer_ko"]
    assert record.after["answer"]["ko"] == "이혼 신고는 시청에서 할 수 있습니다."
    history = client.get(f"{PREFIX}/faq/family-divorce")
    assert "answer.ko" in history.text and "editor1" in history.text

    # The same form again, now stale: refused, nothing written.
    stale = client.post(f"{PREFIX}/faq/family-divorce", data=data, follow_redirects=False)
    assert stale.status_code == 422 and "ほかの人が変更しました" in stale.text


def _db_url(client: TestClient) -> str:
    return client.app.state.settings.database_url  # type: ignore[attr-defined]


def test_invalid_edit_shows_errors_and_writes_nothing(client: TestClient, faq_copy: Path) -> None:
    csrf = sign_in(client, "editor1")
    before = (faq_copy / "corpus" / "mynumber.yml").read_bytes()
    page = client.get(f"{PREFIX}/faq/mynumber-card-lost")
    version = re.search(r'name="version" value="([^"]+)"', page.text).group(1)
    from bot.admin.forms import entry_fields
    from bot.faq.corpus import Corpus
    from bot.faq.profile import Profile

    entry = Corpus.load(faq_copy / "corpus", Profile.load(faq_copy / "municipality.yml")).entries[
        "mynumber-card-lost"
    ]
    data = {**entry_fields(entry), "csrf_token": csrf, "version": version}
    data["answer_en"] = "Call us at 03-1234-5678 or see {dept.nowhere.phone}."
    data["reviewed"] = "yesterday"
    response = client.post(f"{PREFIX}/faq/mynumber-card-lost", data=data)
    assert response.status_code == 422
    assert "確認日「yesterday」は日付ではありません" in response.text
    data["reviewed"] = "2026-04-01"
    response = client.post(f"{PREFIX}/faq/mynumber-card-lost", data=data)
    assert response.status_code == 422
    assert "phone number 03-1234-5678 must come from the profile" in response.text
    assert "unknown placeholder {dept.nowhere.phone}" in response.text
    assert (faq_copy / "corpus" / "mynumber.yml").read_bytes() == before
    assert StaffStore(Store(_db_url(client))).audit_records("entry:mynumber-card-lost") == []


def test_csrf_token_and_editor_role_are_required(client: TestClient, faq_copy: Path) -> None:
    csrf = sign_in(client, "viewer1")
    before = (faq_copy / "corpus" / "mynumber.yml").read_bytes()
    form = {"item": "unanswered:1", "entry_id": "mynumber-card-lost", "lang": "ja", "text": "x"}
    assert client.post(f"{PREFIX}/review/paraphrase", data=form).status_code == 403
    forged = {**form, "csrf_token": "forged"}
    assert client.post(f"{PREFIX}/review/paraphrase", data=forged).status_code == 403
    # A valid token, but a viewer.
    viewer = client.post(f"{PREFIX}/review/paraphrase", data={**form, "csrf_token": csrf})
    assert viewer.status_code == 403 and "閲覧者の権限では変更できません" in viewer.text
    retire = client.post(f"{PREFIX}/faq/mynumber-card-lost/retire", data={"csrf_token": csrf})
    assert retire.status_code == 403
    assert (faq_copy / "corpus" / "mynumber.yml").read_bytes() == before
    # Viewers see the pages without the editing buttons.
    page = client.get(f"{PREFIX}/faq/mynumber-card-lost")
    assert page.status_code == 200 and "このエントリを廃止する" not in page.text


def test_review_queue_groups_paraphrases_and_dismisses(client: TestClient, faq_copy: Path) -> None:
    store = Store(_db_url(client))
    for text in (
        "市の職員採用試験はいつですか",
        "市の職員採用試験はいつですか？",
        "職員採用試験はいつ",
    ):
        store.log_unanswered(
            text=text, channel="web", lang="ja", session_hash="h", reason="no_match"
        )
    store.log_unanswered(
        text="宇宙人を見ました", channel="web", lang="ja", session_hash="h", reason="fallback"
    )
    csrf = sign_in(client, "editor1")
    queue = client.get(f"{PREFIX}/api/queue").json()
    assert [g["count"] for g in queue] == [3, 1]
    assert queue[0]["text"].startswith("市の職員採用試験はいつですか")

    dismissed = client.post(
        f"{PREFIX}/review/dismiss",
        data={"csrf_token": csrf, "item": queue[1]["items"], "reason": "not a city matter"},
        follow_redirects=False,
    )
    assert dismissed.status_code == 303
    missing_reason = client.post(
        f"{PREFIX}/review/dismiss", data={"csrf_token": csrf, "item": queue[0]["items"]}
    )
    assert (
        missing_reason.status_code == 422
        and "対象外にする理由を入力してください" in missing_reason.text
    )

    paraphrase = client.post(
        f"{PREFIX}/review/paraphrase",
        data={
            "csrf_token": csrf,
            "item": queue[0]["items"],
            "entry_id": "office-hours",
            "lang": "ja",
            "text": "市の職員採用試験はいつですか",
        },
        follow_redirects=False,
    )
    assert paraphrase.status_code == 303, paraphrase.text
    assert client.get(f"{PREFIX}/api/queue").json() == []
    corpus_text = "".join(
        p.read_text(encoding="utf-8") for p in (faq_copy / "corpus").glob("*.yml")
    )
    assert "市の職員採用試験はいつですか" in corpus_text
    with store.session() as session:
        decisions = session.scalars(select(ReviewDecision)).all()
        assert sorted(d.decision for d in decisions) == ["dismissed"] + ["paraphrase"] * 3
        audit = session.scalars(select(AuditRecord).where(AuditRecord.action == "add_paraphrase"))
        record = audit.one()
    assert "市の職員採用試験はいつですか" not in str(record.before)
    assert "市の職員採用試験はいつですか" in str(record.after)


def test_retired_entry_leaves_the_corpus_and_keeps_its_history(
    client: TestClient, faq_copy: Path
) -> None:
    csrf = sign_in(client, "editor1")
    page = client.get(f"{PREFIX}/faq/family-divorce")
    version = re.search(r'name="version" value="([^"]+)"', page.text).group(1)
    response = client.post(
        f"{PREFIX}/faq/family-divorce/retire",
        data={"csrf_token": csrf, "version": version},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert "family-divorce" not in (faq_copy / "corpus" / "family.yml").read_text(encoding="utf-8")
    retired = client.get(f"{PREFIX}/faq/family-divorce")
    assert retired.status_code == 200 and "（廃止済み）" in retired.text and "離婚" in retired.text


def test_monthly_report_page(client: TestClient) -> None:
    sign_in(client, "viewer1")
    index = client.get(f"{PREFIX}/report")
    assert index.status_code == 200 and "?month=" in index.text
    report = client.get(f"{PREFIX}/report", params={"month": "2026-04"})
    assert report.status_code == 200 and report.text.lstrip().lower().startswith("<!doctype html")
    assert "2026" in report.text
    assert "style-src 'unsafe-inline'" in report.headers["content-security-policy"]
    assert "script-src" not in report.headers["content-security-policy"]
    bad = client.get(f"{PREFIX}/report", params={"month": "April"})
    assert bad.status_code == 400 and "YYYY-MM" in bad.text


def test_not_helpful_answers_join_the_queue(client: TestClient) -> None:
    store = Store(_db_url(client))
    for number, text in enumerate(("ゴミの日を教えて", "ごみの日を教えて！", "ゴミの日を教えて")):
        session = f"s{number}"
        store.log_message(
            text=text, channel="web", lang="ja", session_hash=session, outcome="answered",
            faq_id="garbage-sorting", score=0.5,
        )  # fmt: skip
        store.record_feedback(
            channel="web", lang="ja", session_hash=session, faq_id="garbage-sorting",
            helpful=number != 2,
        )  # fmt: skip
    sign_in(client, "viewer1")
    queue = client.get(f"{PREFIX}/api/queue").json()
    assert len(queue) == 1 and queue[0]["count"] == 1
    assert queue[0]["items"][0].startswith("not_helpful:")
    page = client.get(f"{PREFIX}/review")
    assert "「役に立たなかった」1件" in page.text and "garbage-sorting" in page.text
    assert "言い換えとして追加</button>" not in page.text  # a viewer gets no editing forms


def test_draft_a_new_entry_from_the_queue(client: TestClient, faq_copy: Path) -> None:
    store = Store(_db_url(client))
    row = store.log_unanswered(
        text="市議会の傍聴はできますか",
        channel="web",
        lang="ja",
        session_hash="h",
        reason="no_match",
    )
    csrf = sign_in(client, "editor1")
    draft = client.get(f"{PREFIX}/review/draft", params={"item": f"unanswered:{row.id}"})
    assert draft.status_code == 200
    assert "市議会の傍聴はできますか</textarea>" in draft.text
    assert f'name="item" value="unanswered:{row.id}"' in draft.text
    fields = {
        "id": "council-gallery",
        "category": "community",
        "department": "nowhere",
        "source": "https://www.soumu.go.jp/",
        "reviewed": "2026-04-01",
        "questions_ja": "市議会の傍聴はできますか",
        "answer_ja": "本会議は、どなたでも傍聴できます。{city.website}をご覧ください。",
        "csrf_token": csrf,
        "item": f"unanswered:{row.id}",
    }
    files_before = {p.name: p.read_bytes() for p in (faq_copy / "corpus").glob("*.yml")}
    refused = client.post(f"{PREFIX}/faq/new", data=fields)
    assert refused.status_code == 422 and "unknown department &#39;nowhere&#39;" in refused.text
    assert {p.name: p.read_bytes() for p in (faq_copy / "corpus").glob("*.yml")} == files_before
    assert client.get(f"{PREFIX}/api/queue").json()[0]["count"] == 1

    fields["department"] = "shimin"
    created = client.post(f"{PREFIX}/faq/new", data=fields, follow_redirects=False)
    assert created.status_code == 303, created.text
    assert created.headers["location"] == f"{PREFIX}/faq/council-gallery?saved=1"
    on_disk = yaml.safe_load((faq_copy / "corpus" / "community.yml").read_text(encoding="utf-8"))
    assert any(e["id"] == "council-gallery" for e in on_disk["entries"])
    assert client.get(f"{PREFIX}/api/queue").json() == []
    record = StaffStore(store).audit_records("entry:council-gallery")[0]
    assert record.action == "add_entry" and record.before is None
    assert record.after["questions"]["ja"] == ["市議会の傍聴はできますか"]
    found = client.get(f"{PREFIX}/api/entries", params={"q": "傍聴"}).json()
    assert [e["id"] for e in found] == ["council-gallery"]


def test_repeated_wrong_passwords_lock_the_sign_in(client: TestClient) -> None:
    def attempt(password: str) -> int:
        page = client.get(f"{PREFIX}/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        return client.post(
            f"{PREFIX}/login",
            data={"username": "editor1", "password": password, "csrf_token": token},
            follow_redirects=False,
        ).status_code

    assert [attempt("wrong password") for _ in range(5)] == [401] * 5
    # Now even the right password is refused for a while.
    assert attempt(PASSWORD) == 429


def test_times_are_shown_in_japan_time(client: TestClient) -> None:
    assert jst(dt.datetime(2026, 11, 21, 2, 51)) == "2026-11-21 11:51"  # naive means UTC
    assert jst(dt.datetime(2026, 11, 20, 15, 30, tzinfo=dt.timezone.utc)) == "2026-11-21 00:30"
    with Store(_db_url(client)).session() as session:
        session.add(
            AuditRecord(
                at=dt.datetime(2026, 3, 31, 16, 5, tzinfo=dt.timezone.utc),
                actor="editor1",
                action="edit_entry",
                target="entry:garbage-sorting",
            )
        )
        session.commit()
    sign_in(client, "viewer1")
    page = client.get(f"{PREFIX}/audit")
    assert "<td>2026-04-01 01:05</td>" in page.text and "2026-03-31 16:05" not in page.text
    assert "エントリを編集" in page.text


def test_the_gateway_holds_one_store_and_at_most_one_engine(faq_copy: Path, tmp_path: Path) -> None:
    """The residents' API, LINE and the staff pages share one database engine; the review
    queue's closest entries come from one FAQ engine, however many pages ask; the contact
    lookups, the FAQ editor and that engine's index read one copy of the corpus."""
    import gc

    from bot.faq.corpus import Corpus
    from bot.faq.engine import FaqEngine
    from bot.gateway.app import create_app

    def alive(kind: type) -> set[int]:
        return {id(o) for o in gc.get_objects() if isinstance(o, kind)}

    settings = admin_settings(faq_copy, tmp_path)
    gc.collect()
    stores, engines, corpora = alive(Store), alive(FaqEngine), alive(Corpus)
    app = create_app(settings)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        StaffStore(app.state.store).add_staff("editor1", PASSWORD, "editor")
        app.state.store.log_unanswered(
            text="市の職員採用試験はいつですか",
            channel="web",
            lang="ja",
            session_hash="h",
            reason="no_match",
        )
        sign_in(client, "editor1")
        for _ in range(3):
            assert client.get(f"{PREFIX}/review").status_code == 200
            assert client.get(f"{PREFIX}/api/queue").status_code == 200
        assert client.post("/api/chat", json={"text": ""}).status_code == 400
        assert client.get("/api/contact", params={"faq_id": "moving-in"}).status_code == 200
        assert client.get(f"{PREFIX}/faq").status_code == 200
        assert client.get(f"{PREFIX}/faq/moving-in").status_code == 200
        gc.collect()
        assert len(alive(Store) - stores) == 1
        assert len(alive(FaqEngine) - engines) <= 1
        assert len(alive(Corpus) - corpora) == 1
