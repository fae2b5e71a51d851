"""The limit scripts' functions, callable one by one (Redis clients: tests/conftest.py)."""

from __future__ import annotations

import pytest

from gateway.proxy.redis_client import AsyncRedisClient
from tests.gateway.proxy.limits.lua_functions import LuaFunctions


@pytest.fixture
def lua(lua_client: AsyncRedisClient) -> LuaFunctions:
    return LuaFunctions(lua_client)
