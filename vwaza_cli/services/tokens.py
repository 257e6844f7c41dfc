"""Secrets handed to people (session and reset tokens): random, stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 32  # 256 bits


def new_token(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(TOKEN_BYTES)}"


def hash_token(token: str) -> str:
    """Any text hashes, even what no token of ours holds: an environment variable that is not
    valid UTF-8 reaches us with lone surrogates in it (PEP 383). Those are encoded as they
    stand ("surrogatepass"), bytes that no valid text encodes to, so such a token matches
    nothing and is refused like any unknown one."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
