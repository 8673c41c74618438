"""Staff accounts, signed-in sessions, the audit trail and review decisions.

Passwords are hashed with Argon2id (argon2-cffi). A session is a random token in an
HttpOnly cookie; the database keeps only its SHA-256, an expiry and the session's CSRF
token, so a copy of the database does not let anyone sign in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from bot.storage.db import Store
from bot.storage.models import (
    AuditRecord,
    ReviewDecision,
    StaffAccount,
    StaffSession,
    utcnow,
)

ROLES = ("editor", "viewer")
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,63}$")
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024
DEFAULT_SESSION_HOURS = 8.0

_hasher = PasswordHasher()
# Verified when the username is unknown, so that a wrong name takes as long as a wrong
# password and does not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class StaffError(ValueError):
    """A staff account could not be created (bad name, role or password, or a duplicate)."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    """The staff member behind a request, and the CSRF token their forms must carry."""

    staff_id: int
    username: str
    role: str
    csrf_token: str
    expires_at: dt.datetime

    @property
    def can_edit(self) -> bool:
        return self.role == "editor"

    def csrf_ok(self, submitted: str | None) -> bool:
        return bool(submitted) and hmac.compare_digest(str(submitted), self.csrf_token)


def _aware(value: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes for timezone-aware columns.
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


class StaffStore:
    """The staff side's tables, on the assistant's database."""

    def __init__(self, store: Store, lifetime: dt.timedelta | None = None) -> None:
        self.store = store
        self.lifetime = lifetime or dt.timedelta(hours=DEFAULT_SESSION_HOURS)

    # -- accounts --------------------------------------------------------------------------

    def add_staff(self, username: str, password: str, role: str) -> StaffAccount:
        if not USERNAME.match(username):
            raise StaffError(
                "username must be 2-64 characters: letters, digits and . _ @ - "
                "(starting with a letter or digit)"
            )
        if role not in ROLES:
            raise StaffError(f"role must be one of {', '.join(ROLES)}")
        if len(password) < MIN_PASSWORD_CHARS:
            raise StaffError(f"password must be at least {MIN_PASSWORD_CHARS} characters")
        if len(password) > MAX_PASSWORD_CHARS:
            raise StaffError(f"password must be at most {MAX_PASSWORD_CHARS} characters")
        account = StaffAccount(username=username, password_hash=hash_password(password), role=role)
        try:
            with self.store.session() as session, session.begin():
                session.add(account)
        except IntegrityError:
            raise StaffError(f"a staff account named '{username}' already exists") from None
        self.audit("cli", "staff_add", f"staff:{username}", None, {"role": role})
        return account

    def accounts(self) -> list[StaffAccount]:
        with self.store.session() as session:
            return list(session.scalars(select(StaffAccount).order_by(StaffAccount.username)))

    def authenticate(self, username: str, password: str) -> StaffAccount | None:
        if len(password) > MAX_PASSWORD_CHARS:
            return None
        with self.store.session() as session:
            account = session.scalars(
                select(StaffAccount).where(StaffAccount.username == username[:64])
            ).first()
        if account is None:
            verify_password(_DUMMY_HASH, password)
            return None
        if not verify_password(account.password_hash, password):
            return None
        if _hasher.check_needs_rehash(account.password_hash):
            with self.store.session() as session, session.begin():
                stored = session.get(StaffAccount, account.id)
                if stored is not None:
                    stored.password_hash = hash_password(password)
        return account

    # -- sessions --------------------------------------------------------------------------

    def open_session(self, account: StaffAccount, now: dt.datetime | None = None) -> str:
        """A new session for ``account``; returns the token for the cookie."""
        now = now or utcnow()
        token = secrets.token_urlsafe(32)
        with self.store.session() as session, session.begin():
            session.execute(delete(StaffSession).where(StaffSession.expires_at < now))
            session.add(
                StaffSession(
                    token_hash=token_hash(token),
                    staff_id=account.id,
                    csrf_token=secrets.token_urlsafe(32),
                    created_at=now,
                    expires_at=now + self.lifetime,
                )
            )
        return token

    def signed_in(self, token: str | None, now: dt.datetime | None = None) -> SignedIn | None:
        """The staff member for a cookie token, or None if unknown or expired."""
        if not token or len(token) > 200:
            return None
        now = now or utcnow()
        with self.store.session() as session:
            row = session.get(StaffSession, token_hash(token))
            if row is None:
                return None
            if _aware(row.expires_at) <= now:
                session.delete(row)
                session.commit()
                return None
            account = session.get(StaffAccount, row.staff_id)
            if account is None:
                return None
            return SignedIn(
                account.id, account.username, account.role, row.csrf_token, row.expires_at
            )

    def close_session(self, token: str | None) -> None:
        if not token:
            return
        with self.store.session() as session, session.begin():
            session.execute(
                delete(StaffSession).where(StaffSession.token_hash == token_hash(token))
            )

    # -- audit trail -----------------------------------------------------------------------

    def audit(
        self,
        actor: str,
        action: str,
        target: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        note: str = "",
    ) -> None:
        with self.store.session() as session, session.begin():
            session.add(
                AuditRecord(
                    actor=actor[:64],
                    action=action[:32],
                    target=target[:160],
                    before=before,
                    after=after,
                    note=note[:2000],
                )
            )

    def audit_records(self, target: str | None = None, limit: int = 200) -> list[AuditRecord]:
        with self.store.session() as session:
            query = select(AuditRecord).order_by(AuditRecord.id.desc()).limit(limit)
            if target is not None:
                query = query.where(AuditRecord.target == target)
            return list(session.scalars(query))

    # -- review decisions ------------------------------------------------------------------

    def decide(
        self,
        items: Iterable[tuple[str, int]],
        decision: str,
        actor: str,
        entry_id: str | None = None,
        reason: str = "",
    ) -> int:
        """Take questions out of the review queue. Returns how many were still in it."""
        taken = 0
        with self.store.session() as session, session.begin():
            decided = self._decided(session)
            for source, item_id in items:
                if (source, item_id) in decided:
                    continue
                decided.add((source, item_id))
                session.add(
                    ReviewDecision(
                        source=source,
                        item_id=item_id,
                        decision=decision,
                        entry_id=entry_id,
                        reason=reason[:2000],
                        actor=actor[:64],
                    )
                )
                taken += 1
        return taken

    def decided(self) -> set[tuple[str, int]]:
        with self.store.session() as session:
            return self._decided(session)

    @staticmethod
    def _decided(session: Any) -> set[tuple[str, int]]:
        rows = session.execute(select(ReviewDecision.source, ReviewDecision.item_id))
        return {(source, item_id) for source, item_id in rows}
