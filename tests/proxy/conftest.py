"""A real proxy process (uvicorn) on a free loopback port, sharing the test Redis."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from infra.run import uvicorn_command
from tests.mock_provider.conftest import mock_url  # noqa: F401  # shared fixture

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def proxy_url() -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "REDIS_URL": settings.REDIS_URL,
        "SELIXES_HASH_KEY": settings.SELIXES_HASH_KEY,
        "SELIXES_MASTER_KEYS": settings.SELIXES_MASTER_KEYS,
        # The mock provider listens on loopback, as vLLM or Ollama would.
        "SELIXES_PRIVATE_UPSTREAMS": "allow",
    }
    process = subprocess.Popen(
        uvicorn_command("gateway.proxy.asgi:app", port),
        cwd=ROOT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the proxy did not start")
        time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)
