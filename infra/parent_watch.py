"""Notice when `make run`'s make was told to stop, so `kill -INT <pid of make>` stops the stack.

Ctrl-C signals the terminal's whole foreground process group, make and the
runner alike. A signal sent to make's pid alone reaches make only: GNU make
forwards SIGTERM to its children but not SIGINT, SIGHUP or SIGQUIT; for those
it just waits for its children to exit, and the runner would never hear of it.

What it does do, first thing in its handler, is reset the signal to its
default action (so that re-raising it once the children are gone kills
make). The runner watches for that: a stop signal make caught when the
runner started and no longer catches means make got it. On Linux this is
read from /proc/<pid>/status (SigCgt), for a parent that is make only (a
shell may swap its handlers while it waits for a job); elsewhere, only a
parent that went away counts (the runner is then an orphan).
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

# The signals after which make stops (GNU make's fatal_error_signal).
STOP_SIGNALS = (signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGTERM)


def _caught_signals(pid: int) -> int | None:
    """The bit mask of signals `pid` has a handler for, or None where /proc cannot say."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("SigCgt:"):
            return int(line.split()[1], 16)
    return None


def _is_make(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() in ("make", "gmake")
    except OSError:
        return False


def _bit(sig: signal.Signals) -> int:
    return 1 << (sig - 1)


class ParentWatch:
    """Remembers the parent at start; says when it went away or dropped a stop handler."""

    def __init__(self) -> None:
        self.parent = os.getppid()
        self.parent_is_make = _is_make(self.parent)
        caught = _caught_signals(self.parent) if self.parent_is_make else None
        # Only the handlers the parent had to begin with can tell anything.
        self._watched = 0 if caught is None else caught & sum(_bit(sig) for sig in STOP_SIGNALS)

    def told_to_stop(self) -> bool:
        """Whether the parent was told to stop (or is gone): time to stop everything."""
        if os.getppid() != self.parent:
            return True
        if not self._watched:
            return False
        caught = _caught_signals(self.parent)
        return caught is not None and (caught & self._watched) != self._watched
