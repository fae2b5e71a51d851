"""Call the functions of sliding_window.lua and token_bucket.lua one by one, as tests need.

Each method is a one-line script body loaded after the function file, run
through gateway.proxy.lua_scripts.run_script like production scripts.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.proxy.limits import WINDOW_MS
from gateway.proxy.lua_scripts import LuaScript, ScriptArg, run_script
from gateway.proxy.redis_client import AsyncRedisClient


def _script(functions: str, body: str) -> LuaScript:
    """A script of a function file and a body that calls one of its functions."""
    base = LuaScript.from_files(functions)
    source = f"{base.source}\n{body}\n"
    return LuaScript.from_source(source)


_ARGS = "tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])"
SLIDING_CHECK = _script("sliding_window", f"return sliding_window_check(KEYS[1], {_ARGS})")
SLIDING_TAKE = _script(
    "sliding_window",
    "return sliding_window_take(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]))",
)
BUCKET_CHECK = _script("token_bucket", f"return token_bucket_check(KEYS[1], {_ARGS})")
BUCKET_TAKE = _script("token_bucket", f"return token_bucket_take(KEYS[1], {_ARGS})")


@dataclass
class LuaFunctions:
    client: AsyncRedisClient

    async def _int(self, script: LuaScript, key: str, args: list[ScriptArg]) -> int:
        reply = await run_script(self.client, script, [key], args)
        assert isinstance(reply, int), reply
        return reply

    async def sliding_check(
        self, key: str, now_ms: int, limit: int, cost: int = 1, window_ms: int = WINDOW_MS
    ) -> int:
        return await self._int(SLIDING_CHECK, key, [now_ms, window_ms, limit, cost])

    async def sliding_take(
        self, key: str, now_ms: int, cost: int = 1, window_ms: int = WINDOW_MS
    ) -> int:
        return await self._int(SLIDING_TAKE, key, [now_ms, window_ms, cost])

    async def sliding_admit(
        self, key: str, now_ms: int, limit: int, cost: int = 1, window_ms: int = WINDOW_MS
    ) -> int:
        """Check, and take if it fits (as limits.lua does); return the check's answer."""
        retry = await self.sliding_check(key, now_ms, limit, cost, window_ms)
        if retry == 0:
            await self.sliding_take(key, now_ms, cost, window_ms)
        return retry

    async def bucket_check(
        self, key: str, now_ms: int, capacity: int, cost: int, window_ms: int = WINDOW_MS
    ) -> int:
        return await self._int(BUCKET_CHECK, key, [now_ms, window_ms, capacity, cost])

    async def bucket_take(
        self, key: str, now_ms: int, capacity: int, cost: int, window_ms: int = WINDOW_MS
    ) -> int:
        """Take `cost` tokens (negative refunds); return the level in whole tokens."""
        return await self._int(BUCKET_TAKE, key, [now_ms, window_ms, capacity, cost])

    async def bucket_admit(
        self, key: str, now_ms: int, capacity: int, cost: int, window_ms: int = WINDOW_MS
    ) -> int:
        retry = await self.bucket_check(key, now_ms, capacity, cost, window_ms)
        if retry == 0:
            await self.bucket_take(key, now_ms, capacity, cost, window_ms)
        return retry
