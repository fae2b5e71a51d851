"""The incremental SSE parser: any split of the bytes gives the same events."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.proxy.errors import StreamProtocolError
from gateway.proxy.formats.sse import SSEEvent, SSEParser


def parse(*pieces: bytes, max_bytes: int = 1 << 20) -> list[SSEEvent]:
    parser = SSEParser(max_bytes)
    events: list[SSEEvent] = []
    for piece in pieces:
        events.extend(parser.feed(piece))
    events.extend(parser.close())
    return events


# Field values without line breaks; data may be any text, including ':' and unicode.
values = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\r\n"),
    max_size=30,
)
events = st.lists(
    st.tuples(
        st.one_of(st.just(""), st.sampled_from(["message_start", "content_block_delta", "ping"])),
        st.lists(values, min_size=1, max_size=3),
        st.booleans(),  # a comment line before the event
    ),
    max_size=6,
)
newlines = st.sampled_from([b"\n", b"\r\n", b"\r"])


def serialise(items: list[tuple[str, list[str], bool]], newline: bytes) -> bytes:
    out = b""
    for name, data_lines, comment in items:
        if comment:
            out += b": keep-alive" + newline
        if name:
            out += b"event: " + name.encode() + newline
        for line in data_lines:
            out += b"data: " + line.encode() + newline
        out += newline
    return out


def expected(items: list[tuple[str, list[str], bool]]) -> list[SSEEvent]:
    return [SSEEvent(name, "\n".join(lines).encode()) for name, lines, _ in items]


@given(items=events, newline=newlines, data=st.data())
def test_events_come_out_the_same_however_the_bytes_are_split(
    items: list[tuple[str, list[str], bool]], newline: bytes, data: st.DataObject
) -> None:
    stream = serialise(items, newline)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    pieces = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    assert parse(*pieces) == expected(items)


@given(items=events, newline=newlines)
def test_events_come_out_the_same_when_fed_one_byte_at_a_time(
    items: list[tuple[str, list[str], bool]], newline: bytes
) -> None:
    stream = serialise(items, newline)
    assert parse(*(stream[i : i + 1] for i in range(len(stream)))) == expected(items)


def test_a_crlf_split_between_its_two_bytes_is_one_line_end() -> None:
    assert parse(b"data: a\r", b"\n\r", b"\ndata: b\r\n\r\n") == [
        SSEEvent("", b"a"),
        SSEEvent("", b"b"),
    ]


def test_only_one_space_after_the_colon_is_dropped() -> None:
    assert parse(b"data:x\n\ndata:  y\n\n") == [SSEEvent("", b"x"), SSEEvent("", b" y")]


def test_an_event_without_data_is_not_dispatched_and_does_not_leak_its_name() -> None:
    assert parse(b"event: ping\n\ndata: 1\n\n") == [SSEEvent("", b"1")]


def test_unknown_fields_and_ids_are_ignored() -> None:
    assert parse(b"id: 7\nretry: 10\nfoo: bar\ndata: z\n\n") == [SSEEvent("", b"z")]


def test_a_last_event_missing_only_its_blank_line_is_still_delivered() -> None:
    assert parse(b"data: [DONE]\n") == [SSEEvent("", b"[DONE]")]


def test_a_stream_cut_in_the_middle_of_a_line_is_refused() -> None:
    with pytest.raises(StreamProtocolError, match="middle of a line"):
        parse(b'data: {"a": 1}\n\ndata: {"b"')


def test_a_line_that_never_ends_is_refused_once_it_passes_the_limit() -> None:
    parser = SSEParser(max_bytes=64)
    parser.feed(b"data: " + b"x" * 50)
    with pytest.raises(StreamProtocolError, match="exceeds 64 bytes"):
        parser.feed(b"x" * 20)


def test_an_event_of_many_data_lines_is_refused_once_it_passes_the_limit() -> None:
    with pytest.raises(StreamProtocolError, match="event's data exceeds"):
        parse(b"data: 0123456789\n" * 10, max_bytes=64)


def test_a_long_complete_line_in_one_piece_is_refused_too() -> None:
    with pytest.raises(StreamProtocolError, match="exceeds"):
        parse(b": " + b"c" * 100 + b"\n\n", max_bytes=64)
