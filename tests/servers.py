"""Start a real server process for a test session and wait until its /healthz answers."""

from __future__ import annotations

import itertools
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from infra.xdist_worker import server_port_range
from tests.polling import eventually

ROOT = Path(__file__).resolve().parents[1]
# Ports are handed out in turn from this worker's slice, never twice in a row:
# a server just stopped may still hold its port in TIME_WAIT.
_turn = itertools.count()


def _is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A loopback port nothing listens on, from this xdist worker's own slice.

    The kernel's choice (bind to port 0) would come from the ephemeral range,
    which other workers and every outgoing connection draw from too: between
    this call and the server's bind another could take it.
    """
    start, end = server_port_range()
    for _ in range(end - start):
        port = start + next(_turn) % (end - start)
        if _is_free(port):
            return port
    raise RuntimeError(f"no free port in {start}-{end}")


@contextmanager
def serving(command: list[str], port: int, env: dict[str, str], name: str) -> Iterator[str]:
    """Run `command` (listening on `port`) until the block ends; yield its base URL."""
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        assert process.poll() is None, f"the {name} exited during start-up"
        try:
            return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        # Generous: a loaded machine starting several workers' servers at once.
        eventually(answers, 60, f"the {name} answering on {url}/healthz")
    except BaseException:
        process.kill()
        process.wait()
        raise
    try:
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            # Still a failure (a server must stop on SIGTERM), but not a stray
            # process left running for the rest of the session.
            process.kill()
            process.wait()
            raise
