"""/metrics of a proxy served by several worker processes on one port.

A scrape reaches whichever worker accepts it; with PROMETHEUS_MULTIPROC_DIR
(as `make run` sets it) every scrape must show the counts of all of them.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from infra.run import uvicorn_command
from tests.proxy.conftest import Gateway, proxy_env
from tests.proxy.test_pii_redaction import EMAIL, set_policy
from tests.servers import free_port, serving

pytestmark = pytest.mark.django_db(transaction=True)
SERIES = 'selixes_pii_redactions_total{action="mask",entity="EMAIL",where="prompt"} '


def _counted(text: str) -> float:
    lines = [line for line in text.splitlines() if line.startswith(SERIES)]
    return float(lines[0].removeprefix(SERIES)) if lines else 0.0


def test_every_scrape_sums_the_counters_of_all_worker_processes(
    gateway: Gateway, tmp_path: Path
) -> None:
    set_policy(gateway, entities={"EMAIL": "mask"})
    port = free_port()
    env = proxy_env(PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    with serving(uvicorn_command("gateway.proxy.asgi:app", port, "2"), port, env, "proxy") as url:

        def redacted() -> None:
            # A new connection each time: whichever worker accepts it serves it.
            answered = httpx.post(
                f"{url}/v1/chat/completions",
                headers={"authorization": f"Bearer {gateway.key}"},
                json={"model": "chat", "messages": [{"role": "user", "content": EMAIL}]},
                timeout=10,
            )
            assert answered.status_code == 200, answered.text

        # The kernel may hand a run of sequential connections to one worker:
        # send concurrent batches until both workers have counted some.
        sent = 0
        with ThreadPoolExecutor(max_workers=8) as pool:
            while sent < 400 and len(list(tmp_path.glob("counter_*.db"))) < 2:
                list(pool.map(lambda _: redacted(), range(8)))
                sent += 8
        assert len(list(tmp_path.glob("counter_*.db"))) == 2  # both workers counted
        scrapes = [_counted(httpx.get(f"{url}/metrics").text) for _ in range(8)]
    assert scrapes == [float(sent)] * 8
