"""An incremental Server-Sent Events parser: bytes in any split, events out.

Follows the WHATWG event-stream rules the providers rely on: lines end in LF,
CRLF or CR; a blank line dispatches the event; `data` lines join with LF; a
line starting with ':' is a comment (keep-alives); `id` and `retry` are
ignored (the proxy never reconnects). A line, and an event's data, longer
than `max_bytes` is refused, so a hostile upstream cannot grow our memory
without limit by never sending a newline.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.proxy.errors import StreamProtocolError

# Far above any real chunk (a Gemini chunk carrying an inline image is the
# largest we know of), far below what would hurt a proxy process.
DEFAULT_MAX_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class SSEEvent:
    event: str  # "" when the stream named none (the spec's "message")
    data: bytes  # the event's data lines, joined with b"\n"


class SSEParser:
    """Parse an event stream fed in arbitrary pieces."""

    __slots__ = ("_data", "_data_size", "_event", "_max", "_partial", "_skip_lf")

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._max = max_bytes
        self._partial = b""
        # A CR ended the previous piece: an LF opening the next one belongs to it.
        self._skip_lf = False
        self._event = ""
        self._data: list[bytes] = []
        self._data_size = 0

    def feed(self, data: bytes) -> list[SSEEvent]:
        """Take the next bytes; return the events they complete."""
        if self._skip_lf and data:
            self._skip_lf = False
            if data[0] == 0x0A:
                data = data[1:]
        buf = self._partial + data if self._partial else data
        if b"\r" in buf:
            # Rare (Gemini sends CRLF): normalise once rather than scan per line.
            if buf.endswith(b"\r"):
                self._skip_lf = True
            buf = buf.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = buf.split(b"\n")
        self._partial = lines.pop()
        if len(self._partial) > self._max:
            raise StreamProtocolError(f"An event-stream line exceeds {self._max} bytes.")
        events: list[SSEEvent] = []
        for line in lines:
            self._line(line, events)
        return events

    def close(self) -> list[SSEEvent]:
        """End of stream: refuse a cut line; dispatch an event that lacks only its blank line."""
        if self._partial:
            raise StreamProtocolError("The event stream ended in the middle of a line.")
        events: list[SSEEvent] = []
        self._dispatch(events)
        return events

    def _line(self, line: bytes, events: list[SSEEvent]) -> None:
        if not line:
            self._dispatch(events)
            return
        if len(line) > self._max:
            raise StreamProtocolError(f"An event-stream line exceeds {self._max} bytes.")
        if line[0] == 0x3A:  # ':' a comment
            return
        name, colon, value = line.partition(b":")
        if colon and value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            self._data_size += len(value) + 1
            if self._data_size > self._max:
                raise StreamProtocolError(f"An event's data exceeds {self._max} bytes.")
            self._data.append(value)
        elif name == b"event":
            self._event = value.decode("utf-8", "replace")

    def _dispatch(self, events: list[SSEEvent]) -> None:
        if self._data:
            data = self._data[0] if len(self._data) == 1 else b"\n".join(self._data)
            events.append(SSEEvent(self._event, data))
        self._event = ""
        self._data = []
        self._data_size = 0
