"""`make bench`: the proxy under load, side by side with a baseline, in one run.

Until the mock provider lands (the proxy issue), the comparison is the
proxy's authenticated path (`GET /v1/models`: record + auth stages, snapshot
cache) against a bare ASGI app that answers the same bytes on the same
server settings, and reports requests per second, latency p50/p99 and
memory per proxy process. Numbers on shared 2-core machines are noisy:
compare the ratios of one run.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import httpx
import psutil

from infra import devenv
from infra.run import uvicorn_command
from tests.proxy.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
DURATION_S = float(os.environ.get("BENCH_SECONDS", "5"))
WORKERS = os.environ.get("SELIXES_PROXY_WORKERS", "1")


async def _load(url: str, headers: dict[str, str]) -> tuple[float, list[float], int]:
    """Send requests from CONNECTIONS loops for DURATION_S; return rps, latencies, errors."""
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + DURATION_S
    connector = aiohttp.TCPConnector(limit=CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def loop() -> None:
            nonlocal errors
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                async with session.get(url) as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - started)

        began = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(CONNECTIONS)))
        elapsed = time.perf_counter() - began
    return len(latencies) / elapsed, latencies, errors


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000


def _serve(app: str) -> tuple[subprocess.Popen[bytes], str]:
    """Start `app` under uvicorn with the proxy's production flags; wait until it answers."""
    port = free_port()
    process = subprocess.Popen(
        uvicorn_command(app, port, WORKERS),
        cwd=ROOT,
        env=os.environ.copy(),
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{app} did not start")


def main() -> int:
    devenv.prepare()
    bootstrap = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "bootstrap",
            "--org",
            "Bench",
            "--email",
            "bench@selixes.local",
            "--password",
            "bench-password-123",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    key = json.loads(bootstrap.stdout)["api_key"]
    bare, bare_url = _serve("tests.benchmarks.bare_app:app")
    proxy, proxy_url = _serve("gateway.proxy.asgi:app")
    try:
        auth = {"authorization": f"Bearer {key}"}
        asyncio.run(_load(f"{proxy_url}/v1/models", auth))  # warm-up: caches, connections
        asyncio.run(_load(f"{bare_url}/v1/models", {}))
        rows = [
            ("bare ASGI app", *asyncio.run(_load(f"{bare_url}/v1/models", auth))),
            ("proxy /v1/models", *asyncio.run(_load(f"{proxy_url}/v1/models", auth))),
        ]
        processes = [psutil.Process(proxy.pid), *psutil.Process(proxy.pid).children(recursive=True)]
        serving = [p for p in processes if p.pid != proxy.pid] or processes
        rss = [p.memory_info().rss / 1024 / 1024 for p in serving]
    finally:
        for process in (bare, proxy):
            process.terminate()
            process.wait(timeout=10)
    print(f"proxy workers: {WORKERS}, connections: {CONNECTIONS}, {DURATION_S:.0f} s per row")
    print(f"{'endpoint':<22}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for name, rps, latencies, errors in rows:
        p50, p99 = _pct(latencies, 50), _pct(latencies, 99)
        print(f"{name:<22}{rps:>10.0f}{p50:>10.2f}{p99:>10.2f}{errors:>8}")
    base_p50 = _pct(rows[0][2], 50)
    print(
        f"the proxy adds {(_pct(rows[1][2], 50) - base_p50):.2f} ms p50; "
        f"throughput ratio {rows[1][1] / rows[0][1]:.2f}"
    )
    print("memory per proxy process (RSS MiB): " + ", ".join(f"{r:.1f}" for r in rss))
    return 0


if __name__ == "__main__":
    sys.exit(main())
