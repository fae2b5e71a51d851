"""The control plane's Redis client: one connection pool per process."""

from __future__ import annotations

from functools import lru_cache
from typing import TypeAlias

import redis
from django.conf import settings
from redis.cluster import RedisCluster

# A standalone Redis (or Upstash) or a Redis Cluster (settings.REDIS_CLUSTER).
RedisClient: TypeAlias = redis.Redis | RedisCluster


@lru_cache(maxsize=1)
def get_redis() -> RedisClient:
    if settings.REDIS_CLUSTER:
        return RedisCluster.from_url(settings.REDIS_URL, socket_timeout=5)
    client: redis.Redis = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5)
    return client
