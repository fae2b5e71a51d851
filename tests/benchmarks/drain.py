"""`make bench-drain`: usage events per second the drain writes from one worker process.

    .venv/bin/python -m tests.benchmarks.drain [--events N] [--batch B]

Pushes N usage events on the embedded Redis's usage stream, as proxies write
them (one org, 20 keys over 4 projects, 5 models, 3% errors; half of them
charged to two budget counters, so half book a ledger entry; one in five
carries a 4 KiB sealed trace), then times drain_usage_stream in this one
process until the stream is empty: reading the stream, parsing, the COPY,
the partitioned log, traces, rollups and ledger in one transaction per
batch, the acknowledgements. Issue 14's target: at least 10,000 events/s.
The machine is shared (PostgreSQL and Redis run on the same cores): compare
runs of one machine.
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import sys
import time
import uuid

import django
import orjson
import psutil

from infra import devenv

STREAM_CHUNK = 5000


def _events(n: int, org_id: str, now: float) -> list[bytes]:
    rng = random.Random(14)
    projects = [str(uuid.uuid4()) for _ in range(4)]
    keys = [(str(uuid.uuid4()), projects[i % 4]) for i in range(20)]
    models = ["gpt-4o-mini", "gpt-4o", "claude-3-5-haiku", "claude-sonnet-4", "llama-3-70b"]
    windows = [f"{uuid.uuid4()}:d20261207", f"{uuid.uuid4()}:m202612"]
    sealed = base64.b64encode(os.urandom(4096)).decode()
    day = time.strftime("%Y-%m-%d", time.gmtime(now))
    events = []
    for i in range(n):
        key_id, project_id = keys[rng.randrange(len(keys))]
        model = models[rng.randrange(len(models))]
        failed = rng.random() < 0.03
        event: dict[str, object] = {
            "ts": now - rng.random() * 60,
            "request_id": uuid.uuid4().hex,
            "org_id": org_id,
            "project_id": project_id,
            "team_id": None,
            "key_id": key_id,
            "user_id": None,
            "endpoint": "/v1/chat/completions",
            "model_requested": model,
            "model_dispatched": None if failed else model,
            "provider": "openai",
            "deployment_id": "r1:0",
            "stream": bool(i % 2),
            "status": 502 if failed else 200,
            "error_type": "upstream_error" if failed else None,
            "input_tokens": rng.randrange(10, 3000),
            "output_tokens": rng.randrange(1, 1000),
            "cached_input_tokens": 0,
            "reasoning_tokens": 0,
            "latency_ms": rng.randrange(50, 8000),
            "ttfb_ms": rng.randrange(20, 500),
            "cost_usd": f"0.{rng.randrange(1, 999999):06d}",
            "attempts": [
                {"deployment_id": "r1:0", "provider": "openai", "model": model,
                 "outcome": "http_502" if failed else "ok", "latency_ms": 100,
                 "endpoint": "api.openai.com", "health": "closed"}
            ],
            "client_disconnected": False,
            "charged_nano": 1500 if i % 2 else 0,
            "windows": windows if i % 2 else [],
            "routing_version": 42,
            "platform_fee_usd": "0.000010",
        }  # fmt: skip
        if i % 5 == 0:
            event["trace"] = {"day": day, "sealed": sealed}
        events.append(orjson.dumps(event))
    return events


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=None)
    args = parser.parse_args(argv)
    devenv.prepare()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from config.redis import get_redis
    from gateway.shared.usage_event import STREAM
    from observability import drain
    from tenants.models import Organization

    call_command("migrate", "--noinput", verbosity=0)
    org, _ = Organization.objects.get_or_create(
        slug="bench-drain", defaults={"name": "Bench drain"}
    )
    if args.batch:
        drain.BATCH = args.batch
    client = get_redis()
    drain.drain_usage_stream(client)  # whatever waited before: not ours to time
    events = _events(args.events, str(org.id), time.time())
    for start in range(0, len(events), STREAM_CHUNK):
        pipe = client.pipeline(transaction=False)
        for raw in events[start : start + STREAM_CHUNK]:
            pipe.xadd(STREAM, {"e": raw})
        pipe.execute()
    # The CPU the three processes spend, which waiting for a core on a loaded
    # machine does not inflate: the worker, its PostgreSQL backend, Redis.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = psutil.Process(cursor.fetchone()[0])
    redis_server = psutil.Process(int(client.info("server")["process_id"]))
    processes = [psutil.Process(), backend, redis_server]
    cpu0, began = [_cpu_s(p) for p in processes], time.perf_counter()
    written = 0
    while client.xlen(STREAM):
        written += drain.drain_usage_stream(client)
    elapsed = time.perf_counter() - began
    worker, database, streams = (
        (_cpu_s(p) - before) * 1e6 / written for p, before in zip(processes, cpu0, strict=True)
    )
    total = worker + database + streams
    print(f"drain: {written} events in {elapsed:.2f} s = {written / elapsed:,.0f} events/s"
          f" (batch {drain.BATCH}; 50% with a ledger entry, 20% with a 4 KiB trace;"
          f" load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")  # fmt: skip
    # Idle cores: nothing overlapped, one event costs the sum; the worker's
    # parsing (read ahead in its second thread) fully overlapped with the
    # database, the larger of the two.
    overlapped = max(worker, database + streams)
    print(f"CPU per event: worker {worker:.0f} us + PostgreSQL backend {database:.0f} us"
          f" + Redis {streams:.0f} us = {total:.0f} us; on idle cores one worker would do"
          f" {1e6 / total:,.0f} (nothing overlapped) to at most {1e6 / overlapped:,.0f}"
          " events/s")  # fmt: skip
    return 0 if written == args.events else 1


def _cpu_s(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
