"""A real mock provider process (uvicorn) on a free port, and helpers to read its streams."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from tests.servers import free_port, serving

# Short, so the timeout scenario's answer is testable without a minute's wait.
TIMEOUT_S = 1.5

OPENAI = {"authorization": "Bearer sk-test-openai"}
ANTHROPIC = {"x-api-key": "sk-ant-test", "anthropic-version": "2023-06-01"}
GEMINI = {"x-goog-api-key": "gm-test"}


@pytest.fixture(scope="session")
def mock_url() -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "MOCK_PROVIDER_TIMEOUT_S": str(TIMEOUT_S)}
    env.pop("MOCK_PROVIDER_REQUIRED_KEY", None)
    with serving(
        [sys.executable, "-m", "gateway.mock_provider", "--port", str(port)],
        port,
        env,
        "mock provider",
    ) as url:
        yield url


@pytest.fixture
def mock(mock_url: str) -> Iterator[httpx.Client]:
    """A client of the mock, whose recorder starts empty."""
    with httpx.Client(base_url=mock_url, timeout=10) as client:
        client.post("/_mock/reset").raise_for_status()
        yield client


def recorded(client: httpx.Client) -> dict[str, Any]:
    body: dict[str, Any] = client.get("/_mock/requests").json()
    return body


def sse_events(text: str) -> list[tuple[str | None, str]]:
    """Split an SSE body into (event name, data) pairs, CRLF or LF framed."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        if not block.strip():
            continue
        name = None
        data = []
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[len("event: ") :]
            elif line.startswith("data: "):
                data.append(line[len("data: ") :])
        events.append((name, "\n".join(data)))
    return events


def sse_json(text: str) -> list[dict[str, Any]]:
    """Return the JSON payloads of an SSE body, leaving out OpenAI's [DONE]."""
    return [orjson.loads(data) for _, data in sse_events(text) if data != "[DONE]"]


def chat(content: str = "Hello there, how are you today?", **extra: object) -> dict[str, object]:
    """An OpenAI chat request body with one user message."""
    return {"model": "gpt-mock", "messages": [{"role": "user", "content": content}], **extra}
