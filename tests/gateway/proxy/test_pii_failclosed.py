"""Fail closed end to end: a proxy process whose NER model cannot be loaded.

The proxy is started with PYTHONPATH pointing first at a directory holding a
broken copy of the installed model package, so `importlib.util.find_spec`
finds the broken one, as it would after a tampered or half-stripped install:

- "tampered": the whole package with one byte of the NER weights flipped, so
  the sha256 check of gateway.proxy.pii.ner refuses it;
- "no data": the package's `__init__.py` without its data directory;
- "not a package": a plain module of that name, which is all `find_spec`
  sees when the model package is missing but something else has its name.

Nothing of our code is patched: the proxy process is the one `make run`
starts, with an environment that is broken the way a real one would be.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from gateway.proxy.pii.ner import MODEL_PACKAGES
from tests.conftest import Persona, api_client_for, create_key
from tests.factories.pii import EMAIL, set_policy
from tests.factories.usage import usage_event
from tests.gateway.proxy.conftest import PROVIDER_KEY, Gateway, ProxyServer, serving_proxy

pytestmark = pytest.mark.django_db(transaction=True)

NAMES = "Dear Ada Lovelace, your badge expired."


def _installed_packages() -> list[tuple[str, Path]]:
    """The model packages this venv could load, and their directories."""
    found = []
    for package, _ in MODEL_PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.submodule_search_locations:
            found.append((package, Path(next(iter(spec.submodule_search_locations)))))
    assert found, "no NER model package is installed in this environment"
    return found


def _broken_copy(kind: str, into: Path) -> None:
    """Shadow every installed model package (ner.py would fall back to the next one)."""
    for package, installed in _installed_packages():
        copy = into / package
        if kind == "tampered":
            shutil.copytree(installed, copy)
            weights = next(copy.glob("*/ner/model"))
            data = bytearray(weights.read_bytes())
            data[len(data) // 2] ^= 0x01
            weights.write_bytes(bytes(data))
        elif kind == "not a package":
            (into / f"{package}.py").write_text("")
        else:  # "no data": the package is there, its model directory is not
            copy.mkdir()
            shutil.copy(installed / "__init__.py", copy / "__init__.py")


@pytest.fixture(scope="module", params=["tampered", "no data", "not a package"])
def proxy_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ProxyServer]:
    """Overrides the shared proxy: one whose NER model cannot be loaded."""
    shadow = tmp_path_factory.mktemp("shadow")
    _broken_copy(request.param, shadow)
    path = os.pathsep.join(p for p in (str(shadow), os.environ.get("PYTHONPATH")) if p)
    with serving_proxy(PYTHONPATH=path) as server:
        yield server


def _raw_chat(gateway: Gateway, key: str, **body: Any) -> httpx.Response:
    return httpx.post(
        f"{gateway.proxy_url}/v1/chat/completions",
        json={"model": "chat", **body},
        headers={"authorization": f"Bearer {key}"},
        timeout=30,
    )


def _assert_pii_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"message", "type", "code", "param"}
    assert error["type"] == "api_error"
    assert error["code"] == "pii_unavailable"
    assert "nothing was sent" in error["message"]
    # The reason (paths, digests) stays in the proxy: the caller gets no internals.
    assert "sha256" not in error["message"] and "site-packages" not in error["message"]


def test_names_in_the_policy_without_a_model_answer_503_and_forward_nothing(
    gateway: Gateway,
) -> None:
    set_policy(gateway, entities={"PERSON": "mask", "EMAIL": "mask"})
    httpx.post(f"{gateway.mock_url}/_mock/reset")
    for _ in range(2):  # the first call tries to load the model, the second remembers
        response = _raw_chat(gateway, gateway.key, messages=[{"role": "user", "content": NAMES}])
        _assert_pii_unavailable(response)
    assert gateway.recorded()["total"] == 0
    event = usage_event(response.headers["x-request-id"])
    assert event["status"] == 503 and event["error_type"] == "api_error"
    assert event["attempts"] == [] and event["charged_nano"] == 0
    assert "Lovelace" not in orjson.dumps(event).decode()
    metrics = gateway.metrics()
    assert 'selixes_pii_failures_total{code="pii_unavailable"}' in metrics


def test_a_stream_fails_the_same_way_before_any_byte(gateway: Gateway) -> None:
    set_policy(gateway, entities={"LOCATION": "mask"})
    httpx.post(f"{gateway.mock_url}/_mock/reset")
    with httpx.stream(
        "POST",
        f"{gateway.proxy_url}/v1/chat/completions",
        json={
            "model": "chat",
            "stream": True,
            "messages": [{"role": "user", "content": "I live in Madrid."}],
        },
        headers={"authorization": f"Bearer {gateway.key}"},
        timeout=30,
    ) as response:
        response.read()
    _assert_pii_unavailable(response)
    assert not response.text.startswith("data:") and "text/event-stream" not in str(
        response.headers.get("content-type")
    )
    assert gateway.recorded()["total"] == 0


def test_text_without_capitals_is_not_let_through_either(gateway: Gateway) -> None:
    """The model is needed (and missing) even when the text could hold no name."""
    set_policy(gateway, entities={"ORGANIZATION": "mask"})
    httpx.post(f"{gateway.mock_url}/_mock/reset")
    response = _raw_chat(gateway, gateway.key, messages=[{"role": "user", "content": "hello"}])
    _assert_pii_unavailable(response)
    assert gateway.recorded()["total"] == 0


def test_validator_only_policies_are_still_served_by_that_proxy(
    gateway: Gateway, charlie: Persona
) -> None:
    # Alice's org needs NER and is refused ...
    set_policy(gateway, entities={"PERSON": "mask"})
    refused = _raw_chat(gateway, gateway.key, messages=[{"role": "user", "content": NAMES}])
    _assert_pii_unavailable(refused)
    # ... while Charlie's, on the same proxy process, only uses validators.
    api = api_client_for(charlie)
    created = api.post(
        "/api/v1/provider-keys/",
        {"provider": "openai_compatible", "api_key": PROVIDER_KEY},
        format="json",
    )
    assert created.status_code == 201, created.content
    other = Gateway(gateway.proxy_url, gateway.mock_url, create_key(api, charlie)["key"], api, "")
    other.provider_key_id = created.json()["id"]
    other.route("chat", other.openai_compatible())
    set_policy(other, entities={"EMAIL": "mask", "CREDIT_CARD": "mask"})
    httpx.post(f"{gateway.mock_url}/_mock/reset")
    served = _raw_chat(
        other, other.key, messages=[{"role": "user", "content": f"{NAMES} Mail {EMAIL}."}]
    )
    assert served.status_code == 200, served.text
    sent = other.recorded()["last"]["body"]["messages"][0]["content"]
    assert sent == f"{NAMES} Mail [EMAIL]."
    streamed = _raw_chat(
        other, other.key, stream=True, messages=[{"role": "user", "content": f"to {EMAIL}"}]
    )
    assert streamed.status_code == 200 and "data: [DONE]" in streamed.text
    assert other.recorded()["total"] == 2
    # And alice's own org is served again once its policy no longer names NER types.
    set_policy(gateway, entities={"EMAIL": "mask"})
    again = _raw_chat(gateway, gateway.key, messages=[{"role": "user", "content": EMAIL}])
    assert again.status_code == 200, again.text
    assert gateway.recorded()["last"]["body"]["messages"][0]["content"] == "[EMAIL]"
