"""A real proxy process (uvicorn) on a free loopback port, sharing the test Redis."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.conf import settings

from infra.run import uvicorn_command
from tests.mock_provider.conftest import mock_url  # noqa: F401  # shared fixture
from tests.servers import free_port, serving


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
    with serving(uvicorn_command("gateway.proxy.asgi:app", port), port, env, "proxy") as url:
        yield url
