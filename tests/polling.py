"""Wait for something to happen, never for a fixed time (STYLE.md, Tests).

`eventually` polls a condition in a plain test; `eventually_async` awaits one
in an async test, so the event loop (and the servers it runs) keeps going
between calls. Both fail with `what` when `timeout_s` passes first: make it
generous, it is only spent when something is broken.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

# Between calls the poller yields the processor for a moment only: the condition is the wait.
_PAUSE_S = 0.02


def _found(value: T | None) -> bool:
    return value is not None and value is not False


def eventually(condition: Callable[[], T | None], timeout_s: float, what: str) -> T:
    """Call `condition` until it returns something other than None or False; return that."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = condition()
        if _found(found):
            assert found is not None
            return found
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout_s} s"
        time.sleep(_PAUSE_S)


async def eventually_async(
    condition: Callable[[], Awaitable[T | None]], timeout_s: float, what: str
) -> T:
    """Await `condition()` until it gives something other than None or False; return that."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = await condition()
        if _found(found):
            assert found is not None
            return found
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout_s} s"
        await asyncio.sleep(_PAUSE_S)
