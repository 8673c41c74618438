"""Pseudonymous session ids: a resident's id is never stored as it came in."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path


def load_secret(configured: str, path: Path, setting: str) -> str:
    """The configured secret, or one generated once and kept at ``path`` (mode 0600), so
    that every process of this install agrees on it without configuration."""
    if configured:
        return configured
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL makes the first process to get here the only one that writes the secret,
        # and the mode applies from creation: the file is never readable by others.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_hex(32))
    # Another process may have created the file a moment ago and be writing it still.
    for _ in range(100):
        secret = path.read_text(encoding="utf-8").strip()
        if secret:
            return secret
        time.sleep(0.01)
    raise RuntimeError(f"{path} is empty; delete it or set {setting}")


def load_salt(configured: str, var_dir: Path) -> str:
    """The configured salt, or one generated once and kept in ``var/`` for this install."""
    return load_secret(configured, var_dir / "hash-salt", "MADOGUCHI_HASH_SALT")


def hash_id(raw: str, salt: str) -> str:
    """A stable, salted hash of a session or user id (hex, 32 characters)."""
    return hmac.new(salt.encode(), raw.encode(), hashlib.sha256).hexdigest()[:32]
