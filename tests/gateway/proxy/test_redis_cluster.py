# mypy: disable-error-code="arg-type,call-overload,attr-defined,union-attr"
"""The whole stack on a Redis Cluster: proxy processes and web both in cluster mode.

A local three-node cluster (infra/redis_cluster.py) stands in for Redis
Cluster or Upstash; the proxy runs with SELIXES_REDIS_CLUSTER=1 and web's
get_redis() returns a cluster client. What must hold there as on one Redis:
snapshots and their invalidation, budgets (admission, streamed settlement,
402), rate limits, the ledger, the rebuild after a FLUSHALL, the reaper and
reconciliation.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import openai
import pytest
from django.db import connection
from redis.cluster import RedisCluster

from config.redis import get_redis
from dashboard.ratelimit import count_attempt, counter_key
from gateway.budgets.ledger import reap_expired, rebuild_lost_counters, reconcile
from gateway.budgets.models import LedgerEntry
from gateway.shared import budget_layout as layout
from infra.redis_cluster import LocalRedisCluster
from infra.run import uvicorn_command
from observability.drain import drain_usage_stream
from tenants.snapshots import republish_stale_snapshots
from tests.conftest import Persona, api_client_for, create_key
from tests.factories.budgets import OUTPUT_ONLY, add_budget, budget_state, chat
from tests.gateway.proxy.conftest import PROVIDER_KEY, Gateway, proxy_env
from tests.polling import eventually
from tests.servers import free_port, serving

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.cluster]


@pytest.fixture(scope="module")
def cluster_proxy_url(redis_cluster: LocalRedisCluster) -> Iterator[str]:
    """Two proxy processes on the cluster; snapshots expire only by pub/sub notice."""
    port = free_port()
    env = proxy_env(
        REDIS_URL=redis_cluster.url,
        SELIXES_REDIS_CLUSTER="1",
        SELIXES_SNAPSHOT_MAX_AGE_S="3600",
    )
    with serving(uvicorn_command("gateway.proxy.asgi:app", port, "2"), port, env, "proxy") as url:
        yield url


@pytest.fixture
def web_on_cluster(settings: Any, redis_cluster: LocalRedisCluster) -> Iterator[RedisCluster]:
    get_redis.cache_clear()
    settings.REDIS_URL = redis_cluster.url
    settings.REDIS_CLUSTER = True
    client = get_redis()
    assert isinstance(client, RedisCluster)
    yield client
    client.flushall(target_nodes=RedisCluster.PRIMARIES)
    client.close()
    get_redis.cache_clear()


@pytest.fixture
def cluster_gateway(
    web_on_cluster: RedisCluster,
    cluster_proxy_url: str,
    mock_url: str,
    alice: Persona,
    settings: Any,
) -> Gateway:
    settings.SELIXES_PRIVATE_UPSTREAMS = "allow"  # the mock listens on loopback
    httpx.post(f"{mock_url}/_mock/reset")
    api = api_client_for(alice)
    created = api.post(
        "/api/v1/provider-keys/",
        {"provider": "openai_compatible", "api_key": PROVIDER_KEY},
        format="json",
    )
    assert created.status_code == 201, created.content
    key = create_key(api, alice)["key"]
    gateway = Gateway(cluster_proxy_url, mock_url, key, api, created.json()["id"])
    gateway.route("chat", {**gateway.openai_compatible("mock-chunks-30"), "price": OUTPUT_ONLY})
    return gateway


def test_budgets_settle_into_the_ledger_on_a_cluster(
    cluster_gateway: Gateway, alice: Persona, web_on_cluster: RedisCluster
) -> None:
    gateway = cluster_gateway
    budget = add_budget(gateway, alice, "0.030")  # exactly three requests of 10 tokens
    assert chat(gateway).headers["x-selixes-cost-usd"] == "0.010000"
    with gateway.openai().chat.completions.create(
        model="chat",
        messages=[{"role": "user", "content": "stream it"}],
        max_tokens=10,
        stream=True,
    ) as stream:
        assert sum(len(c.choices[0].delta.content or "") > 0 for c in stream if c.choices) > 0
    assert chat(gateway).headers["x-selixes-budget-remaining-usd"] == "0.000000"
    with pytest.raises(openai.APIStatusError) as refused:
        chat(gateway)
    assert refused.value.status_code == 402

    state = budget_state(gateway, budget["id"])
    assert (state["spent_usd"], state["reserved_usd"]) == ("0.030000", "0.000000")
    assert gateway.recorded()["total"] == 3
    # Every key of the org hashes to one slot, so each script ran on one node.
    org_keys = [k for k in web_on_cluster.scan_iter(match=f"sel:{{{alice.org.id}}}:*")]
    assert len(org_keys) >= 3
    assert len({web_on_cluster.keyslot(k) for k in org_keys}) == 1  # type: ignore[no-untyped-call]

    charged = LedgerEntry.objects.filter(org=alice.org, cost_nano__gt=0)
    drained(charged, 3)
    assert sorted(entry.cost_nano for entry in charged) == [10**7] * 3
    assert reconcile() == []


def drained(entries: Any, count: int) -> None:
    """Drain until `count` ledger entries are written: proxies flush usage in the background."""

    def written() -> bool:
        drain_usage_stream()
        return bool(entries.count() >= count)

    eventually(written, timeout_s=30, what=f"{count} ledger entries drained")


def test_counters_and_snapshots_come_back_after_a_cluster_flushall(
    cluster_gateway: Gateway, alice: Persona, web_on_cluster: RedisCluster
) -> None:
    gateway = cluster_gateway
    budget = add_budget(gateway, alice, "0.030")
    chat(gateway)
    chat(gateway)
    # Both settlements in the ledger before the flush: one still in the proxy's
    # background flush would be wiped with the stream, and rebuilt as unspent.
    drained(LedgerEntry.objects.filter(org=alice.org, cost_nano__gt=0), 2)
    web_on_cluster.flushall(target_nodes=RedisCluster.PRIMARIES)

    # Snapshots and counters are gone from every node: the key is unknown now
    # (cached snapshots may still admit it, but the budget cannot: not ready).
    with pytest.raises(openai.APIStatusError) as refused:
        chat(gateway)
    assert refused.value.status_code in (401, 503)

    assert republish_stale_snapshots() == 1
    assert rebuild_lost_counters() == [str(alice.org.id)]
    assert chat(gateway).headers["x-selixes-budget-remaining-usd"] == "0.000000"
    with pytest.raises(openai.APIStatusError) as exhausted:
        chat(gateway)
    assert exhausted.value.status_code == 402
    assert budget_state(gateway, budget["id"])["spent_usd"] == "0.030000"


def test_limits_and_revocation_reach_every_proxy_by_notice_on_a_cluster(
    cluster_gateway: Gateway, alice: Persona, redis_cluster: LocalRedisCluster
) -> None:
    gateway = cluster_gateway
    # The key's id; create_key gave only the secret to this fixture.
    key_id = _key_id(gateway)
    assert _status(gateway) == 200  # both processes may now cache the snapshot
    assert _status(gateway) == 200
    patched = gateway.api.patch(f"/api/v1/keys/{key_id}/", {"rpm_limit": 2}, format="json")
    assert patched.status_code == 200, patched.content
    # Snapshots are cached for an hour in these proxies: only the pub/sub
    # notice, published by the script on the node owning the snapshot, makes
    # them read the new limit. Once it has reached both processes, neither
    # admits another request in this minute.
    eventually(lambda: _status(gateway) == 429, 15, "the limit refusing a request")
    eventually(lambda: all(_status(gateway) == 429 for _ in range(6)), 15, "every process refusing")

    assert gateway.api.delete(f"/api/v1/keys/{key_id}/").status_code == 204
    eventually(lambda: all(_status(gateway) == 401 for _ in range(6)), 15, "every process revoking")


def test_the_reaper_charges_a_held_reservation_once_on_a_cluster(
    cluster_gateway: Gateway, alice: Persona, web_on_cluster: RedisCluster
) -> None:
    gateway = cluster_gateway
    gateway.route(
        "slow", {**gateway.openai_compatible("mock-chunks-10-pause-300"), "price": OUTPUT_ONLY}
    )
    budget = add_budget(gateway, alice, "1.000000")
    with httpx.stream(
        "POST",
        f"{gateway.proxy_url}/v1/chat/completions",
        headers={"authorization": f"Bearer {gateway.key}"},
        json={
            "model": "slow",
            "stream": True,
            "max_tokens": 10,
            "messages": [{"role": "user", "content": "hold on"}],
        },
        timeout=30,
    ) as response:
        chunks = response.iter_bytes()  # one iterator: dropping one closes the stream
        next(chunks)
        assert web_on_cluster.hlen(layout.reservations_key(str(alice.org.id))) == 1
        # As if its proxy had died: the reaper charges the estimate...
        assert reap_expired(now_ms=int(time.time() * 1000) + 3_600_000) == 1
        body = b"".join(chunks)
    # ...and the proxy, still alive here, cuts nothing but charges nothing twice.
    assert b"[DONE]" in body
    state = budget_state(gateway, budget["id"])
    assert (state["spent_usd"], state["reserved_usd"]) == ("0.010000", "0.000000")


def _key_id(gateway: Gateway) -> str:
    listed = gateway.api.get("/api/v1/keys/").json()
    rows = listed["data"] if isinstance(listed, dict) else listed
    return next(str(row["id"]) for row in rows if gateway.key.startswith(row["prefix"]))


def _status(gateway: Gateway) -> int:
    return httpx.post(
        f"{gateway.proxy_url}/v1/chat/completions",
        headers={"authorization": f"Bearer {gateway.key}"},
        json={"model": "chat", "max_tokens": 1, "messages": [{"role": "user", "content": "hi"}]},
        timeout=10,
    ).status_code


def test_cluster_mode_without_a_separate_celery_broker_is_refused_at_start() -> None:
    env = {**os.environ, "SELIXES_REDIS_CLUSTER": "1", "DJANGO_SETTINGS_MODULE": "config.settings"}
    env.pop("CELERY_BROKER_URL", None)
    refused = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode != 0
    assert "CELERY_BROKER_URL" in refused.stderr
    env["CELERY_BROKER_URL"] = "amqp://guest:guest@127.0.0.1:5672//"
    accepted = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; import django; django.setup(); "
            "print(settings.REDIS_CLUSTER, settings.CELERY_BROKER_URL)",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert accepted.stdout.split() == ["True", "amqp://guest:guest@127.0.0.1:5672//"], (
        accepted.stderr
    )


def test_sign_in_attempts_are_counted_on_a_cluster(web_on_cluster: RedisCluster) -> None:
    first = count_attempt("login", "192.0.2.7")
    second = count_attempt("login", "192.0.2.7")
    assert first.allowed and second.allowed
    assert int(web_on_cluster.get(counter_key("login", "192.0.2.7"))) == 2
    assert 0 < web_on_cluster.ttl(counter_key("login", "192.0.2.7")) <= 3600


RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672//"


def _rabbitmq_answers() -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", 5672), timeout=1):
        return True
    return False


@pytest.mark.skipif(not _rabbitmq_answers(), reason="needs RabbitMQ on 127.0.0.1:5672")
def test_worker_and_beat_on_rabbitmq_rebuild_lost_counters_on_a_cluster(
    cluster_gateway: Gateway,
    alice: Persona,
    web_on_cluster: RedisCluster,
    redis_cluster: LocalRedisCluster,
    tmp_path: Any,
) -> None:
    """The deployment shape of a cluster: Celery on its own broker, its tasks on the cluster."""
    add_budget(cluster_gateway, alice, "1.000000")
    ready = layout.ready_key(str(alice.org.id))
    assert web_on_cluster.exists(ready)
    # The test database, wherever DATABASE_URL points (embedded servers use a socket).
    database_url = urlsplit(os.environ["DATABASE_URL"])._replace(
        path=f"/{connection.settings_dict['NAME']}"
    )
    env = {
        **proxy_env(),
        "DATABASE_URL": urlunsplit(database_url),
        "REDIS_URL": redis_cluster.url,
        "SELIXES_REDIS_CLUSTER": "1",
        "CELERY_BROKER_URL": RABBITMQ_URL,
    }
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker", "--beat",
        "--pool", "solo", "--loglevel", "WARNING", "--hostname", f"cluster-test-{os.getpid()}@%h",
        "--schedule", str(tmp_path / "celerybeat-schedule"),
    ]  # fmt: skip
    worker = subprocess.Popen(command, env=env)
    try:
        web_on_cluster.flushall(target_nodes=RedisCluster.PRIMARIES)
        # Beat sends the rebuild every second through RabbitMQ; the worker
        # runs it against the cluster.
        eventually(lambda: bool(web_on_cluster.exists(ready)), 60, "beat's rebuild on the cluster")
    finally:
        worker.terminate()
        worker.wait(timeout=30)
