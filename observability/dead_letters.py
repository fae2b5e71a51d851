"""Usage events the drain could not write, set aside so they block nobody's log.

One platform-level stream, DEAD_LETTERS, read by operators (XRANGE); it has
no {org_id} hash tag because it belongs to no tenant and is written by the
drain alone, never inside a script with an org's keys. Each entry holds the
event as the proxy wrote it (e), why it was set aside (reason: "malformed",
or the type of the database's refusal, never its message) and its id on the
usage stream (entry). The stream is bounded in length and in age: entries
older than the contract's 30-day retention are trimmed, as they name a request.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from config.redis import RedisClient
from gateway.proxy.metrics import USAGE_DEAD_LETTERS

log = logging.getLogger(__name__)
DEAD_LETTERS = "sel:usage:dead"
MAX_LENGTH = 10_000
MAX_AGE_MS = 30 * 24 * 3600 * 1000
MALFORMED = "malformed"


@dataclass(frozen=True)
class DeadLetter:
    entry_id: bytes  # on the usage stream
    event: bytes  # as the proxy wrote it
    reason: str  # MALFORMED, or the type of the database's refusal


def set_aside(client: RedisClient, letters: list[DeadLetter]) -> None:
    """Add the events to the dead-letter stream, count them, and log their ids (never a value)."""
    oldest_kept = int(time.time() * 1000) - MAX_AGE_MS
    pipe = client.pipeline(transaction=False)
    for letter in letters:
        fields = {"e": letter.event, "reason": letter.reason, "entry": letter.entry_id}
        pipe.xadd(DEAD_LETTERS, fields, maxlen=MAX_LENGTH, approximate=True)  # type: ignore[arg-type]
    pipe.xtrim(DEAD_LETTERS, minid=f"{oldest_kept}-0", approximate=True)
    pipe.execute()
    for letter in letters:
        kind = MALFORMED if letter.reason == MALFORMED else "refused"
        USAGE_DEAD_LETTERS.labels(reason=kind).inc()
        log.warning(
            "usage event %s set aside on %s: %s",
            letter.entry_id.decode(),
            DEAD_LETTERS,
            letter.reason,
        )
