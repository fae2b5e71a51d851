"""Redis Cluster and Upstash readiness: one org's limits in one slot, orgs spread over nodes."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import SSLConnection
from redis.exceptions import RedisClusterException

from gateway.proxy.limits import Limit, check_and_take_limits, limit_plan
from gateway.shared.snapshot import KeyEntry, Snapshot

NOW = 1_700_000_000_000


def tenant_with_limits(org_id: str) -> tuple[Snapshot, KeyEntry]:
    key: KeyEntry = {
        "id": f"key-of-{org_id}",
        "hash": "h",
        "project_id": "p1",
        "team_id": None,
        "user_id": None,
        "rpm_limit": 2,
        "tpm_limit": 1_000,
    }
    tenant = {
        "org_id": org_id,
        "projects": {"p1": {"rpm_limit": 100, "tpm_limit": 5_000}},
    }
    return tenant, key  # type: ignore[return-value]  # only the fields limit_plan reads


def orgs_on_different_nodes(client: RedisCluster) -> tuple[str, str]:
    """Two org ids whose keys live on different nodes of the cluster."""
    first = "org-0"
    node = client.get_node_from_key(f"sel:{{{first}}}:x")
    for n in range(1, 100):
        other = f"org-{n}"
        if client.get_node_from_key(f"sel:{{{other}}}:x") != node:
            return first, other
    raise AssertionError("every org landed on one node")


@pytest.mark.cluster
async def test_all_limits_of_one_org_share_a_slot(cluster_client: RedisCluster) -> None:
    tenant, key = tenant_with_limits("3f2a8c1e-org")

    plan = limit_plan(tenant, key)

    assert len(plan) == 4
    assert len({cluster_client.keyslot(limit.redis_key) for limit in plan}) == 1


@pytest.mark.cluster
async def test_a_four_key_plan_runs_as_one_script_on_the_cluster(
    cluster_client: RedisCluster,
) -> None:
    tenant, key = tenant_with_limits("3f2a8c1e-org")
    plan = limit_plan(tenant, key)

    answers = [await check_and_take_limits(cluster_client, plan, NOW, tokens=10) for _ in range(3)]

    assert answers[:2] == [None, None]
    assert answers[2] is not None
    assert answers[2].limit == plan[0]
    # Every one of the four counters was written, on the node owning the slot.
    owner = cluster_client.get_node_from_key(plan[0].redis_key)
    assert owner is not None
    for limit in plan:
        assert await cluster_client.exists(limit.redis_key) == 1
        assert cluster_client.get_node_from_key(limit.redis_key) == owner


@pytest.mark.cluster
async def test_orgs_on_different_nodes_are_limited_independently(
    cluster_client: RedisCluster,
) -> None:
    org_a, org_b = orgs_on_different_nodes(cluster_client)
    plans = [limit_plan(*tenant_with_limits(org)) for org in (org_a, org_b)]

    for plan in plans:
        for _ in range(2):
            assert await check_and_take_limits(cluster_client, plan, NOW, tokens=1) is None

    for plan in plans:
        assert await check_and_take_limits(cluster_client, plan, NOW, tokens=1) is not None
    assert cluster_client.keyslot(plans[0][0].redis_key) != cluster_client.keyslot(
        plans[1][0].redis_key
    )


@pytest.mark.cluster
async def test_a_plan_mixing_two_orgs_is_refused_rather_than_half_applied(
    cluster_client: RedisCluster,
) -> None:
    org_a, org_b = orgs_on_different_nodes(cluster_client)
    mixed: list[Limit] = [
        limit_plan(*tenant_with_limits(org_a))[0],
        limit_plan(*tenant_with_limits(org_b))[0],
    ]

    with pytest.raises(RedisClusterException):
        await check_and_take_limits(cluster_client, mixed, NOW, tokens=1)


def test_a_rediss_url_makes_tls_connections() -> None:
    url = "rediss://default:secret@example.upstash.io:6379"

    client = aioredis.Redis.from_url(url)
    cluster = RedisCluster.from_url(url)

    assert client.connection_pool.connection_class is SSLConnection
    assert cluster.get_connection_kwargs()["connection_class"] is SSLConnection
