"""Provider errors: restated from each provider's shape, never carrying a key; retry-after read."""

from __future__ import annotations

import email.utils

import pytest

from gateway.proxy.providers import adapter_for
from gateway.proxy.providers.common import retry_after_seconds, scrub
from tests.gateway.proxy.providers.wire import fixture

OPENAI_KEY = "sk-proj-Zx81abcdefghijklmnopqrstuvwxyz0123456789wxyz"


def test_openais_invalid_key_message_is_restated_without_the_masked_key() -> None:
    error = adapter_for("openai").error(
        401, fixture("openai_error_invalid_key.json"), {}, api_key=OPENAI_KEY
    )
    assert error.status == 401
    assert error.message.startswith("Incorrect API key provided: [redacted].")
    assert "wxyz" not in error.message and "sk-" not in error.message
    assert error.type == "invalid_request_error"
    assert not error.retryable


def test_a_rate_limit_is_retryable_after_the_providers_delay() -> None:
    error = adapter_for("groq").error(
        429, fixture("openai_error_rate_limit.json"), {"retry-after-ms": "1200"}
    )
    assert error.retryable
    assert error.retry_after_s == 1.2
    assert error.message.startswith("Rate limit reached for gpt-4o")


def test_anthropics_error_shape_is_restated_with_its_type() -> None:
    error = adapter_for("anthropic").error(
        404, fixture("anthropic_error_not_found.json"), {"request-id": "req_1"}
    )
    assert (error.status, error.message, error.type) == (
        404,
        "model: claude-nonexistent",
        "not_found_error",
    )
    limited = adapter_for("anthropic").error(
        429, fixture("anthropic_error_rate_limit.json"), {"Retry-After": "17"}
    )
    assert limited.retry_after_s == 17.0
    assert limited.type == "rate_limit_error"


def test_geminis_retry_delay_is_read_from_its_error_details() -> None:
    error = adapter_for("gemini").error(429, fixture("gemini_error_rate_limit.json"), {})
    assert error.retry_after_s == 32.0
    assert error.type == "RESOURCE_EXHAUSTED"
    assert error.message.startswith("You exceeded your current quota")


def test_geminis_error_answered_as_an_array_is_understood() -> None:
    error = adapter_for("gemini").error(400, fixture("gemini_error_invalid_key.json"), {})
    assert error.message == "API key not valid. Please pass a valid API key."
    assert error.type == "INVALID_ARGUMENT"


def test_azures_content_filter_error_names_its_code() -> None:
    error = adapter_for("azure").error(400, fixture("azure_error_content_filter.json"), {})
    assert error.type == "content_filter"
    assert "content management policy" in error.message


def test_a_validation_error_list_from_vllm_is_joined() -> None:
    payload = b'{"detail": [{"loc": ["body", "messages"], "msg": "field required"}]}'
    assert adapter_for("vllm").error(422, payload, {}).message == "field required"


def test_an_html_error_page_becomes_a_plain_status_message() -> None:
    error = adapter_for("openai").error(502, b"<html><body>Bad gateway</body></html>", {})
    assert error.message == "The provider answered HTTP 502."
    assert error.retryable


def test_a_provider_echoing_the_key_never_gets_it_to_the_client() -> None:
    key = "3f2a9c0d8e7b6a5f4e3d2c1b0a9f8e7d"  # an Azure-shaped key: 32 hex characters
    payload = f'{{"error": {{"message": "Key {key} has no access"}}}}'.encode()
    assert key not in adapter_for("azure").error(401, payload, {}, api_key=key).message
    assert key not in adapter_for("azure").error(401, payload, {}).message, "even unnamed"


@pytest.mark.parametrize(
    "leak",
    [
        "Authorization: Bearer sk-abc123def456",
        "header x-api-key: sk-ant-api03-AAAAAAAA",
        "https://generativelanguage.googleapis.com/v1beta/models/x?key=AIzaSyA0123456789abcdef",
        "api_key=abcd1234efgh5678",
        "token gsk_abcdefghijklmnop",
    ],
)
def test_anything_shaped_like_a_credential_is_scrubbed(leak: str) -> None:
    cleaned = scrub(leak)
    for secret in ("sk-abc", "AAAAAAAA", "AIzaSy", "abcd1234", "gsk_"):
        assert secret not in cleaned
    assert "[redacted]" in cleaned


def test_an_overlong_message_is_cut_short() -> None:
    assert len(scrub("word " * 1000)) == 500


def test_retry_after_as_an_http_date_counts_from_now() -> None:
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert retry_after_seconds({"retry-after": date}, now_s=now) == 30.0
    past = email.utils.formatdate(now - 30, usegmt=True)
    assert retry_after_seconds({"retry-after": past}, now_s=now) == 0.0


@pytest.mark.parametrize("value", ["soon", "-5", "nan", "inf"])
def test_a_retry_after_that_makes_no_sense_is_ignored(value: str) -> None:
    assert retry_after_seconds({"retry-after": value}) is None
