"""The carry-over window: streamed redaction equals the non-streamed one, whatever the splits."""

from __future__ import annotations

import random

import orjson
import pytest

from gateway.proxy.errors import PiiScanFailed
from gateway.proxy.pii.redactor import Redactor
from gateway.proxy.pii.stream import AnthropicStreamRewriter, OpenAIStreamRewriter
from gateway.proxy.pii.window import MAX_WINDOW, WindowRedactor
from tests.factories.pii import compiled_policy

FIXTURES = [
    "Contact me at bob.smith@example.com or call +1 (415) 555-0132 tomorrow.",
    "My card is 4111 1111 1111 1111 and my SSN is 123-45-6789, thanks!",
    "IBAN GB82 WEST 1234 5698 7654 32 for the transfer; server at 192.168.10.20.",
    "Passport number: X12345678 issued 2020. Employee EMP-123456 here.",
    "Plain prose without anything personal in it at all, just words.",
    "card 4111\u200b1111\u200b1111\u200b1111 full \uff14\uff11\uff11\uff11 1111 1111 1111 end",
    "Order 12345678 shipped v2.3.1 on 2024-01-05 for $19.99; tracking 1Z999AA10123456784.",
    '{"email": "ann@example.org", "phone": "+44 20 7946 0958", "ip": "2001:db8::1"}',
    "Two in a row: a@b.co,c@d.io and then 378282246310005 (amex).",
    "line one 4111 1111\n1111 1111 next line\n\nsecond paragraph jane@example.com",
]


POLICY = compiled_policy()


def streamed(pieces: list[str]) -> str:
    window = WindowRedactor(Redactor(POLICY))
    return "".join(window.feed(piece) for piece in pieces) + window.flush()


@pytest.mark.parametrize("text", FIXTURES)
def test_every_split_point_gives_the_non_streamed_output(text: str) -> None:
    whole = Redactor(POLICY).redact(text, "answer")
    for cut in range(1, len(text)):
        assert streamed([text[:cut], text[cut:]]) == whole, cut


@pytest.mark.parametrize("text", FIXTURES)
def test_random_multi_splits_and_one_character_deltas_give_the_same_output(text: str) -> None:
    whole = Redactor(POLICY).redact(text, "answer")
    assert streamed(list(text)) == whole
    rng = random.Random(text)
    for _ in range(100):
        cuts = sorted(rng.sample(range(1, len(text)), min(6, len(text) - 1)))
        pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
        assert streamed(pieces) == whole, cuts


def test_the_fixtures_do_hold_entities() -> None:
    assert sum(Redactor(POLICY).redact(text, "answer") != text for text in FIXTURES) >= 8


def test_plain_prose_is_released_as_soon_as_the_next_word_begins() -> None:
    window = WindowRedactor(Redactor(POLICY))
    assert window.feed("Hello there, ") == "Hello there, "
    assert window.feed("how") == ""  # could still become how@…
    assert window.feed(" are") == "how "


def test_number_groups_are_held_until_they_cannot_grow() -> None:
    window = WindowRedactor(Redactor(POLICY))
    assert window.feed("card 4111 ") == "card "
    assert window.feed("1111 1111 ") == ""
    assert window.feed("1111 thanks") == "[CREDIT_CARD] "
    assert window.flush() == "thanks"


def test_the_hold_back_never_exceeds_one_window() -> None:
    window = WindowRedactor(Redactor(POLICY))
    released = window.feed("1 " * 400)
    assert len(released) >= 800 - MAX_WINDOW - 2


def test_pseudonym_tokens_split_across_deltas_are_restored() -> None:
    redactor = Redactor(compiled_policy(restore=True))
    # A restore vault as the prompt would leave it (pseudonymize needs a key: put one in).
    redactor.vault["<EMAIL_abc123>"] = "ann@example.org"
    window = WindowRedactor(redactor)
    text = "Write to <EMAIL_abc123> today."
    for cut in range(1, len(text)):
        window = WindowRedactor(redactor)
        out = window.feed(text[:cut]) + window.feed(text[cut:]) + window.flush()
        assert out == "Write to ann@example.org today."


def _openai_events(text: str, arguments: str) -> bytes:
    def chunk(delta: dict[str, object], finish: str | None = None) -> bytes:
        body = {
            "id": "c",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return b"data: " + orjson.dumps(body) + b"\n\n"

    out = [chunk({"role": "assistant", "content": ""})]
    out += [chunk({"content": word}) for word in text.split(" ") for word in (word + " ",)]
    out += [
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
        for piece in (arguments[:7], arguments[7:19], arguments[19:])
    ]
    out.append(chunk({}, "stop"))
    out.append(b'data: {"choices":[],"usage":{"completion_tokens":9}}\n\n')
    out.append(b"data: [DONE]\n\n")
    return b"".join(out)


def _read_openai(raw: bytes) -> tuple[str, str]:
    text, arguments = "", ""
    for line in raw.split(b"\n"):
        if not line.startswith(b"data: {"):
            continue
        for choice in orjson.loads(line[6:]).get("choices") or ():
            delta = choice["delta"]
            text += delta.get("content") or ""
            for call in delta.get("tool_calls") or ():
                arguments += call["function"]["arguments"]
    return text, arguments


def test_openai_sse_is_rewritten_whatever_the_byte_splits() -> None:
    text = "Mail bob@example.com or call (415) 555-0132 now"
    arguments = orjson.dumps({"to": "bob@example.com", "card": "4111 1111 1111 1111"}).decode()
    raw = _openai_events(text, arguments)
    rng = random.Random(7)
    for _ in range(50):
        rewriter = OpenAIStreamRewriter(Redactor(POLICY))
        cuts = sorted(rng.sample(range(1, len(raw)), 8))
        pieces = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True)]
        out = b"".join(rewriter.feed(piece) for piece in pieces)
        out += rewriter.finish() + rewriter.feed(b": x-selixes-cost-usd=0.000001\n\n")
        got_text, got_arguments = _read_openai(out)
        assert got_text == Redactor(POLICY).redact(text + " ", "answer")
        assert orjson.loads(got_arguments) == {"to": "[EMAIL]", "card": "[CREDIT_CARD]"}
        assert out.endswith(b"data: [DONE]\n\n: x-selixes-cost-usd=0.000001\n\n")
        assert b'"usage":{"completion_tokens":9}' in out


def test_anthropic_sse_flushes_each_block_before_it_stops() -> None:
    def event(name: str, body: dict[str, object]) -> bytes:
        return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(body) + b"\n\n"

    words = ["Reach ", "me: ", "bob@", "example.", "com"]
    raw = event("message_start", {"type": "message_start", "message": {"usage": {}}})
    raw += event(
        "content_block_start",
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    )
    for word in words:
        raw += event(
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": word},
            },
        )
    raw += event("content_block_stop", {"type": "content_block_stop", "index": 0})
    raw += event(
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn"},
            "usage": {"output_tokens": 5},
        },
    )
    raw += event("message_stop", {"type": "message_stop"})
    rewriter = AnthropicStreamRewriter(Redactor(POLICY))
    out = rewriter.feed(raw) + rewriter.finish()
    text = ""
    stopped = False
    for block in out.split(b"\n\n"):
        if b"content_block_stop" in block:
            stopped = True
        if b"text_delta" in block:
            assert not stopped, "text after its block stopped"
            text += orjson.loads(block.split(b"data: ", 1)[1])["delta"]["text"]
    assert text == "Reach me: [EMAIL]"
    assert b'"output_tokens":5' in out


def test_an_event_that_cannot_be_read_is_never_passed_on() -> None:
    rewriter = OpenAIStreamRewriter(Redactor(POLICY))
    with pytest.raises(PiiScanFailed):
        rewriter.feed(b'data: {"choices": [{"delta": {"content": "bob@example.com\n\n')
    assert rewriter.feed(b": keep-alive\n\n") == b": keep-alive\n\n"


@pytest.mark.parametrize(
    ("rewriter", "event"),
    [
        (OpenAIStreamRewriter, b'data: "bob@example.com"\n\n'),
        (OpenAIStreamRewriter, b'data: ["bob@example.com"]\n\n'),
        (OpenAIStreamRewriter, b'data: {"choices": "bob@example.com"}\n\n'),
        (OpenAIStreamRewriter, b'data: {"choices": ["bob@example.com"]}\n\n'),
        (OpenAIStreamRewriter, b'data: {"choices": [{"delta": "bob@example.com"}]}\n\n'),
        (AnthropicStreamRewriter, b'event: content_block_delta\ndata: "bob@example.com"\n\n'),
        (
            AnthropicStreamRewriter,
            b'event: content_block_delta\ndata: {"type": "content_block_delta",'
            b' "index": 0, "delta": "bob@example.com"}\n\n',
        ),
        (
            AnthropicStreamRewriter,
            b'event: content_block_delta\ndata: {"type": "content_block_delta",'
            b' "index": 0, "delta": {"type": "new_delta", "text": "bob@example.com"}}\n\n',
        ),
        (
            AnthropicStreamRewriter,
            b'event: content_block_start\ndata: {"type": "content_block_start",'
            b' "index": 0, "content_block": "bob@example.com"}\n\n',
        ),
    ],
)
def test_it_refuses_an_event_whose_shape_it_does_not_know_instead_of_passing_it_on(
    rewriter: type[OpenAIStreamRewriter] | type[AnthropicStreamRewriter], event: bytes
) -> None:
    with pytest.raises(PiiScanFailed, match="shape"):
        rewriter(Redactor(POLICY)).feed(event)
