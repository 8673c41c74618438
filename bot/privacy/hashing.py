"""Pseudonymous session ids: a resident's id is never stored as it came in."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from pathlib import Path


def load_salt(configured: str, var_dir: Path) -> str:
    """The configured salt, or one generated once and kept in ``var/`` for this install."""
    if configured:
        return configured
    path = var_dir / "hash-salt"
    var_dir.mkdir(parents=True, exist_ok=True)
    try:
        # 'x' makes the first process to get here the only one that writes the salt.
        with path.open("x", encoding="utf-8") as handle:
            path.chmod(0o600)
            handle.write(secrets.token_hex(32))
    except FileExistsError:
        pass
    # Another process may have created the file a moment ago and be writing it still.
    for _ in range(100):
        salt = path.read_text(encoding="utf-8").strip()
        if salt:
            return salt
        time.sleep(0.01)
    raise RuntimeError(f"{path} is empty; delete it or set MADOGUCHI_HASH_SALT")


def hash_id(raw: str, salt: str) -> str:
    """A stable, salted hash of a session or user id (hex, 32 characters)."""
    return hmac.new(salt.encode(), raw.encode(), hashlib.sha256).hexdigest()[:32]
