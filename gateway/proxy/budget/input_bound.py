"""Token bounds of a request before it runs: a proven upper bound of its prompt, and its output.

Why UTF-8 bytes bound prompt tokens without a tokenizer: the providers' text
tokenizers are byte-level BPE (OpenAI's o200k/cl100k, Claude's) or
SentencePiece with byte fallback (Gemini, Llama, Mistral). Every token such a
tokenizer emits for ordinary text covers at least one byte of it, so a text
never has more tokens than UTF-8 bytes. A tokenizer may normalise text first
(SentencePiece's NFKC can turn one character into up to 18), so a string
counts as the larger of its bytes and its NFKC form's bytes. Special tokens
(role markers, separators, the reply primer) are not in the text: the
per-request, per-message and per-part overheads below cover them, and tools
pay for the hidden prompts providers add for them.

Structures a provider renders into the prompt itself (tool definitions and
schemas, tool-call objects, response schemas) are counted as the JSON text
they can become: every string ASCII-escaped (never shorter than its UTF-8
bytes), keys and punctuation included, one newline and up to
`INDENT_PER_LEVEL` spaces per nesting level for every item.

Media are not text: an image costs a fixed allowance (IMAGE_TOKENS), audio its
base64 length, and content whose tokens no byte count bounds (PDFs, files by
id or URL, video) makes the prompt "as long as the model allows":
UNBOUNDED_PROMPT_TOKENS, which the worst-case cost caps at the model's
context window (pricing.worst_case_cost_nano). Server-side tools that pull
unbounded content into the prompt while the request runs (web search, code
execution, MCP servers) cannot be bounded at all: such a request is refused
(fail closed) rather than admitted on a guess.
"""

from __future__ import annotations

import mimetypes
import unicodedata
from json.encoder import encode_basestring_ascii
from typing import Any
from urllib.parse import urlsplit

from gateway.proxy.errors import InvalidRequest, UnboundedRequest
from gateway.proxy.pricing.model_price import ModelPrice
from gateway.shared.snapshot import BudgetDefaults

# Beginning-of-text, the reply primer ("<|im_start|>assistant"), template framing.
REQUEST_OVERHEAD = 64
# Role markers and separators of one message (OpenAI documents 3 to 4 tokens).
MESSAGE_OVERHEAD = 16
# Separators around one content part or block, or one embeddings input.
PART_OVERHEAD = 8
# The hidden tool-use prompt providers add when tools are present (Anthropic
# documents 313 to 346 tokens on Claude 4 models) plus the tool list framing.
TOOLS_OVERHEAD = 1_024
# An Anthropic-defined client tool brings a hidden definition of its own
# (computer use: 735 + 499 tokens, text editor: 700, bash: 245).
BUILTIN_TOOL_TOKENS = 2_048
# The dearest image any of OpenAI, Anthropic and Gemini bills: gpt-4o-mini's
# high-detail accounting, 2,833 + 8 tiles x 5,667 = 48,169 tokens (an image is
# scaled to fit 2048x2048 then 768px on the short side: at most 2x4 tiles of
# 512px). Patch-based OpenAI models bill at most 1,536 patches x 2.46, Claude
# about width x height / 750 after resizing (1,600 to 4,800), Gemini 258 per
# 768px tile or up to 1,120 at high media resolution. Rounded up to 2^16.
IMAGE_TOKENS = 65_536
# Content whose tokens bytes cannot bound: the prompt may be as long as the
# model accepts. Above every context window we price (the largest is 2M).
UNBOUNDED_PROMPT_TOKENS = 10_000_000
# Pretty-printed JSON: a newline and this many spaces per nesting level per item.
INDENT_PER_LEVEL = 4
# Above any model's output limit; a larger request limit is nonsense.
MAX_OUTPUT_LIMIT = 100_000_000
# OpenAI's documented maximum of `n` (choices per request).
MAX_CHOICES = 128

# Where a string is text the model reads as written; elsewhere it is rendered JSON.
_TEXT_KEYS = frozenset({"content", "text", "system", "arguments", "thinking", "data"})
# Subtrees the provider renders as JSON whatever their keys are.
_RENDERED_KEYS = frozenset({"tools", "functions", "tool_choice", "response_format", "input"})
# Anthropic-defined tools that run on the client, by type prefix.
_CLIENT_TOOL_PREFIXES = ("bash_", "text_editor_", "computer_", "memory_")
# Fields that make a provider fetch content into the prompt while the request runs.
_SERVER_CONTENT_FIELDS = ("web_search_options", "search_parameters", "mcp_servers")
_MEDIA_WORDS = ("image", "audio", "video", "file", "document", "pdf", "media")
_VIDEO_HOSTS = ("youtube.com", "youtu.be")


def input_token_bound(payload: dict[str, Any], dialect: str, operation: str) -> int:
    """Return an upper bound of the prompt tokens any provider will count for this request."""
    if operation == "embeddings":
        return REQUEST_OVERHEAD + _embeddings_bound(payload.get("input"))
    _refuse_server_content(payload, dialect)
    counter = _Counter()
    counter.walk(payload)
    total = REQUEST_OVERHEAD + counter.tokens
    messages = payload.get("messages")
    if isinstance(messages, list):
        total += MESSAGE_OVERHEAD * len(messages)
    tools = [*_list(payload.get("tools")), *_list(payload.get("functions"))]
    if tools:
        total += TOOLS_OVERHEAD + BUILTIN_TOOL_TOKENS * sum(map(_is_builtin_tool, tools))
    if counter.unbounded:
        total += UNBOUNDED_PROMPT_TOKENS
    return total


def requested_max_output_tokens(payload: dict[str, Any], dialect: str) -> int | None:
    """Return the request's own output limit per choice, or None if it sets none.

    When it sets none, the caller must write the limit it reserved for into
    the upstream request, or a provider may generate more than was reserved.
    """
    names = ("max_tokens",) if dialect == "anthropic" else ("max_completion_tokens", "max_tokens")
    # OpenAI-compatible providers read one or the other; the larger bounds both.
    limits = [_limit(payload[n], n) for n in names if payload.get(n) is not None]
    return max(limits) if limits else None


def max_output_tokens(
    payload: dict[str, Any],
    dialect: str,
    operation: str,
    defaults: BudgetDefaults | None,
    price: ModelPrice | None,
) -> int | None:
    """Return the most output tokens the request can be billed; None = unknown (refuse it).

    The limit is the request's own, else the org's default, else the model's
    maximum; times `n` choices, plus a predicted output's tokens (OpenAI bills
    rejected prediction tokens as output).
    """
    if operation == "embeddings":
        return 0
    limit = requested_max_output_tokens(payload, dialect)
    if limit is None and defaults is not None:
        default = defaults.get("default_max_output_tokens")
        limit = None if default is None else _limit(default, "default_max_output_tokens")
    if limit is None and price is not None:
        limit = price.max_output_tokens
    if limit is None:
        return None
    if dialect == "anthropic":
        return limit
    return limit * _choices(payload) + _prediction_bound(payload.get("prediction"))


def _limit(value: object, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidRequest(f"'{name}' must be a positive integer.", param=name)
    if value > MAX_OUTPUT_LIMIT:
        raise InvalidRequest(f"'{name}' may not exceed {MAX_OUTPUT_LIMIT}.", param=name)
    return value


def _choices(payload: dict[str, Any]) -> int:
    n = payload.get("n")
    if n is None:
        return 1
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_CHOICES:
        raise InvalidRequest(f"'n' must be an integer from 1 to {MAX_CHOICES}.", param="n")
    return n


def _prediction_bound(prediction: object) -> int:
    if prediction is None:
        return 0
    counter = _Counter()
    counter.walk(prediction)
    return counter.tokens


def _embeddings_bound(given: object) -> int:
    """Bound the tokens of an embeddings `input`: texts by their bytes, token ids one each."""
    items = given if isinstance(given, list) else [given]
    if items and all(_is_token_id(i) for i in items):
        items = [items]  # one input given as token ids
    total = 0
    for item in items:
        total += PART_OVERHEAD
        if isinstance(item, str):
            total += _text_weight(item)
        elif isinstance(item, list) and all(_is_token_id(i) for i in item):
            total += len(item)
        else:
            counter = _Counter()  # not a documented shape: count all of it
            counter.walk(item)
            total += counter.tokens
    return total


def _is_token_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _is_builtin_tool(tool: object) -> bool:
    kind = tool.get("type") if isinstance(tool, dict) else None
    return isinstance(kind, str) and kind.startswith(_CLIENT_TOOL_PREFIXES)


def _refuse_server_content(payload: dict[str, Any], dialect: str) -> None:
    for field in _SERVER_CONTENT_FIELDS:
        # Present at all is enough: OpenAI turns search on with `web_search_options: {}`.
        if payload.get(field) is not None:
            raise UnboundedRequest(
                f"'{field}' lets the provider add content of unknown length to the prompt,"
                " so no budget can cover the request.",
                param=field,
            )
    client_types = ("custom",) if dialect == "anthropic" else ("function", "custom")
    for tool in _list(payload.get("tools")):
        kind = tool.get("type") if isinstance(tool, dict) else None
        # No type: a custom (Anthropic) or function (OpenAI) tool, or one the provider refuses.
        if kind is None or kind in client_types or _is_builtin_tool(tool):
            continue
        raise UnboundedRequest(
            f"The server tool {kind!r} adds content of unknown length to the prompt while the"
            " request runs, so no budget can cover the request.",
            param="tools",
        )


def _text_weight(text: str) -> int:
    size = len(text.encode("utf-8", "surrogatepass"))
    if text.isascii() or unicodedata.is_normalized("NFKC", text):
        return size
    return max(size, len(unicodedata.normalize("NFKC", text).encode("utf-8", "surrogatepass")))


def _rendered_weight(text: str) -> int:
    # The ASCII-escaped JSON string (quotes included) is never shorter than its UTF-8 bytes.
    return max(len(encode_basestring_ascii(text)), _text_weight(text) + 2)


def _scalar_weight(value: object) -> int:
    if isinstance(value, bool) or value is None:
        return 5
    if isinstance(value, int):
        return abs(value).bit_length() // 3 + 2  # at least its decimal digits and a sign
    if isinstance(value, float):
        return len(repr(value))
    return 0


class _Counter:
    """Walks a JSON value once (iteratively: payloads may nest deeply), adding up its weight."""

    def __init__(self) -> None:
        self.tokens = 0
        self.unbounded = False

    def walk(self, root: object) -> None:
        # (value, rendered: inside a structure the provider renders as JSON, key, depth)
        stack: list[tuple[object, bool, str | None, int]] = [(root, False, None, 0)]
        while stack:
            value, rendered, key, depth = stack.pop()
            item_overhead = 3 + INDENT_PER_LEVEL * depth if rendered else 1
            if isinstance(value, str):
                text_mode = not rendered and key in _TEXT_KEYS
                self.tokens += _text_weight(value) if text_mode else _rendered_weight(value)
            elif isinstance(value, dict):
                # Media are parts of messages; inside a rendered structure (a tool call's
                # arguments) a {"type": "image"} is data like any other and counted whole.
                skip = _NOTHING if rendered else self._media(value)
                self.tokens += 2 + (PART_OVERHEAD if isinstance(value.get("type"), str) else 0)
                for k, v in value.items():
                    name = str(k)
                    if name in skip:
                        continue
                    self.tokens += _rendered_weight(name) + item_overhead
                    stack.append((v, rendered or name in _RENDERED_KEYS, name, depth + 1))
            elif isinstance(value, list):
                self.tokens += 2
                for v in value:
                    self.tokens += item_overhead
                    stack.append((v, rendered, key, depth + 1))
            else:
                self.tokens += _scalar_weight(value)

    def _media(self, part: dict[Any, Any]) -> frozenset[str]:
        """Count a media part or block by its own rule; return the keys its rule replaces."""
        kind = part.get("type")
        if not isinstance(kind, str):
            return _NOTHING
        if kind in ("image_url", "input_image", "image"):
            media_type = _image_media_type(part)
            if media_type is not None and not media_type.startswith("image/"):
                self.unbounded = True  # a PDF or video sent as an "image" (Gemini reads it)
            self.tokens += IMAGE_TOKENS
            return _IMAGE_KEYS
        if kind == "input_audio":
            audio = part.get("input_audio")
            data = audio.get("data") if isinstance(audio, dict) else None
            # No audio format these APIs take has under 1,000 bytes (1,333 base64
            # characters) per second; no provider bills over 32 tokens per second.
            self.tokens += len(data) if isinstance(data, str) else 0
            return _AUDIO_KEYS
        if kind in ("file", "input_file", "document", "container_upload"):
            if _is_text_document(part):
                return _NOTHING  # its text travels in the request: walked like any text
            self.unbounded = True
            return _FILE_KEYS
        if any(word in kind for word in _MEDIA_WORDS):
            self.unbounded = True  # a kind of media this module does not know: fail closed
        return _NOTHING


_NOTHING: frozenset[str] = frozenset()
_IMAGE_KEYS = frozenset({"image_url", "source"})
_AUDIO_KEYS = frozenset({"input_audio"})
_FILE_KEYS = frozenset({"file", "source", "file_id", "file_data"})


def _image_media_type(part: dict[Any, Any]) -> str | None:
    """Return the media type an image part declares or implies, if any."""
    source = part.get("source")
    if isinstance(source, dict):  # Anthropic
        media_type = source.get("media_type")
        url = source.get("url")
        if isinstance(media_type, str):
            return media_type.lower()
        return _url_media_type(url) if isinstance(url, str) else None
    image = part.get("image_url")
    url = image.get("url") if isinstance(image, dict) else image
    return _url_media_type(url) if isinstance(url, str) else None


def _url_media_type(url: str) -> str | None:
    if url.startswith("data:"):
        return url[5:].partition(",")[0].split(";")[0].lower() or None
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host.endswith(_VIDEO_HOSTS):
        return "video/*"
    return mimetypes.guess_type(parts.path)[0]


def _is_text_document(part: dict[Any, Any]) -> bool:
    """Tell whether a document's content is text carried in the request itself."""
    source = part.get("source")
    if isinstance(source, dict):  # Anthropic document blocks
        kind = source.get("type")
        if kind in ("text", "content"):
            return True
        return kind == "base64" and _is_text_type(source.get("media_type"))
    file = part.get("file")
    data = file.get("file_data") if isinstance(file, dict) else None
    # A base64 text file: its base64 is longer than the bytes it encodes.
    return isinstance(data, str) and data.startswith("data:") and _is_text_type(data[5:])


def _is_text_type(media_type: object) -> bool:
    return isinstance(media_type, str) and media_type.lower().startswith("text/")
