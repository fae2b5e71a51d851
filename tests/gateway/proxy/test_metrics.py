"""The proxy's metrics: on their own loopback port, summed over every worker, never on :8080.

CONTRACT.md section 5. A scrape reaches the one worker that holds the
metrics port; with PROMETHEUS_MULTIPROC_DIR (as `make run` sets it) it must
show the counts of all of them. The tenant-facing port must not show any
of it: there every tenant would read every other's deployment ids and
breaker states.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
import pytest

from tests.factories.pii import EMAIL, set_policy
from tests.gateway.proxy.conftest import Gateway, serving_proxy

pytestmark = pytest.mark.django_db(transaction=True)
SERIES = 'selixes_pii_redactions_total{action="mask",entity="EMAIL",where="prompt"} '


def _counted(text: str) -> float:
    lines = [line for line in text.splitlines() if line.startswith(SERIES)]
    return float(lines[0].removeprefix(SERIES)) if lines else 0.0


def test_every_scrape_of_the_metrics_port_sums_the_counters_of_all_worker_processes(
    gateway: Gateway, tmp_path: Path
) -> None:
    set_policy(gateway, entities={"EMAIL": "mask"})
    with serving_proxy(workers="2", PROMETHEUS_MULTIPROC_DIR=str(tmp_path)) as proxy:

        def redacted() -> None:
            # A new connection each time: whichever worker accepts it serves it.
            answered = httpx.post(
                f"{proxy.url}/v1/chat/completions",
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
        scrapes = [_counted(httpx.get(f"{proxy.metrics_url}/metrics").text) for _ in range(8)]
    assert scrapes == [float(sent)] * 8


@pytest.mark.parametrize("with_key", [False, True])
def test_the_tenant_port_answers_404_for_metrics(gateway: Gateway, with_key: bool) -> None:
    gateway.openai().chat.completions.create(
        model="chat", messages=[{"role": "user", "content": "hello"}]
    )
    headers = {"authorization": f"Bearer {gateway.key}"} if with_key else {}
    answered = httpx.get(f"{gateway.proxy_url}/metrics", headers=headers, timeout=10)

    assert answered.status_code == 404
    error = answered.json()["error"]
    assert set(error) == {"message", "type", "code", "param"}
    assert error["type"] == "not_found_error"
    assert "selixes_" not in answered.text
    # The same proxy still shows its metrics, on the metrics port.
    assert "selixes_routing_deployments" in gateway.metrics()


def test_the_metrics_port_listens_on_loopback_only(gateway: Gateway) -> None:
    port = int(gateway.metrics_url.rsplit(":", 1)[1])
    listening = {
        conn.laddr.ip
        for conn in psutil.net_connections(kind="inet")
        if conn.status == psutil.CONN_LISTEN
        and conn.laddr  # an empty tuple when unbound
        and conn.laddr.port == port
    }
    assert listening == {"127.0.0.1"}
