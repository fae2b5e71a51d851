"""Generate and hash the secrets users hold: API keys (sk-sel-…) and management tokens (mt-…).

Shared by web (which issues them) and the proxy (which checks them), so it
imports nothing from Django. Only a keyed hash is ever stored: HMAC-SHA256
under SELIXES_HASH_KEY, so a leaked database alone cannot confirm a guess.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

API_KEY_PREFIX = "sk-sel-"
MANAGEMENT_TOKEN_PREFIX = "mt-"
# Characters after the fixed prefix that are kept in clear to name a key.
VISIBLE_CHARS = 8
SECRET_BYTES = 32
MAX_SECRET_LENGTH = 128


def generate(kind_prefix: str) -> tuple[str, str]:
    """Return a new secret and its display prefix."""
    secret = kind_prefix + secrets.token_urlsafe(SECRET_BYTES)
    return secret, display_prefix(secret, kind_prefix)


def display_prefix(secret: str, kind_prefix: str) -> str:
    return secret[: len(kind_prefix) + VISIBLE_CHARS]


def hash_secret(hash_key: bytes, secret: str) -> str:
    """Return the hex HMAC-SHA256 of a secret under the deployment's hash key."""
    return hmac.new(hash_key, secret.encode(), hashlib.sha256).hexdigest()


def matches(stored_hash: str, candidate_hash: str) -> bool:
    return hmac.compare_digest(stored_hash, candidate_hash)


def looks_like(secret: str, kind_prefix: str) -> bool:
    """Reject obviously malformed secrets before any lookup."""
    return (
        secret.startswith(kind_prefix)
        and len(kind_prefix) + VISIBLE_CHARS < len(secret) <= MAX_SECRET_LENGTH
        and secret.isascii()
        and secret.isprintable()
    )
