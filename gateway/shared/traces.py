"""An encrypted trace: what crossed the gateway for one request, sealed before it leaves the proxy.

With observability on (CONTRACT.md section 6), the proxy serializes the
request as sent to the provider and the answer as returned (a stream
assembled), both after PII redaction, and seals them here with AES-256-GCM
under the org's data key of the request's UTC day. The sealed bytes ride the
usage event (TraceEnvelope) to the worker, which stores them as they are; only
web, while a person views a trace, opens them again. The associated data binds
each ciphertext to its org, day and request, so a blob copied onto another
request, day or org does not open.

Data keys are 32 random bytes per org and day, created by web ahead of time,
sealed under SELIXES_MASTER_KEYS (crypto.data_key_context) and published in
the snapshot. Destroying a day's key (retention, GDPR deletion) makes that
day's traces unreadable whether or not their rows are gone yet.

Imports nothing from Django: the proxy seals, web opens.
"""

from __future__ import annotations

import base64
import binascii
import os
from typing import Any, TypedDict

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

DATA_KEY_BYTES = 32
NONCE_BYTES = 12
# Each half of a trace (request, response) keeps at most this many bytes of
# JSON; past it the half is cut and the trace says `truncated` (docs/OBSERVABILITY.md).
PART_MAX_BYTES = 256 * 1024


class TraceEnvelope(TypedDict):
    day: str  # UTC day "YYYY-MM-DD" of the request: whose data key sealed it
    # base64 of nonce (12 bytes) + AES-256-GCM ciphertext and tag of the JSON
    # {"request": …, "response": …, "truncated": bool}.
    sealed: str


class TracePayload(TypedDict):
    request: Any  # the JSON body sent to the provider
    response: Any  # the JSON answer, or the stream assembled into one
    truncated: bool


class TraceUnreadable(Exception):
    """A sealed trace that does not open: wrong key, day, org or request, or tampered."""


def trace_context(org_id: str, day: str, request_id: str) -> bytes:
    """The AAD binding a trace's ciphertext to its org, day and request."""
    return f"selixes/trace/{org_id}/{day}/{request_id}".encode()


def new_data_key() -> bytes:
    return os.urandom(DATA_KEY_BYTES)


def seal_trace(data_key: bytes, plaintext: bytes, context: bytes) -> str:
    nonce = os.urandom(NONCE_BYTES)
    sealed = nonce + AESGCM(data_key).encrypt(nonce, plaintext, context)
    return base64.b64encode(sealed).decode()


def open_trace(data_key: bytes, sealed: str | bytes, context: bytes) -> bytes:
    try:
        raw = base64.b64decode(sealed, validate=True) if isinstance(sealed, str) else sealed
        nonce, ciphertext = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
        return AESGCM(data_key).decrypt(nonce, ciphertext, context)
    except (InvalidTag, ValueError, binascii.Error) as e:
        raise TraceUnreadable("the trace does not open under this key and context") from e
