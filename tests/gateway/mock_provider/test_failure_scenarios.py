"""Each failure mode, asked for by header or by model name, as a client sees it."""

from __future__ import annotations

import httpx
import orjson
import pytest

from tests.gateway.mock_provider.conftest import (
    ANTHROPIC,
    GEMINI,
    OPENAI,
    TIMEOUT_S,
    chat,
    recorded,
    sse_events,
    sse_json,
)
from tests.polling import eventually


def _scenario(value: str) -> dict[str, str]:
    return {**OPENAI, "x-mock-scenario": value}


def _wait_for_disconnects(client: httpx.Client, count: int) -> None:
    eventually(
        lambda: recorded(client)["disconnects"] == count, 15, f"{count} disconnects recorded"
    )


def _read_until_cut(client: httpx.Client, path: str, body: object, headers: dict[str, str]) -> str:
    """Read a streamed answer the server drops; return what arrived before the cut."""
    received = b""
    with (
        pytest.raises(httpx.RemoteProtocolError),
        client.stream("POST", path, json=body, headers=headers) as response,
    ):
        assert response.status_code == 200
        for part in response.iter_raw():
            received += part
    return received.decode()


def test_slow_delays_the_answer_by_the_asked_milliseconds(mock: httpx.Client) -> None:
    # A minute's delay outlasts a client that waits half a second (no clock
    # read: the timeout is the test); the mock sees it leave.
    with pytest.raises(httpx.ReadTimeout):
        mock.post("/v1/chat/completions", json=chat(), headers=_scenario("slow:60000"), timeout=0.5)
    _wait_for_disconnects(mock, 1)
    assert mock.post("/v1/chat/completions", json=chat(), headers=OPENAI).status_code == 200


@pytest.mark.parametrize(
    ("path", "body", "headers", "status", "error_type"),
    [
        ("/v1/chat/completions", chat(model="mock-error-500"), OPENAI, 500, "server_error"),
        (
            "/v1/messages",
            {"model": "claude-mock-error-529", "max_tokens": 5, "messages": []},
            ANTHROPIC,
            529,
            "overloaded_error",
        ),
        ("/v1beta/models/gemini-mock-error-503:generateContent", {}, GEMINI, 503, "UNAVAILABLE"),
    ],
)
def test_an_error_model_answers_in_the_providers_own_error_shape(
    mock: httpx.Client,
    path: str,
    body: object,
    headers: dict[str, str],
    status: int,
    error_type: str,
) -> None:
    response = mock.post(path, json=body, headers=headers)
    assert response.status_code == status
    error = response.json()["error"]
    assert error_type in (error.get("type"), error.get("status"))


def test_error_429_says_when_to_retry(mock: httpx.Client) -> None:
    response = mock.post("/v1/chat/completions", json=chat(), headers=_scenario("error-429"))
    assert response.status_code == 429
    assert response.headers["retry-after"] == "1"
    assert response.json()["error"]["code"] == "rate_limit_exceeded"
    later = mock.post("/v1/chat/completions", json=chat(model="mock-error-429-retry-after-9"),
                      headers=OPENAI)  # fmt: skip
    assert later.headers["retry-after"] == "9"


def test_timeout_holds_the_request_until_the_client_gives_up(mock: httpx.Client) -> None:
    with pytest.raises(httpx.ReadTimeout):
        mock.post("/v1/chat/completions", json=chat(), headers=_scenario("timeout"), timeout=0.3)
    _wait_for_disconnects(mock, 1)


def test_timeout_lets_the_worker_go_with_a_504_after_its_limit(mock: httpx.Client) -> None:
    # After MOCK_PROVIDER_TIMEOUT_S (TIMEOUT_S here), well inside the client's wait.
    response = mock.post(
        "/v1/chat/completions",
        json=chat(model="mock-timeout"),
        headers=OPENAI,
        timeout=TIMEOUT_S + 30,
    )
    assert response.status_code == 504
    assert response.headers["connection"] == "close"


def test_cut_stream_drops_the_connection_before_done(mock: httpx.Client) -> None:
    body = chat(model="mock-cut-stream", stream=True)
    received = _read_until_cut(mock, "/v1/chat/completions", body, OPENAI)
    assert len(sse_json(received)) == 3  # the role chunk and two content chunks
    assert "[DONE]" not in received


def test_cut_stream_stops_anthropic_before_message_stop(mock: httpx.Client) -> None:
    body = {"model": "claude-mock", "max_tokens": 50, "stream": True,
            "messages": [{"role": "user", "content": "Hello"}]}  # fmt: skip
    headers = {**ANTHROPIC, "x-mock-scenario": "cut-stream"}
    received = _read_until_cut(mock, "/v1/messages", body, headers)
    names = [name for name, _ in sse_events(received)]
    assert names[0] == "message_start"
    assert "content_block_delta" in names
    assert "message_stop" not in names


def test_cut_stream_truncates_a_whole_answer(mock: httpx.Client) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        mock.post("/v1/chat/completions", json=chat(), headers=_scenario("cut-stream"))


def test_malformed_chunk_puts_one_invalid_json_event_mid_stream(mock: httpx.Client) -> None:
    body = chat(stream=True)
    response = mock.post("/v1/chat/completions", json=body, headers=_scenario("malformed-chunk"))
    datas = [data for _, data in sse_events(response.text)]
    broken = []
    for index, data in enumerate(datas[:-1]):
        try:
            orjson.loads(data)
        except orjson.JSONDecodeError:
            broken.append(index)
    assert broken == [2]  # after the role chunk and the first content chunk
    assert datas[-1] == "[DONE]"


def test_malformed_chunk_makes_a_whole_answer_invalid_json(mock: httpx.Client) -> None:
    response = mock.post("/v1/chat/completions", json=chat(model="mock-malformed-chunk"),
                         headers=OPENAI)  # fmt: skip
    assert response.status_code == 200
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(response.content)


def test_pause_sends_each_chunk_before_the_next_one_exists(mock: httpx.Client) -> None:
    # The second event is a minute away: the first arrives on its own, so it
    # was sent before the next one existed (a buffering mock would time out).
    headers = _scenario("pause:60000,chunks:2")
    body = chat(stream=True)
    with mock.stream("POST", "/v1/chat/completions", json=body, headers=headers) as response:
        first = next(line for line in response.iter_lines() if line.startswith("data: "))
    assert orjson.loads(first[6:])["choices"][0]["delta"]["role"] == "assistant"
    _wait_for_disconnects(mock, 1)  # and it stops there when the client leaves


def test_chunks_sets_the_number_of_content_chunks_and_output_tokens(mock: httpx.Client) -> None:
    body = chat(model="mock-chunks-20", stream=True, stream_options={"include_usage": True})
    chunks = sse_json(mock.post("/v1/chat/completions", json=body, headers=OPENAI).text)
    contents = [c["choices"][0]["delta"]["content"] for c in chunks[1:-2]]
    assert len(contents) == 20
    assert chunks[-1]["usage"]["completion_tokens"] == 20
    whole = mock.post("/v1/chat/completions", json=chat(model="mock-chunks-20"), headers=OPENAI)
    assert whole.json()["choices"][0]["message"]["content"] == "".join(contents)


def test_a_client_leaving_mid_stream_stops_the_stream_and_is_counted(mock: httpx.Client) -> None:
    body = chat(stream=True)
    with mock.stream("POST", "/v1/chat/completions", json=body,
                     headers=_scenario("pause:100,chunks:200")) as response:  # fmt: skip
        lines = response.iter_lines()
        assert next(lines).startswith("data: ")
    _wait_for_disconnects(mock, 1)


def test_a_client_leaving_while_slow_is_counted(mock: httpx.Client) -> None:
    with pytest.raises(httpx.ReadTimeout):
        mock.post("/v1/chat/completions", json=chat(), headers=_scenario("slow:5000"), timeout=0.2)
    _wait_for_disconnects(mock, 1)


def test_an_unknown_scenario_header_is_a_400(mock: httpx.Client) -> None:
    response = mock.post("/v1/chat/completions", json=chat(), headers=_scenario("explode"))
    assert response.status_code == 400
    assert "explode" in response.json()["error"]["message"]
