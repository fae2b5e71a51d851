"""Redis clients for the limit scripts: the test database, and a local Redis Cluster.

`lua_client` runs a test twice, on the standalone test Redis and on the
cluster, since both must behave the same. The cluster (infra/redis_cluster.py)
is started once per session, on first use, and flushed after each test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import redis.asyncio as aioredis
from django.conf import settings
from redis.asyncio.cluster import RedisCluster

from gateway.proxy.lua_scripts import AsyncRedisClient
from infra.redis_cluster import LocalRedisCluster, local_redis_cluster
from tests.limits.lua_functions import LuaFunctions


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[LocalRedisCluster]:
    with local_redis_cluster(nodes=3) as cluster:
        yield cluster


@pytest.fixture
async def standalone_client() -> AsyncIterator[aioredis.Redis]:
    # tests/conftest.py flushes this database around every test.
    client = aioredis.Redis.from_url(settings.REDIS_URL)
    yield client
    await client.aclose()


@pytest.fixture
async def cluster_client(redis_cluster: LocalRedisCluster) -> AsyncIterator[RedisCluster]:
    client = RedisCluster.from_url(redis_cluster.url)
    await client.initialize()  # learn the slot map now, so tests can ask which node owns a key
    yield client
    await client.flushall(target_nodes=RedisCluster.PRIMARIES)
    await client.aclose()


@pytest.fixture(params=["standalone", pytest.param("cluster", marks=pytest.mark.cluster)])
def lua_client(request: pytest.FixtureRequest) -> AsyncRedisClient:
    client: AsyncRedisClient = request.getfixturevalue(f"{request.param}_client")
    return client


@pytest.fixture
def lua(lua_client: AsyncRedisClient) -> LuaFunctions:
    return LuaFunctions(lua_client)
