"""Runtime settings: every environment variable the README lists, read and checked once.

This is the only module that reads the process environment. `Settings()` reads it when
the settings are made (the CLI and the app do that at start); tests and the app's factory
pass settings objects.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RATE_PERIODS = {"second": 1.0, "minute": 60.0, "hour": 3600.0}
ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")
# Prefixes a pretrained model expects ("query: ") end in a space that must be kept.
UNSTRIPPED = {"embedding_query_prefix", "embedding_passage_prefix"}


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


def allowed_origins_from(text: str) -> tuple[str, ...]:
    """MADOGUCHI_ALLOWED_ORIGINS: the city sites allowed to call the API from their pages."""
    origins = []
    for item in text.split(","):
        origin = item.strip().rstrip("/")
        if not origin:
            continue
        if not ORIGIN.match(origin):
            raise ValueError(
                f"MADOGUCHI_ALLOWED_ORIGINS: {origin!r} is not an origin like https://www.city.example"
            )
        origins.append(origin)
    return tuple(origins)


def parse_rate(text: str) -> tuple[int, float] | None:
    """"30/minute" as (30, 60.0), "off" as None; ValueError otherwise."""
    text = text.strip().lower()
    if text in ("off", "none", "0"):
        return None
    count, _, unit = text.partition("/")
    unit = unit.strip().removesuffix("s")
    if not count.strip().isdigit() or int(count) < 1 or unit not in RATE_PERIODS:
        raise ValueError(
            f"MADOGUCHI_RATE_LIMIT must look like '30/minute' (or 'off'), got {text!r}"
        )
    return int(count), RATE_PERIODS[unit]


def _env(name: str) -> Any:
    """A field read from ``MADOGUCHI_<name>`` rather than from its own name (which code
    still uses: populate_by_name)."""
    return Field(validation_alias=f"MADOGUCHI_{name}")


class Settings(BaseSettings):
    """Where the files are, how the services reach each other, and the city's options.

    Empty variables count as unset. Paths and URLs left unset follow from ``root``
    (MADOGUCHI_HOME) and the ports.
    """

    model_config = SettingsConfigDict(
        env_prefix="MADOGUCHI_", env_ignore_empty=True, frozen=True, populate_by_name=True
    )

    root: Annotated[Path, _env("HOME")] = PROJECT_ROOT
    faq_dir: Path = Path()  # default: root/faq
    database_url: str = ""  # default: SQLite in root/var
    host: str = "127.0.0.1"
    gateway_port: int = 8000
    rasa_port: int = 5005
    actions_port: int = 5055
    rasa_url: str = ""  # default: http://127.0.0.1:<rasa_port>
    actions_url: str = ""  # default: http://127.0.0.1:<actions_port>/webhook
    rasa_venv: Path = Path()  # default: root/.venv-rasa
    model_dir: Path = Path()  # default: root/models
    # Where turns wait, on disk, while the database cannot be reached; default: root/var/spool.
    spool_dir: Path = Path()
    hash_salt: str = ""
    rasa_timeout: float = 30.0
    # Days conversation logs, unanswered questions and feedback are kept (`madoguchi purge`).
    retention_days: int = 365
    # Proxies whose X-Forwarded-For names the client (sign-in throttle, rate limit). Empty:
    # the connecting address is the client, whatever headers it sends.
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = ()
    # Interfaces the action server and Rasa listen on; default: MADOGUCHI_HOST (a host's
    # private address, in a layout of several hosts). Only Rasa calls the action server and
    # only the gateway calls Rasa (which sees unredacted text), so when the gateway listens
    # on every interface they default to 127.0.0.1.
    actions_host: str = ""
    rasa_host: str = ""
    # Shared secret Rasa sends to the action server; empty: var/actions.token.
    actions_token: str = ""
    # Rasa's tracker store; empty: var/rasa-tracker.db.
    tracker_db_path: Annotated[str, _env("TRACKER_DB")] = ""
    # Rasa's tracker store as a database URL (PostgreSQL in production); empty: the SQLite
    # file above.
    tracker_url_setting: Annotated[str, _env("TRACKER_URL")] = ""
    # Minutes without a message after which a conversation's topic is forgotten.
    conversation_idle_minutes: float = 30.0
    # Rasa's pipeline file; empty: root/config.yml.
    rasa_config: Path | None = None
    # A pretrained sentence-transformers model on disk ("none": no dense side), and the
    # prefixes it expects; empty: the model trained on the corpus.
    embedding_model: str = ""
    embedding_query_prefix: str = ""
    embedding_passage_prefix: str = ""
    # The city sites allowed to call the API from their pages.
    allowed_origins: Annotated[tuple[str, ...], NoDecode] = ()
    # Requests per client and period on the residents' API, or "off".
    rate_limit: str = "60/minute"
    # Shared rate limits across gateway processes; empty: each process counts alone.
    redis_url: str = ""
    staff_session_hours: float = Field(8.0, gt=0)
    # The LINE channel (empty: no LINE webhook). The API base URL is only for tests.
    line_channel_secret: Annotated[str, Field(validation_alias="LINE_CHANNEL_SECRET")] = ""
    line_channel_access_token: Annotated[
        str, Field(validation_alias="LINE_CHANNEL_ACCESS_TOKEN")
    ] = ""
    line_api_base_url: Annotated[str, Field(validation_alias="LINE_API_BASE_URL")] = ""
    # Seconds a reply token is used before the answer goes out as a push message.
    line_reply_window: Annotated[float, Field(validation_alias="LINE_REPLY_WINDOW")] = 50.0

    @field_validator("*", mode="before")
    @classmethod
    def _strip(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str) and info.field_name not in UNSTRIPPED:
            return value.strip()
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxies(cls, value: Any) -> Any:
        return trusted_proxies_from(value) if isinstance(value, str) else value

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> Any:
        return allowed_origins_from(value) if isinstance(value, str) else value

    @field_validator("rate_limit")
    @classmethod
    def _rate(cls, value: str) -> str:
        parse_rate(value)
        return value

    @model_validator(mode="after")
    def _derived(self) -> Settings:
        """Paths and URLs left unset follow from the root and the ports."""
        internal_host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        defaults = {
            "faq_dir": self.root / "faq",
            "database_url": f"sqlite:///{self.root / 'var' / 'madoguchi.db'}",
            "rasa_url": f"http://127.0.0.1:{self.rasa_port}",
            "actions_url": f"http://127.0.0.1:{self.actions_port}/webhook",
            "rasa_venv": self.root / ".venv-rasa",
            "model_dir": self.root / "models",
            "spool_dir": self.root / "var" / "spool",
            "actions_host": internal_host,
            "rasa_host": internal_host,
        }
        for name, default in defaults.items():
            if getattr(self, name) in ("", Path()):
                object.__setattr__(self, name, default)
        return self

    @classmethod
    def from_env(cls) -> Settings:
        """The settings the environment gives now."""
        return cls()

    @property
    def line_enabled(self) -> bool:
        return bool(self.line_channel_secret and self.line_channel_access_token)

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
