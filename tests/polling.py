"""Wait for something to happen, never for a fixed time (STYLE.md, Tests)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(condition: Callable[[], T | None], timeout_s: float, what: str) -> T:
    """Call `condition` until it returns something other than None or False; return that.

    Fails the test with `what` when `timeout_s` passes first. Between calls it
    yields the processor for a moment only: the condition is the wait.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        found = condition()
        if found is not None and found is not False:
            return found
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout_s} s"
        time.sleep(0.02)
