"""The control plane's Redis client: one connection pool per process."""

from __future__ import annotations

from functools import lru_cache

import redis
from django.conf import settings


@lru_cache(maxsize=1)
def get_redis() -> redis.Redis:
    client: redis.Redis = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5)
    return client
