"""gateway.proxy.lua_scripts: scripts from files, with the shebang line Upstash wants."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from gateway.proxy.limits import Limit, limits_call
from gateway.proxy.lua_scripts import FLAGS_VARIABLE, LuaScript, load_script, run_script

PLAN = [Limit("rpm", "key", "k1", "sel:{org-a}:rl:rpm:key:k1", 5)]
FILES = ("sliding_window", "token_bucket", "limit_plan", "limits")


def test_files_are_concatenated_in_order_with_no_first_line_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(FLAGS_VARIABLE, raising=False)

    source = load_script(*FILES)

    assert source.startswith("-- sliding_window.lua")
    assert source.index("-- token_bucket.lua") < source.index("-- limits.lua")
    assert load_script("limits.lua") == load_script("limits")


@pytest.mark.parametrize(
    "value", ["allow-key-locking", "#!lua flags=allow-key-locking", " allow-key-locking "]
)
def test_the_flags_variable_becomes_the_shebang_line(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(FLAGS_VARIABLE, value)

    first_line, rest = load_script(*FILES).split("\n", 1)

    assert first_line == "#!lua flags=allow-key-locking"
    assert rest.startswith("-- sliding_window.lua")


async def _server_major(client: aioredis.Redis) -> int:
    info = await client.info("server")
    return int(str(info["redis_version"]).split(".")[0])


async def test_a_script_with_a_shebang_runs_on_redis_7(
    standalone_client: aioredis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    if await _server_major(standalone_client) < 7:
        pytest.skip("shebang lines need Redis 7")
    # Built before the variable is set: limits_call caches the proxy's script,
    # which must not keep this test's first line for the tests after it.
    call = limits_call(PLAN, now_ms=1_000, tokens=0)
    monkeypatch.setenv(FLAGS_VARIABLE, "#!lua")

    reply = await run_script(standalone_client, LuaScript.from_files(*FILES), call.keys, call.args)

    assert reply == [0, 0]


async def test_stock_redis_refuses_upstashs_flag_so_it_is_off_by_default(
    standalone_client: aioredis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    if await _server_major(standalone_client) < 7:
        pytest.skip("shebang lines need Redis 7")
    # Built before the variable is set: limits_call caches the proxy's script,
    # which must not keep this test's first line for the tests after it.
    call = limits_call(PLAN, now_ms=1_000, tokens=0)
    monkeypatch.setenv(FLAGS_VARIABLE, "allow-key-locking")

    with pytest.raises(ResponseError, match="flag"):
        await run_script(standalone_client, LuaScript.from_files(*FILES), call.keys, call.args)
