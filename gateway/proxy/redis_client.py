"""The proxy's Redis client: many connections, bounded reads, quick to give up."""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

from gateway.proxy.lua_scripts import AsyncRedisClient

READ_TIMEOUT_S = 2.0
CONNECT_TIMEOUT_S = 2.0
# redis-py's pool refuses a connection past max_connections instead of
# waiting, so the bound is high (a process rarely needs more than its
# concurrent requests; the blocking pool cost ~5% of the CPU).
MAX_CONNECTIONS = 4096


def proxy_redis(url: str, cluster: bool = False) -> AsyncRedisClient:
    """The proxy's client for `url`; on a Redis Cluster `url` names any one node.

    One quick retry, not redis-py's default of three with backoff of
    seconds: when Redis is down or stops answering, budgeted requests must
    fail closed now, not after ~7 s. On a cluster the client learns the slot
    map from the node it is given, and every command of one org goes to the
    node owning the org's hash tag (DESIGN.md).
    """
    options = {
        "max_connections": MAX_CONNECTIONS,
        "socket_timeout": READ_TIMEOUT_S,
        "socket_connect_timeout": CONNECT_TIMEOUT_S,
        "retry": Retry(ExponentialBackoff(cap=0.05, base=0.01), 1),
    }
    if cluster:
        return RedisCluster.from_url(url, **options)
    return aioredis.Redis(connection_pool=aioredis.ConnectionPool.from_url(url, **options))
