"""Runtime settings, read from environment variables (see the README for the list)."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def trusted_proxies_from(text: str) -> tuple[str, ...]:
    """MADOGUCHI_TRUSTED_PROXIES: comma-separated IP addresses or networks (CIDR).

    Checked here because uvicorn's middleware would quietly treat a malformed entry as a
    name that never matches, leaving the proxy untrusted without a word.
    """
    entries: list[str] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            # Plain addresses stay addresses; strict networks reject "10.0.0.1/8" (a typo).
            parsed = ipaddress.ip_network(item) if "/" in item else ipaddress.ip_address(item)
            entries.append(str(parsed))
        except ValueError as exc:
            raise ValueError(
                f"MADOGUCHI_TRUSTED_PROXIES: {item!r} is not an IP address or network "
                f"such as 10.0.0.5 or 10.0.0.0/24 ({exc})"
            ) from None
    return tuple(entries)


@dataclass(frozen=True)
class Settings:
    root: Path
    faq_dir: Path
    database_url: str
    host: str
    gateway_port: int
    rasa_port: int
    actions_port: int
    rasa_url: str
    actions_url: str
    rasa_venv: Path
    model_dir: Path
    hash_salt: str
    rasa_timeout: float
    # Days conversation logs, unanswered questions and feedback are kept (`madoguchi purge`).
    retention_days: int = 365
    # Proxies whose X-Forwarded-For names the client (sign-in throttle, rate limit). Empty:
    # the connecting address is the client, whatever headers it sends.
    trusted_proxies: tuple[str, ...] = ()
    # Interface the action server listens on; only Rasa needs to reach it.
    actions_host: str = "127.0.0.1"
    # Interface Rasa listens on: only the gateway talks to it, even when the gateway itself
    # listens on every interface (MADOGUCHI_HOST=0.0.0.0).
    rasa_host: str = "127.0.0.1"
    # Shared secret Rasa sends to the action server; empty: var/actions.token.
    actions_token: str = ""
    # Rasa's tracker store; empty: var/rasa-tracker.db.
    tracker_db_path: str = ""
    # Rasa's tracker store as a database URL (PostgreSQL in production); empty: the SQLite
    # file above.
    tracker_url_setting: str = ""
    # Minutes without a message after which a conversation's topic is forgotten.
    conversation_idle_minutes: float = 30.0

    @property
    def corpus_dir(self) -> Path:
        return self.faq_dir / "corpus"

    @property
    def profile_path(self) -> Path:
        return self.faq_dir / "municipality.yml"

    @property
    def terms_path(self) -> Path:
        return self.faq_dir / "terms.yml"

    @property
    def out_of_scope_path(self) -> Path:
        """Rasa's out-of-scope examples, which the FAQ engine also learns from."""
        return self.root / "data" / "nlu" / "out_of_scope.yml"

    @property
    def near_misses_path(self) -> Path:
        """Out-of-scope questions that only the FAQ engine learns from (not Rasa)."""
        return self.faq_dir / "near_misses.yml"

    @property
    def tracker_db(self) -> Path:
        """Rasa's tracker store (SQLite): the conversations' redacted events."""
        return Path(self.tracker_db_path or self.root / "var" / "rasa-tracker.db")

    @property
    def tracker_url(self) -> str:
        """Rasa's tracker store as a SQLAlchemy URL."""
        return self.tracker_url_setting or f"sqlite:///{self.tracker_db}"

    @property
    def conversation_path(self) -> Path:
        """Facets, relations and clarifying questions (bot.conversation.guide)."""
        return self.faq_dir / "conversation.yml"

    @property
    def embeddings_dir(self) -> Path:
        return self.root / "var" / "embeddings"

    @property
    def evaluated_embeddings_dir(self) -> Path:
        """Models trained for corpora under evaluation (`madoguchi eval --corpus --train`)."""
        return self.root / "var" / "embeddings-evaluated"

    @classmethod
    def from_env(cls) -> Settings:
        root = Path(_env("MADOGUCHI_HOME", str(PROJECT_ROOT)))
        host = _env("MADOGUCHI_HOST", "127.0.0.1")
        rasa_port = int(_env("MADOGUCHI_RASA_PORT", "5005"))
        actions_port = int(_env("MADOGUCHI_ACTIONS_PORT", "5055"))
        return cls(
            root=root,
            faq_dir=Path(_env("MADOGUCHI_FAQ_DIR", str(root / "faq"))),
            database_url=_env(
                "MADOGUCHI_DATABASE_URL", f"sqlite:///{root / 'var' / 'madoguchi.db'}"
            ),
            host=host,
            gateway_port=int(_env("MADOGUCHI_GATEWAY_PORT", "8000")),
            rasa_port=rasa_port,
            actions_port=actions_port,
            rasa_url=_env("MADOGUCHI_RASA_URL", f"http://127.0.0.1:{rasa_port}"),
            actions_url=_env("MADOGUCHI_ACTIONS_URL", f"http://127.0.0.1:{actions_port}/webhook"),
            rasa_venv=Path(_env("MADOGUCHI_RASA_VENV", str(root / ".venv-rasa"))),
            model_dir=Path(_env("MADOGUCHI_MODEL_DIR", str(root / "models"))),
            hash_salt=_env("MADOGUCHI_HASH_SALT", ""),
            rasa_timeout=float(_env("MADOGUCHI_RASA_TIMEOUT", "30")),
            retention_days=int(_env("MADOGUCHI_RETENTION_DAYS", "365")),
            trusted_proxies=trusted_proxies_from(_env("MADOGUCHI_TRUSTED_PROXIES", "")),
            tracker_db_path=_env("MADOGUCHI_TRACKER_DB", ""),
            tracker_url_setting=_env("MADOGUCHI_TRACKER_URL", ""),
            conversation_idle_minutes=float(_env("MADOGUCHI_CONVERSATION_IDLE_MINUTES", "30")),
            actions_host=_env("MADOGUCHI_ACTIONS_HOST", "127.0.0.1"),
            rasa_host=_env("MADOGUCHI_RASA_HOST", "127.0.0.1"),
            actions_token=_env("MADOGUCHI_ACTIONS_TOKEN", ""),
        )
