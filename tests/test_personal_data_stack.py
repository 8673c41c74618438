"""The personal-data sets through the real stack: nothing stored keeps a secret.

Every message of ``tests/personal_data/dev.jsonl`` and ``test.jsonl`` is sent once through the
web chat (``/api/chat``, its own session, no language given) and once as a signed LINE text
event (its own LINE user), to the real gateway, Rasa and action server, with LINE's
Messaging API faked over HTTP. Once every message has been answered and the stack stopped,
everything it stored is read back:

- every text and JSON column of every table of the app database (enumerated with
  SQLAlchemy's inspector, so that a new table or column is covered without a change here);
- every row of Rasa's tracker store (its own SQLite file in the stack's workdir);
- the log files of the three services.

No secret of any message may be found in any of them: with ``leaks.leaked`` in the database
and tracker rows of the message's own session or LINE user, with ``leaks.appears`` (the
normalised text, without the digit rule) in rows of no session, and by its normalised form
in the logs once their timestamps, ports and the like are masked (see ``find_leaks`` and
``in_log`` for why no wider). A failure lists each message id, secret, place (table.column
and JSON path, tracker, or log file) and an excerpt of the stored text. The conversation log
must also hold one row per message and channel, with the keep words still readable in at
least 95% of them.

Slow (about 1,600 messages, and a Rasa model to train on the first run) but part of
``make test``, like the other stack tests.
"""

from __future__ import annotations

import json
import re
import time
import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Boolean, Date, DateTime, Float, Integer, Numeric, create_engine, inspect
from sqlalchemy import text as sql

from bot.privacy.hashing import hash_id
from bot.settings import PROJECT_ROOT
from tests.fake_line import FakeLine, sign, text_event, webhook_body
from tests.personal_data import leaks
from tests.stack import running_stack

pytestmark = [pytest.mark.rasa, pytest.mark.timeout(2400)]

CASES = leaks.load("dev") + leaks.load("test")
CHANNELS = ("web", "line")
LINE_SECRET = "test-channel-secret"
SALT = "test-salt"  # tests.stack's MADOGUCHI_HASH_SALT
WORKERS = 6
ANSWER_TIMEOUT = 120.0
KEEP_SHARE = 0.95

# Column types that never hold text (SQLite returns datetimes as strings, so go by type).
NOT_TEXT = (Boolean, Date, DateTime, Float, Integer, Numeric)
# Hashes and generated ids (session and user hashes, LINE event ids, Rasa message ids): not
# text anyone typed, and their random digits would match phone numbers by chance.
MACHINE_ID = re.compile(
    r"(?=[0-9a-f-]*[a-f])(?:[0-9a-f]{12,}|[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12})"
)
# What the services print of their own accord, full of digits: timestamps, addresses and
# ports, process ids, source lines, web addresses and generated ids.
LOG_NOISE = re.compile(
    r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?"
    r"|\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?"
    r"|process \[\d+\]"
    r"|[\w./-]+\.py:\d+"
    r"|https?://\S+"
    rf"|\b{MACHINE_ID.pattern}\b"
)
LATIN = re.compile(r"[a-zà-ỹ' -]+")  # as leaks.leaked tells a romaji or Latin name
# What the assistant says comes from these (answers, suggested questions, the city's
# profile, canned messages), never from what a resident wrote.
ASSISTANT_MATERIAL = [
    *sorted((PROJECT_ROOT / "faq" / "corpus").glob("*.yml")),
    PROJECT_ROOT / "faq" / "municipality.yml",
    PROJECT_ROOT / "bot" / "messages.py",
]


@dataclass(frozen=True)
class Stored:
    """One stored text: where it is, and whose message (case id and channel) it belongs to,
    when its row says so."""

    where: str
    owner: str
    text: str
    said_by_assistant: bool = False  # a tracker "bot" event: the assistant's own words


@dataclass
class Run:
    workdir: Path
    database_url: str
    tracker_db: Path
    owners: dict[str, str]  # session or user hash -> "case-id/channel"
    failures: list[str] = field(default_factory=list)  # messages sent but not answered
    seconds: float = 0.0


# -- sending -------------------------------------------------------------------------------


def _send_web(client: httpx.Client, gateway: str, case: leaks.Case, session: str) -> str | None:
    try:
        response = client.post(
            f"{gateway}/api/chat", json={"session_id": session, "text": case.text}, timeout=90
        )
    except httpx.HTTPError as exc:
        return f"{case.id}/web: {exc!r}"
    if response.status_code != 200:
        return f"{case.id}/web: HTTP {response.status_code} {response.text[:200]}"
    return None


def _answered(line: FakeLine, token: str, user: str) -> bool:
    for request in list(line.received):
        if request.path.endswith("/reply") and request.body.get("replyToken") == token:
            return True
        if request.path.endswith("/push") and request.body.get("to") == user:
            return True
    return False


def _send_line(
    client: httpx.Client, gateway: str, line: FakeLine, case: leaks.Case, user: str
) -> str | None:
    event = text_event(case.text, user=user)
    body = webhook_body(event)
    headers = {"Content-Type": "application/json", "X-Line-Signature": sign(body, LINE_SECRET)}
    try:
        response = client.post(f"{gateway}/webhooks/line", content=body, headers=headers)
    except httpx.HTTPError as exc:
        return f"{case.id}/line: {exc!r}"
    if response.status_code != 200:
        return f"{case.id}/line: HTTP {response.status_code} {response.text[:200]}"
    deadline = time.monotonic() + ANSWER_TIMEOUT
    while not _answered(line, event["replyToken"], user):
        if time.monotonic() > deadline:
            return f"{case.id}/line: no reply or push within {ANSWER_TIMEOUT:.0f} s"
        time.sleep(0.1)
    return None


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, line: FakeLine) -> Run:
    workdir = tmp_path_factory.mktemp("personal-data-stack")
    nonce = uuid.uuid4().hex[:8]
    sessions = {case.id: f"pd-{nonce}-{case.id}" for case in CASES}
    users = {case.id: "U" + uuid.uuid4().hex for case in CASES}
    owners = {hash_id(s, SALT): f"{cid}/web" for cid, s in sessions.items()}
    owners |= {hash_id(u, SALT): f"{cid}/line" for cid, u in users.items()}
    # Unbuffered, so that the logs hold everything the services printed.
    env = {"PYTHONUNBUFFERED": "1", **line.gateway_env(LINE_SECRET)}
    with running_stack(workdir, **env) as stack:
        result = Run(
            workdir=workdir,
            database_url=stack.database_url,
            tracker_db=Path(stack.env["MADOGUCHI_TRACKER_DB"]),
            owners=owners,
        )
        started = time.monotonic()
        with (
            httpx.Client(timeout=30) as client,
            ThreadPoolExecutor(max_workers=WORKERS) as pool,
        ):
            futures = []
            for case in CASES:
                futures.append(
                    pool.submit(_send_web, client, stack.gateway_url, case, sessions[case.id])
                )
                futures.append(
                    pool.submit(_send_line, client, stack.gateway_url, line, case, users[case.id])
                )
            result.failures = [f for f in (future.result() for future in futures) if f]
        result.seconds = time.monotonic() - started
        print(f"\n{2 * len(CASES)} messages sent and answered in {result.seconds:.0f} s")
    # Stopped: the logs are complete and nothing writes any more.
    return result


# -- reading what was stored ---------------------------------------------------------------


def _leaves(value: Any, path: str = "$") -> Iterator[tuple[str, str]]:
    """Every string in a decoded JSON value, with its path."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}[{index}]")


def _cell_texts(value: Any) -> Iterator[tuple[str, str]]:
    """(JSON path or "", text) for the texts of one cell; JSON (as SQLAlchemy and Rasa store
    it, with non-ASCII escaped) is decoded, so that the leaves are compared as typed."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, dict | list):
        yield from _leaves(value)
        return
    if not isinstance(value, str):
        return
    if value.lstrip()[:1] in ("{", "["):
        try:
            decoded = json.loads(value)
        except ValueError:
            pass
        else:
            yield from _leaves(decoded)
            return
    yield "", value


def database_texts(url: str, owners: dict[str, str], label: str = "") -> list[Stored]:
    """Every text of every text or JSON column of every table at ``url``."""
    engine = create_engine(url)
    texts: list[Stored] = []
    try:
        with engine.connect() as connection:
            inspector = inspect(connection)
            for table in inspector.get_table_names():
                columns = [
                    c["name"]
                    for c in inspector.get_columns(table)
                    if not isinstance(c["type"], NOT_TEXT)
                ]
                if not columns:
                    continue
                quoted = ", ".join(f'"{c}"' for c in columns)
                for row in connection.execute(sql(f'SELECT {quoted} FROM "{table}"')):
                    owner = next((owners[v] for v in row if isinstance(v, str) and v in owners), "")
                    assistant = dict(zip(columns, row, strict=True)).get("type_name") == "bot"
                    for column, value in zip(columns, row, strict=True):
                        for path, text in _cell_texts(value):
                            if text.strip() and not MACHINE_ID.fullmatch(text):
                                where = f"{label}{table}.{column}{' ' + path if path else ''}"
                                texts.append(Stored(where, owner, text, assistant))
    finally:
        engine.dispose()
    return texts


def log_files(workdir: Path) -> dict[str, str]:
    return {
        str(path.relative_to(workdir)): path.read_text(encoding="utf-8", errors="replace")
        for path in sorted(workdir.rglob("*.log"))
    }


@cache
def _assistant_material() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in ASSISTANT_MATERIAL)


@cache
def in_assistant_material(secret: str) -> bool:
    """Whether the assistant's own material holds ``secret`` ("Trang", a page, in Vietnamese
    answers; "201" in the city's phone numbers), so that its answers may too."""
    return leaks.leaked(secret, _assistant_material())


# -- finding secrets -----------------------------------------------------------------------


@dataclass(frozen=True)
class Leak:
    case: str
    secret: str
    where: str
    owner: str
    excerpt: str


def _excerpt(secret: str, text: str, width: int = 70) -> str:
    """The stored text around the secret (normalised if only its normalised form is there;
    from the start if only its digits are)."""
    flat = " ".join(text.split())
    at = flat.find(secret)
    if at < 0 and leaks._forms(secret) in leaks._forms(flat):
        flat = leaks._forms(flat)
        at = flat.find(leaks._forms(secret))
    start = max(0, at - width) if at >= 0 else 0
    piece = flat[start : start + 2 * width + len(secret)]
    return ("…" if start else "") + piece + ("…" if start + len(piece) < len(flat) else "")


def find_leaks(texts: list[Stored]) -> list[Leak]:
    """Each message's secrets in the texts stored for it, and every secret in the texts
    stored for no message.

    A text of a message's rows (its session's or LINE user's: conversation log, tracker
    events) is checked against that message's secrets with ``leaks.leaked``. What the
    assistant said (tracker "bot" events) only counts when its own material (the FAQ, the
    city's profile, the canned messages) does not hold the secret: its answers never quote
    the resident, but Vietnamese names are words of its answers too. Checking it
    against other messages' secrets would report their common words and numbers ("Long" in
    "long-term care", "Bảo" in "bảo hiểm", the year 2024) as leaks. A text that belongs to
    no message (schema version, a table without a session) is checked against every secret
    with ``leaks.appears``, as the logs are: the digit rule would find secrets' digits in
    any number there ("0002_staff")."""
    by_case: dict[str, set[str]] = defaultdict(set)
    places: dict[str, list[Stored]] = defaultdict(list)
    for stored in texts:
        by_case[stored.owner.split("/")[0]].add(stored.text)
        places[stored.text].append(stored)
    found: list[Leak] = []

    def add(case: leaks.Case, secret: str, text: str, owner: str) -> None:
        found.extend(
            Leak(case.id, secret, s.where, s.owner, _excerpt(secret, text))
            for s in places[text]
            if s.owner == owner or (owner and s.owner.startswith(owner + "/"))
        )

    for case in CASES:
        for text in by_case.get(case.id, ()):
            for secret in case.secrets:
                if not leaks.leaked(secret, text):
                    continue
                if all(s.said_by_assistant for s in places[text]) and in_assistant_material(secret):
                    continue  # the assistant's words, which never quote the resident
                add(case, secret, text, case.id)
    for text in by_case.get("", ()):
        for case in CASES:
            for secret in case.secrets:
                if leaks.appears(secret, text):
                    add(case, secret, text, "")
    return found


def report(leaked: list[Leak], what: str) -> str:
    """One block per secret: the message, the secret, and each place it was found."""
    places: dict[tuple[str, str], dict[tuple[str, str], list[str]]] = defaultdict(dict)
    for leak in leaked:
        owners = places[(leak.case, leak.secret)].setdefault((leak.where, leak.excerpt), [])
        if leak.owner and leak.owner not in owners:
            owners.append(leak.owner)
    cases = {c for c, _ in places}
    lines = [f"{len(places)} secret(s) of {len(cases)} message(s) found in {what}:"]
    for (case, secret), found in sorted(places.items()):
        lines.append(f"{case}  {secret!r}")
        for (where, excerpt), owners in found.items():
            owner = f" [{', '.join(sorted(owners))}]" if owners else ""
            lines.append(f"    {where}{owner}: {excerpt}")
    return "\n".join(lines)


# -- the tests -----------------------------------------------------------------------------


def test_every_message_is_answered_and_logged_once_per_channel(run: Run) -> None:
    problems = list(run.failures)
    engine = create_engine(run.database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sql("SELECT session_hash, channel, outcome FROM conversation_log")
            ).all()
    finally:
        engine.dispose()
    logged: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for session_hash, channel, outcome in rows:
        owner = run.owners.get(session_hash, f"unknown session {session_hash}")
        logged[owner].append((channel, outcome))
    for case in CASES:
        for channel in CHANNELS:
            found = logged.pop(f"{case.id}/{channel}", [])
            if [c for c, _ in found] != [channel]:
                problems.append(f"{case.id}/{channel}: logged as {found}")
            elif found[0][1] == "error":
                problems.append(f"{case.id}/{channel}: Rasa was unavailable (outcome 'error')")
    problems.extend(f"{owner}: unexpected rows {found}" for owner, found in logged.items())
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)


def test_the_tracker_store_holds_every_conversation(run: Run) -> None:
    assert run.tracker_db.is_file(), f"Rasa wrote no tracker store at {run.tracker_db}"
    engine = create_engine(f"sqlite:///{run.tracker_db}")
    try:
        with engine.connect() as connection:
            senders = set(
                connection.execute(
                    sql("SELECT DISTINCT sender_id FROM events WHERE type_name = 'user'")
                ).scalars()
            )
    finally:
        engine.dispose()
    missing = sorted(owner for h, owner in run.owners.items() if h not in senders)
    assert not missing, f"{len(missing)} conversation(s) not in the tracker store: {missing}"


def test_keep_words_survive_in_the_conversation_log(run: Run) -> None:
    engine = create_engine(run.database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sql("SELECT session_hash, text FROM conversation_log"))
            stored = {run.owners.get(h, h): t for h, t in rows}
    finally:
        engine.dispose()
    for channel in CHANNELS:
        lost = []
        for case in CASES:
            text = stored.get(f"{case.id}/{channel}", "")
            missing = [w for w in case.keep if not leaks.kept(w, text)]
            if missing:
                lost.append(f"{case.id}  lost {missing}: {text!r}")
        share = 1 - len(lost) / len(CASES)
        assert share >= KEEP_SHARE, (
            f"{channel}: keep words survive in {share:.1%} of messages (at least "
            f"{KEEP_SHARE:.0%} required); {len(lost)} lost some:\n" + "\n".join(lost)
        )


def test_no_secret_in_the_database(run: Run) -> None:
    texts = database_texts(run.database_url, run.owners)
    assert any(t.where == "conversation_log.text" for t in texts)
    leaked = find_leaks(texts)
    if leaked:
        pytest.fail(report(leaked, "the app database"), pytrace=False)


def test_no_secret_in_the_tracker_store(run: Run) -> None:
    texts = database_texts(f"sqlite:///{run.tracker_db}", run.owners, label="tracker ")
    assert any(t.where.startswith("tracker events.data") for t in texts)
    leaked = find_leaks(texts)
    if leaked:
        pytest.fail(report(leaked, "Rasa's tracker store"), pytrace=False)


def _log_forms(log: str) -> tuple[str, str]:
    """A log with its own timestamps, ports and the like masked: as typed (NFKC) and
    normalised as ``leaks`` compares."""
    masked = LOG_NOISE.sub(" ", log)
    return unicodedata.normalize("NFKC", masked), leaks._forms(masked)


def in_log(secret: str, log: tuple[str, str]) -> bool:
    """Whether a log (see ``_log_forms``) holds ``secret`` normalised; a Latin name as a
    whole word written as the resident did ("An", not the "an" of a library's warning)."""
    typed, normalised = log
    if LATIN.fullmatch(leaks._forms(secret)):
        name = re.escape(unicodedata.normalize("NFKC", secret))
        return bool(re.search(rf"(?<![^\W\d_]){name}(?![^\W\d_])", typed))
    return leaks._forms(secret) in normalised


def test_no_secret_in_the_logs(run: Run) -> None:
    """The logs, which should hold no resident text at all, are searched for the secrets'
    normalised forms (without ``leaks.leaked``'s digit rule)."""
    logs = log_files(run.workdir)
    assert {f"logs/{name}.log" for name in ("gateway", "rasa", "actions")} <= set(logs)
    leaked = []
    for name, content in logs.items():
        # The checkout's own path (a random temporary name on CI: /tmp/tmp.NZui2Fp4Tu) is
        # not resident text, however its letters happen to fall.
        content = content.replace(str(PROJECT_ROOT), "<checkout>")
        forms = _log_forms(content)
        for case in CASES:
            for secret in case.secrets:
                if in_log(secret, forms):
                    line = next(
                        (x for x in content.splitlines() if in_log(secret, _log_forms(x))),
                        content,
                    )
                    leaked.append(Leak(case.id, secret, name, "", _excerpt(secret, line)))
    if leaked:
        pytest.fail(report(leaked, "the services' logs"), pytrace=False)
