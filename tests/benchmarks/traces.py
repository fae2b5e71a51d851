"""Observability on in `make bench`: what keeping a trace adds, through the proxy and in process.

`trace_org(org_id)` publishes an org's snapshot with observability on and
today's data key, as web will (the toggle's own publishing is another
lane's); `main()` times, in process, the whole of a trace's work for one
request of a 2 KB body and a 2 KB answer: capture, the payload's JSON, the
data key from the cache, AES-256-GCM and the envelope.
"""

from __future__ import annotations

import base64
import os
import statistics
import time
from typing import Any

import orjson
import redis

from gateway.proxy.context import RequestContext
from gateway.proxy.trace.seal import TraceSealer
from gateway.shared.crypto import MasterKeys, data_key_context
from gateway.shared.snapshot import CHANNEL, snapshot_key
from gateway.shared.traces import new_data_key

ANSWER_TEXT = ("The trace keeps the request as sent and the answer as returned. " * 27)[:1700]


def say(text: str) -> str:
    return "say:" + base64.b64encode(text.encode()).decode()


def request_2kb() -> bytes:
    """A ~2 KB chat request the mock answers with a ~2 KB answer (ANSWER_TEXT verbatim)."""
    return orjson.dumps(
        {"model": "gpt-demo", "messages": [{"role": "user", "content": say(ANSWER_TEXT)}]}
    )


def observability_part(org_id: str, master: MasterKeys) -> dict[str, Any]:
    now = time.time()
    days = {time.strftime("%Y-%m-%d", time.gmtime(now + shift)) for shift in (-3600, 0, 3600)}
    return {
        "enabled": True,
        "projects": {},
        "data_keys": {
            day: master.seal(new_data_key(), data_key_context(org_id, day)) for day in days
        },
    }


def trace_org(org_id: str) -> None:
    """Turn observability on in the org's published snapshot (a newer version, announced)."""
    client: Any = redis.Redis.from_url(os.environ["REDIS_URL"])
    master = MasterKeys.parse(os.environ["SELIXES_MASTER_KEYS"])
    snapshot = orjson.loads(client.hget(snapshot_key(org_id), "body"))
    snapshot["observability"] = observability_part(org_id, master)
    snapshot["version"] += 1
    client.hset(
        snapshot_key(org_id),
        mapping={"version": snapshot["version"], "body": orjson.dumps(snapshot)},
    )
    client.publish(CHANNEL, f"{org_id}:{snapshot['version']}")
    client.close()


def main() -> None:
    """Time a trace's whole work for one 2 KB request and 2 KB answer, in process."""
    master = MasterKeys.parse("k1:" + base64.b64encode(os.urandom(32)).decode())
    org_id = "bench-org"
    tenant: Any = {
        "org_id": org_id,
        "observability": observability_part(org_id, master),
    }
    key: Any = {"project_id": "p"}
    body = orjson.dumps(
        {"model": "gpt-mock", "messages": [{"role": "user", "content": say(ANSWER_TEXT)}]}
    )
    answer = orjson.dumps(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1,
            "model": "gpt-demo",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": ANSWER_TEXT},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 10, "completion_tokens": 300, "total_tokens": 310},
        }
    )
    sealer = TraceSealer(master)
    off: Any = {"org_id": org_id}
    decisions: list[float] = []
    for _ in range(20000):
        ctx = RequestContext(request_id="r", method="POST", path="/v1/chat/completions")
        ctx.tenant, ctx.key = off, key
        started = time.perf_counter()
        sealer.begin(ctx)  # off: the decision, and nothing else happens
        decisions.append(time.perf_counter() - started)
        assert ctx.trace is None
    print(
        "observability off, in process: the per-request decision costs"
        f" {statistics.median(decisions) * 1e6:.2f} us p50; nothing is captured"
    )
    timings: list[float] = []
    for _ in range(5000):
        started = time.perf_counter()
        ctx = RequestContext(
            request_id=os.urandom(16).hex(), method="POST", path="/v1/chat/completions"
        )
        ctx.tenant, ctx.key = tenant, key
        sealer.begin(ctx)
        assert ctx.trace is not None
        ctx.trace.sent(body)
        ctx.trace.answer_bytes(answer)
        event: Any = {}
        sealer.settle(ctx, event)
        timings.append(time.perf_counter() - started)
        assert "trace" in event
    p50 = statistics.median(timings) * 1000
    p99 = statistics.quantiles(timings, n=100)[98] * 1000
    print(
        f"trace work in process ({len(body)} B request, {len(answer)} B answer: capture, JSON,"
        f" cached key, AES-256-GCM, envelope): {p50:.4f} ms p50, {p99:.4f} ms p99"
    )


if __name__ == "__main__":
    main()
