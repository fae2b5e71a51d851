"""Exceptions as a log line may show them: the type and where, never the message.

An exception's message can quote what it choked on: PostgreSQL quotes the
refused row or the JSON around a NUL, a JSON decoder the body, an upstream
error its response, which may echo the prompt. Log lines name the type and
the place it was raised instead (CONTRACT.md section 6: no payload in a log).
"""

from __future__ import annotations

import traceback


def describe(error: BaseException) -> str:
    """`KeyError raised at /app/gateway/proxy/usage.py:123 in event_from`, never the message."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return type(error).__name__
    last = frames[-1]
    return f"{type(error).__name__} raised at {last.filename}:{last.lineno} in {last.name}"
