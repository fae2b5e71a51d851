"""The policy applied to text and to every request and answer shape the proxy accepts."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import os
from typing import Any

import orjson
import pytest

from gateway.proxy.errors import InvalidRequest, PiiBlocked, PiiScanFailed
from gateway.proxy.pii import detect
from gateway.proxy.pii.content import MAX_DEPTH, redact_answer, redact_request
from gateway.proxy.pii.policy import CompiledPolicy, PolicyCache, compile_policy
from gateway.proxy.pii.redactor import MAX_NER_CHARS, Redactor, token_for
from gateway.proxy.pii.spans import Finding
from gateway.shared.crypto import MasterKeys, pii_secret_context
from gateway.shared.snapshot import PiiPolicyEntry

EMAIL = "ann.lee@example.org"
CARD = "4111 1111 1111 1111"
SECRET = b"s" * 32


def policy(
    entities: dict[str, str],
    patterns: list[dict[str, str]] | None = None,
    restore: bool = False,
    secret: bytes | None = SECRET,
) -> CompiledPolicy:
    master = MasterKeys({"k": os.urandom(32)}, "k")
    sealed = master.seal(secret, pii_secret_context("org")) if secret else None
    entry: PiiPolicyEntry = {
        "enabled": True,
        "entities": entities,
        "custom_patterns": patterns or [],  # type: ignore[typeddict-item]
        "restore_in_response": restore,
    }
    compiled = compile_policy(entry, "org", sealed, master)
    assert compiled is not None
    return compiled


def test_mask_uses_the_type_name() -> None:
    redactor = Redactor(policy({"EMAIL": "mask", "CREDIT_CARD": "mask"}))
    assert redactor.redact(f"{EMAIL} paid with {CARD}.", "prompt") == (
        "[EMAIL] paid with [CREDIT_CARD]."
    )
    assert redactor.header() == "CREDIT_CARD:mask:1,EMAIL:mask:1"


def test_pseudonyms_are_the_hmac_of_type_and_value() -> None:
    redactor = Redactor(policy({"EMAIL": "pseudonymize"}))
    digest = hmac.new(SECRET, f"EMAIL\0{EMAIL}".encode(), hashlib.sha256).hexdigest()
    assert redactor.redact(f"to {EMAIL}", "prompt") == f"to <EMAIL_{digest[:6]}>"
    # Stable across requests of the org; another org's key gives another token.
    assert Redactor(policy({"EMAIL": "pseudonymize"})).redact(EMAIL, "prompt") == (
        f"<EMAIL_{digest[:6]}>"
    )
    other = Redactor(policy({"EMAIL": "pseudonymize"}, secret=b"o" * 32))
    assert other.redact(EMAIL, "prompt") != f"<EMAIL_{digest[:6]}>"


def test_pseudonymize_without_a_key_fails_closed() -> None:
    compiled = policy({"EMAIL": "pseudonymize"}, secret=None)
    with pytest.raises(PiiScanFailed):
        compiled.check()


def test_a_block_names_the_type_never_the_value() -> None:
    redactor = Redactor(policy({"US_SSN": "block"}))
    with pytest.raises(PiiBlocked) as raised:
        redactor.redact("ssn 123-45-6789", "prompt")
    assert "US_SSN" in raised.value.message and "6789" not in raised.value.message
    # In an answer it is masked and counted as blocked.
    assert Redactor(policy({"US_SSN": "block"})).redact("ssn 123-45-6789", "answer") == (
        "ssn [US_SSN]"
    )


def test_allowed_types_are_left_alone_and_win_their_overlaps() -> None:
    redactor = Redactor(policy({"EMAIL": "allow", "PHONE": "mask"}))
    assert redactor.redact(f"{EMAIL} or (415) 555-0132", "prompt") == f"{EMAIL} or [PHONE]"
    assert (
        compile_policy(
            {
                "enabled": True,
                "entities": {"EMAIL": "allow"},
                "custom_patterns": [],
                "restore_in_response": False,
            },
            "org",
            None,
            None,
        )
        is None
    )


def test_obfuscated_cards_are_replaced_at_their_original_offsets() -> None:
    redactor = Redactor(policy({"CREDIT_CARD": "mask"}))
    zero_width = "4111\u200b1111\u200c1111\u200d1111"
    full_width = "\uff14\uff11\uff11\uff11 \uff11\uff11\uff11\uff11 1111 1111"
    assert redactor.redact(f"a {zero_width} b {full_width} c", "prompt") == (
        "a [CREDIT_CARD] b [CREDIT_CARD] c"
    )


def test_custom_patterns_run_on_folded_text() -> None:
    redactor = Redactor(
        policy({}, patterns=[{"name": "EMPLOYEE_ID", "regex": r"EMP-\d{6}", "action": "mask"}])
    )
    assert redactor.redact("badge EMP-\uff11\uff12\uff13456 ok", "prompt") == (
        "badge [EMPLOYEE_ID] ok"
    )


def test_a_pattern_that_does_not_compile_fails_closed() -> None:
    compiled = policy(
        {"EMAIL": "mask"}, patterns=[{"name": "BAD", "regex": "(a", "action": "mask"}]
    )
    with pytest.raises(PiiScanFailed):
        compiled.check()


def test_restore_puts_back_only_the_prompts_pseudonyms() -> None:
    redactor = Redactor(policy({"EMAIL": "pseudonymize", "PHONE": "mask"}, restore=True))
    prompt = redactor.redact(f"write to {EMAIL} or (415) 555-0132", "prompt")
    token = prompt.split()[2]
    answer = f"I wrote to {token} and to bob@example.com; [PHONE] is unknown"
    restored = redactor.redact(answer, "answer")
    assert restored.startswith(f"I wrote to {EMAIL} and to <EMAIL_")
    assert "bob@example.com" not in restored and restored.endswith("[PHONE] is unknown")


def test_the_policy_cache_follows_snapshot_versions_and_projects() -> None:
    cache = PolicyCache(None)
    org_policy: PiiPolicyEntry = {
        "enabled": True,
        "entities": {"EMAIL": "mask"},
        "custom_patterns": [],
        "restore_in_response": False,
    }
    tenant: Any = {
        "org_id": "o",
        "version": 1,
        "projects": {
            "p2": {"rpm_limit": None, "tpm_limit": None, "pii": {**org_policy, "enabled": False}}
        },
        "pii": org_policy,
    }
    key: Any = {"project_id": "p1"}
    first = cache.policy_for(tenant, key)
    assert first is not None and cache.policy_for(tenant, key) is first
    other_project: Any = {"project_id": "p2"}
    assert cache.policy_for(tenant, other_project) is None  # its own, disabled
    # Projects without a policy of their own share the org's compiled one.
    project_without_policy: Any = {"project_id": "p3"}
    assert cache.policy_for(tenant, project_without_policy) is first
    newer: Any = {**tenant, "version": 2, "pii": {**org_policy, "enabled": False}}
    assert cache.policy_for(newer, key) is None


def _scan(redactor: Redactor) -> Any:
    return lambda text: redactor.redact(text, "prompt")


def test_every_openai_chat_text_is_scanned() -> None:
    payload: dict[str, Any] = {
        "model": "m",
        "user": EMAIL,
        "messages": [
            {"role": "system", "content": EMAIL},
            {"role": "developer", "content": [{"type": "text", "text": EMAIL}]},
            {
                "role": "user",
                "name": "ann",
                "content": [
                    {"type": "text", "text": EMAIL},
                    {"type": "image_url", "image_url": {"url": f"https://x.test/{EMAIL}"}},
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "refusal": EMAIL,
                "tool_calls": [
                    {
                        "id": "c",
                        "type": "function",
                        "function": {
                            "name": "f",
                            "arguments": orjson.dumps({"name": EMAIL, "n": 1}).decode(),
                        },
                    }
                ],
                "function_call": {"name": "g", "arguments": "not json " + EMAIL},
            },
            {"role": "tool", "tool_call_id": "c", "content": EMAIL},
        ],
    }
    redact_request(payload, "chat", "openai", _scan(Redactor(policy({"EMAIL": "mask"}))))
    text = orjson.dumps(payload).decode()
    # Only the image URL (binary attachments are not scanned) still holds it.
    assert text.count(EMAIL) == 1 and f"x.test/{EMAIL}" in text
    assert orjson.loads(payload["messages"][3]["tool_calls"][0]["function"]["arguments"]) == {
        "name": "[EMAIL]",
        "n": 1,
    }
    assert payload["messages"][3]["function_call"]["arguments"] == "not json [EMAIL]"
    assert payload["messages"][2]["name"] == "ann"


def test_every_anthropic_text_is_scanned_and_binary_left_alone() -> None:
    image = base64.b64encode(b"\x89PNG" + EMAIL.encode()).decode()
    payload: dict[str, Any] = {
        "model": "m",
        "system": [{"type": "text", "text": EMAIL}],
        "metadata": {"user_id": EMAIL},
        "messages": [
            {"role": "user", "content": EMAIL},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "t", "signature": "sig"},
                    {"type": "text", "text": EMAIL},
                    {
                        "type": "tool_use",
                        "id": "t",
                        "name": "f",
                        "input": {"a": [{"b": EMAIL}], "type": EMAIL},
                    },
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "t",
                        "content": [{"type": "text", "text": EMAIL}],
                    },
                    {"type": "tool_result", "tool_use_id": "u", "content": EMAIL},
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": image},
                    },
                    {
                        "type": "document",
                        "source": {"type": "text", "media_type": "text/plain", "data": EMAIL},
                    },
                ],
            },
        ],
    }
    original = copy.deepcopy(payload)
    redact_request(payload, "chat", "anthropic", _scan(Redactor(policy({"EMAIL": "mask"}))))
    assert EMAIL not in orjson.dumps(payload).decode()
    assert payload["messages"][1]["content"][2]["input"] == {
        "a": [{"b": "[EMAIL]"}],
        "type": "[EMAIL]",
    }
    assert payload["messages"][2]["content"][2] == original["messages"][2]["content"][2]
    assert payload["messages"][1]["content"][0] == original["messages"][1]["content"][0]


def test_embeddings_strings_are_scanned_and_token_ids_pass() -> None:
    redactor = Redactor(policy({"EMAIL": "mask"}))
    payload: dict[str, Any] = {"input": [EMAIL, [1, 2], 3]}
    redact_request(payload, "embeddings", "openai", _scan(redactor))
    assert payload["input"] == ["[EMAIL]", [1, 2], 3]
    single: dict[str, Any] = {"input": EMAIL}
    redact_request(single, "embeddings", "openai", _scan(redactor))
    assert single["input"] == "[EMAIL]"


def test_nesting_deeper_than_the_bound_is_refused() -> None:
    nested: Any = {"type": "text", "text": EMAIL}
    for _ in range(MAX_DEPTH + 1):
        nested = {"type": "x", "content": [nested]}
    payload: dict[str, Any] = {"messages": [{"role": "user", "content": [nested]}]}
    with pytest.raises(InvalidRequest, match="nested"):
        redact_request(payload, "chat", "openai", _scan(Redactor(policy({"EMAIL": "mask"}))))


def test_answers_are_scanned_in_both_forms() -> None:
    redactor = Redactor(policy({"EMAIL": "mask"}))
    completion: dict[str, Any] = {
        "choices": [
            {
                "message": {
                    "role": "assistant",
                    "content": f"mail {EMAIL}",
                    "tool_calls": [
                        {
                            "function": {
                                "name": "f",
                                "arguments": orjson.dumps({"to": EMAIL}).decode(),
                            }
                        }
                    ],
                },
                "logprobs": {"content": [{"token": EMAIL}]},
            }
        ]
    }
    redact_answer(completion, "openai", lambda text: redactor.redact(text, "answer"))
    assert EMAIL not in orjson.dumps(completion).decode()
    assert completion["choices"][0]["logprobs"] is None
    message: dict[str, Any] = {
        "content": [
            {"type": "text", "text": f"mail {EMAIL}"},
            {"type": "tool_use", "id": "t", "name": "f", "input": {"to": EMAIL}},
        ]
    }
    redact_answer(message, "anthropic", lambda text: redactor.redact(text, "answer"))
    assert message["content"][0]["text"] == "mail [EMAIL]"
    assert message["content"][1]["input"] == {"to": "[EMAIL]"}
    assert {(r["entity"], r["where"]) for r in redactor.audit()} == {("EMAIL", "answer")}


def test_a_token_is_six_hex_digits() -> None:
    assert len(token_for(SECRET, "PERSON", "Ada")) == len("<PERSON_3f2a9c>")


def test_text_over_the_ner_allowance_is_refused_before_any_scanning() -> None:
    # The allowance is counted first: megabytes of digits under a names
    # policy once took seconds of validator work just to be refused.
    scanned: list[int] = []

    def counting_detect(text: str, entities: frozenset[str]) -> list[Finding]:
        scanned.append(len(text))
        return detect(text, entities)

    names = Redactor(policy({"PERSON": "mask", "PHONE": "mask"}), detect=counting_detect)
    with pytest.raises(InvalidRequest) as refused:
        names.redact("1234 " * (MAX_NER_CHARS // 5 + 1), "prompt")
    assert refused.value.code == "pii_text_too_large"
    assert scanned == []
    names.redact("call 415-555-0132", "answer")
    assert scanned == [len("call 415-555-0132")]  # the counter does count a scan


def test_only_the_prompt_counts_against_the_ner_allowance() -> None:
    # An answer was paid for: however long, it is redacted, never refused.
    names = Redactor(policy({"PERSON": "mask"}), max_ner_chars=100)
    text = "Please ask Ann Lee about the invoice before Friday, thanks a lot. "  # 66 characters
    names.redact(text, "prompt")
    assert names.redact(text * 3, "answer").count("[PERSON]") == 3
    with pytest.raises(InvalidRequest) as refused:
        names.redact(text, "prompt")  # 132 characters of prompt in all
    assert refused.value.code == "pii_text_too_large"
