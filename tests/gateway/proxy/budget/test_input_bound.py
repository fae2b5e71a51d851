"""Token bounds of a request: the prompt bound is never below what a provider can count."""

from __future__ import annotations

import base64
import unicodedata
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.proxy.budget.input_bound import (
    IMAGE_TOKENS,
    TOOLS_OVERHEAD,
    UNBOUNDED_PROMPT_TOKENS,
    input_token_bound,
    max_output_tokens,
    requested_max_output_tokens,
)
from gateway.proxy.errors import InvalidRequest, UnboundedRequest
from gateway.proxy.pricing import ModelPrice
from gateway.shared.snapshot import BudgetDefaults

texts = st.text(max_size=300)
PRICE = ModelPrice(1, 1, 1, 1, 1, max_output_tokens=4096)


def utf8(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def text_floor(text: str) -> int:
    """What any byte-level tokenizer can count for a text: no more than its (normalised) bytes."""
    return max(len(text), utf8(text), utf8(unicodedata.normalize("NFKC", text)))


def chat(*messages: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"model": "alias", "messages": list(messages), **fields}


def image_part(size: int) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": "data:image/png;base64," + "A" * size}}


@st.composite
def openai_messages(draw: st.DrawFn) -> tuple[list[dict[str, Any]], int]:
    """Messages with string or part-list content; returns them and the floor of their text."""
    messages: list[dict[str, Any]] = []
    floor = 0
    for _ in range(draw(st.integers(1, 6))):
        role = draw(st.sampled_from(["system", "user", "assistant", "tool"]))
        if draw(st.booleans()):
            content: Any = draw(texts)
            floor += text_floor(content)
        else:
            parts = draw(st.lists(texts, max_size=4))
            content = [{"type": "text", "text": t} for t in parts]
            floor += sum(text_floor(t) for t in parts)
        messages.append({"role": role, "content": content})
    return messages, floor


@st.composite
def anthropic_turns(draw: st.DrawFn) -> tuple[dict[str, Any], int]:
    """An Anthropic Messages body with nested blocks (tool use and results); its text floor."""
    system = draw(texts)
    floor = text_floor(system)
    turns: list[dict[str, Any]] = []
    for index in range(draw(st.integers(1, 4))):
        said, question, result, argument = (draw(texts) for _ in range(4))
        floor += sum(text_floor(t) for t in (said, question, result, argument))
        turns.append(
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": said},
                    {
                        "type": "tool_use",
                        "id": f"t{index}",
                        "name": "lookup",
                        "input": {"query": argument},
                    },
                ],
            }
        )
        turns.append(
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": f"t{index}",
                        "content": [{"type": "text", "text": result}],
                    },
                    {"type": "text", "text": question},
                ],
            }
        )
    body = {"model": "alias", "max_tokens": 100, "system": system, "messages": turns}
    return body, floor


@given(openai_messages())
def test_the_bound_is_at_least_every_character_and_byte_of_the_messages(
    drawn: tuple[list[dict[str, Any]], int],
) -> None:
    messages, floor = drawn
    assert input_token_bound(chat(*messages), "openai", "chat") >= floor


@given(anthropic_turns())
def test_nested_anthropic_blocks_are_all_counted(drawn: tuple[dict[str, Any], int]) -> None:
    body, floor = drawn
    assert input_token_bound(body, "anthropic", "chat") >= floor


@given(openai_messages(), texts)
def test_one_more_message_never_lowers_the_bound(
    drawn: tuple[list[dict[str, Any]], int], extra: str
) -> None:
    messages, _ = drawn
    before = input_token_bound(chat(*messages), "openai", "chat")
    after = input_token_bound(chat(*messages, {"role": "user", "content": extra}), "openai", "chat")
    assert after >= before + text_floor(extra)


@given(st.lists(texts, min_size=1, max_size=5))
def test_tool_definitions_and_call_arguments_count_as_their_json(descriptions: list[str]) -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": f"tool_{i}",
                "description": d,
                "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
            },
        }
        for i, d in enumerate(descriptions)
    ]
    arguments = orjson.dumps({"q": descriptions[0]}).decode()
    call = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "c1",
                "type": "function",
                "function": {"name": "tool_0", "arguments": arguments},
            }
        ],
    }
    payload = chat({"role": "user", "content": "hi"}, call, tools=tools)
    tool_json = len(orjson.dumps(tools))
    bound = input_token_bound(payload, "openai", "chat")
    assert bound >= TOOLS_OVERHEAD + tool_json + utf8(arguments)


@given(st.integers(0, 200_000), st.integers(1, 5))
def test_an_image_costs_its_allowance_whatever_its_size(size: int, count: int) -> None:
    parts: list[dict[str, Any]] = [{"type": "text", "text": "what is this?"}]
    parts += [image_part(size) for _ in range(count)]
    bound = input_token_bound(chat({"role": "user", "content": parts}), "openai", "chat")
    assert count * IMAGE_TOKENS <= bound < count * IMAGE_TOKENS + 1_000


def test_anthropic_image_blocks_and_url_images_cost_the_allowance() -> None:
    block = {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "x"}}
    url = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
    body = {"model": "a", "max_tokens": 5, "messages": [{"role": "user", "content": [block]}]}
    assert input_token_bound(body, "anthropic", "chat") >= IMAGE_TOKENS
    assert input_token_bound(chat({"role": "user", "content": [url]}), "openai", "chat") >= (
        IMAGE_TOKENS
    )


@pytest.mark.parametrize(
    "part",
    [
        {"type": "file", "file": {"file_id": "file-abc"}},
        {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBERi0="}},
        {"type": "image_url", "image_url": {"url": "https://example.com/talk.mp4"}},
        {"type": "image_url", "image_url": {"url": "https://www.youtube.com/watch?v=x"}},
        {"type": "image_url", "image_url": {"url": "data:application/pdf;base64,JVBERi0="}},
        {"type": "video_url", "video_url": {"url": "https://example.com/v"}},
    ],
)
def test_content_bytes_cannot_bound_makes_the_prompt_as_long_as_the_model_allows(
    part: dict[str, Any],
) -> None:
    bound = input_token_bound(chat({"role": "user", "content": [part]}), "openai", "chat")
    assert bound >= UNBOUNDED_PROMPT_TOKENS


def test_anthropic_pdf_documents_are_unbounded_and_text_documents_are_counted() -> None:
    pdf = {"type": "document", "source": {"type": "base64", "media_type": "application/pdf"}}
    text = "All work and no play. " * 50
    plain = {
        "type": "document",
        "source": {"type": "text", "media_type": "text/plain", "data": text},
        "title": "notes",
    }

    def bound(block: dict[str, Any]) -> int:
        body = {"model": "a", "max_tokens": 5, "messages": [{"role": "user", "content": [block]}]}
        return input_token_bound(body, "anthropic", "chat")

    assert bound(pdf) >= UNBOUNDED_PROMPT_TOKENS
    assert utf8(text) <= bound(plain) < UNBOUNDED_PROMPT_TOKENS


@given(st.binary(max_size=3000))
def test_audio_costs_at_least_one_token_per_base64_character(raw: bytes) -> None:
    data = base64.b64encode(raw).decode()
    part = {"type": "input_audio", "input_audio": {"data": data, "format": "wav"}}
    assert input_token_bound(chat({"role": "user", "content": [part]}), "openai", "chat") >= len(
        data
    )


@pytest.mark.parametrize(
    ("payload", "dialect"),
    [
        (chat({"role": "user", "content": "hi"}, web_search_options={}), "openai"),
        (
            chat({"role": "user", "content": "hi"}, web_search_options={"search_context_size": 1}),
            "openai",
        ),
        (
            {
                "model": "a",
                "max_tokens": 5,
                "messages": [{"role": "user", "content": "hi"}],
                "tools": [{"type": "web_search_20250305", "name": "web_search"}],
            },
            "anthropic",
        ),
        (
            {
                "model": "a",
                "max_tokens": 5,
                "messages": [{"role": "user", "content": "hi"}],
                "mcp_servers": [{"type": "url", "url": "https://mcp.example.com"}],
            },
            "anthropic",
        ),
    ],
)
def test_server_tools_that_fetch_content_are_refused(payload: dict[str, Any], dialect: str) -> None:
    with pytest.raises(UnboundedRequest) as refused:
        input_token_bound(payload, dialect, "chat")
    assert refused.value.status == 400
    assert refused.value.code == "unbudgetable_request"


def test_anthropic_client_tools_are_admitted_with_their_hidden_definitions() -> None:
    body = {
        "model": "a",
        "max_tokens": 5,
        "messages": [{"role": "user", "content": "list files"}],
        "tools": [{"type": "bash_20250124", "name": "bash"}, {"name": "f", "input_schema": {}}],
    }
    assert input_token_bound(body, "anthropic", "chat") >= TOOLS_OVERHEAD + 2_048


@given(st.lists(texts, min_size=1, max_size=5))
def test_embeddings_texts_are_bounded_by_their_bytes(inputs: list[str]) -> None:
    bound = input_token_bound({"model": "e", "input": inputs}, "openai", "embeddings")
    assert bound >= sum(text_floor(t) for t in inputs)
    single = input_token_bound({"model": "e", "input": inputs[0]}, "openai", "embeddings")
    assert single >= text_floor(inputs[0])


@given(st.lists(st.lists(st.integers(0, 200_000), max_size=50), min_size=1, max_size=5))
def test_embeddings_token_ids_count_one_each(inputs: list[list[int]]) -> None:
    ids = sum(len(i) for i in inputs)
    bound = input_token_bound({"model": "e", "input": inputs}, "openai", "embeddings")
    assert ids <= bound <= ids + 64 + 8 * len(inputs)
    if inputs[0]:
        flat = input_token_bound({"model": "e", "input": inputs[0]}, "openai", "embeddings")
        assert flat >= len(inputs[0])


def test_a_bound_is_found_for_deeply_nested_json() -> None:
    nested: Any = "leaf"
    for _ in range(5_000):
        nested = {"content": [nested]}
    assert input_token_bound(chat({"role": "user", "content": [nested]}), "openai", "chat") > 4


# --- output ------------------------------------------------------------------------------------


def defaults(max_output: int | None) -> BudgetDefaults:
    return {"timezone": "UTC", "default_price": None, "default_max_output_tokens": max_output}


def test_the_request_limit_comes_first() -> None:
    payload = chat({"role": "user", "content": "hi"}, max_completion_tokens=300)
    assert max_output_tokens(payload, "openai", "chat", defaults(50), PRICE) == 300
    assert requested_max_output_tokens(payload, "openai") == 300
    anthropic = {"model": "a", "max_tokens": 200, "messages": []}
    assert max_output_tokens(anthropic, "anthropic", "chat", defaults(50), PRICE) == 200


def test_both_openai_limits_given_bound_by_the_larger() -> None:
    payload = chat({"role": "user", "content": "hi"}, max_tokens=10, max_completion_tokens=20)
    assert max_output_tokens(payload, "openai", "chat", None, None) == 20


def test_without_a_request_limit_the_org_default_then_the_model_maximum_apply() -> None:
    payload = chat({"role": "user", "content": "hi"})
    assert requested_max_output_tokens(payload, "openai") is None
    assert max_output_tokens(payload, "openai", "chat", defaults(50), PRICE) == 50
    assert max_output_tokens(payload, "openai", "chat", defaults(None), PRICE) == 4096
    assert max_output_tokens(payload, "openai", "chat", None, ModelPrice(1, 1, 1, 1, 1)) is None
    assert max_output_tokens(payload, "openai", "chat", None, None) is None


def test_choices_multiply_the_output_and_predictions_add_to_it() -> None:
    payload = chat({"role": "user", "content": "hi"}, max_tokens=100, n=3)
    assert max_output_tokens(payload, "openai", "chat", None, None) == 300
    predicted = "def f():\n    return 1\n" * 10
    payload = chat(
        {"role": "user", "content": "hi"},
        max_tokens=100,
        prediction={"type": "content", "content": predicted},
    )
    bound = max_output_tokens(payload, "openai", "chat", None, None)
    assert bound is not None and bound >= 100 + utf8(predicted)


def test_embeddings_produce_no_output_tokens() -> None:
    assert max_output_tokens({"input": "x"}, "openai", "embeddings", None, None) == 0


@pytest.mark.parametrize("bad", [-1, 0, 1.5, True, "100", [100]])
@pytest.mark.parametrize("field", ["max_tokens", "max_completion_tokens"])
def test_nonsense_output_limits_are_refused(bad: object, field: str) -> None:
    payload = chat({"role": "user", "content": "hi"}, **{field: bad})
    with pytest.raises(InvalidRequest) as refused:
        max_output_tokens(payload, "openai", "chat", None, PRICE)
    assert refused.value.param == field
    assert refused.value.body()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize("bad", [0, -2, 2.0, False, "3", 129])
def test_nonsense_choice_counts_are_refused(bad: object) -> None:
    payload = chat({"role": "user", "content": "hi"}, max_tokens=5, n=bad)
    with pytest.raises(InvalidRequest) as refused:
        max_output_tokens(payload, "openai", "chat", None, PRICE)
    assert refused.value.param == "n"


def test_an_image_shaped_object_inside_tool_arguments_is_counted_whole() -> None:
    long_text = "x" * 200_000
    use = {
        "type": "tool_use",
        "id": "t1",
        "name": "draw",
        "input": {"type": "image", "source": long_text},
    }
    body = {"model": "a", "max_tokens": 5, "messages": [{"role": "assistant", "content": [use]}]}
    assert input_token_bound(body, "anthropic", "chat") >= len(long_text)


@given(st.lists(st.sampled_from(["\ufdfa", "\u3390", "\ufb03", "\u2474", "a", "é"]), max_size=200))
def test_text_a_tokenizer_may_normalise_counts_as_its_longer_form(chars: list[str]) -> None:
    # U+FDFA becomes 18 characters (33 bytes) under NFKC: its 3 bytes alone would undercount.
    text = "".join(chars)
    bound = input_token_bound(chat({"role": "user", "content": text}), "openai", "chat")
    assert bound >= utf8(unicodedata.normalize("NFKC", text))
