"""The proxy's Redis client: hiredis packing and the lean lane (ProxyRedis.call, .call_many).

Against the test Redis: replies are raw, error replies keep the connection,
a connection cut by the server is replaced, and a call cancelled mid-read
never hands its late reply to the next caller.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.exceptions
from django.conf import settings

from gateway.proxy.lua_scripts import LuaScript, run_script
from gateway.proxy.redis_client import ProxyRedis, proxy_redis
from tests.polling import eventually_async


@pytest.fixture
async def client() -> AsyncIterator[ProxyRedis]:
    made = proxy_redis(settings.REDIS_URL)
    assert isinstance(made, ProxyRedis)
    yield made
    await made.aclose()


async def test_commands_go_on_the_wire_as_redis_py_sends_them(client: ProxyRedis) -> None:
    # Through redis-py's own methods (hiredis packing) and the lane: the same values back.
    await client.set("k", "é 1")
    assert await client.call("GET", "k") == "é 1".encode()
    await client.call("HSET", "h", "int", 12345678901234, "float", 2.5, "bytes", b"\x00\xff")
    assert await client.hgetall("h") == {
        b"int": b"12345678901234",
        b"float": b"2.5",
        b"bytes": b"\x00\xff",
    }
    assert await client.config_get("maxmemory")  # a two-word name ("CONFIG GET") still works
    with pytest.raises(redis.exceptions.DataError):
        await client.call("SET", "k", None)  # type: ignore[arg-type]
    with pytest.raises(redis.exceptions.DataError):
        await client.set("k", None)  # type: ignore[arg-type]


async def test_an_error_reply_raises_and_leaves_the_connection_usable(client: ProxyRedis) -> None:
    await client.call("SET", "s", "text")
    with pytest.raises(redis.exceptions.ResponseError):
        await client.call("INCR", "s")
    with pytest.raises(redis.exceptions.NoScriptError):
        await client.call("EVALSHA", "0" * 40, 0)
    assert await client.call("PING") == b"PONG"


async def test_a_pipeline_returns_each_reply_in_order_with_errors_in_place(
    client: ProxyRedis,
) -> None:
    replies = await client.call_many(
        [
            ("SET", "a", "1"),
            ("INCR", "a"),
            ("EVALSHA", "0" * 40, 0),
            ("HSET", "a", "f", 1),
            ("GET", "a"),
        ]
    )
    assert replies[:2] == [b"OK", 2]
    assert isinstance(replies[2], redis.exceptions.NoScriptError)
    assert isinstance(replies[3], redis.exceptions.ResponseError)  # WRONGTYPE
    assert replies[4] == b"2"
    assert await client.call_many([]) == []


async def test_run_script_loads_an_unknown_script_and_then_runs_it_by_digest(
    client: ProxyRedis,
) -> None:
    # Unknown to Redis because no one ever ran it (no SCRIPT FLUSH: that
    # would empty the cache of every test sharing the server).
    script = LuaScript.from_source(f"-- {uuid.uuid4()}\nreturn {{KEYS[1], tonumber(ARGV[1]) + 1}}")
    assert await client.script_exists(script.sha) == [False]
    assert await run_script(client, script, ["key"], [41]) == [b"key", 42]
    assert await client.script_exists(script.sha) == [True]
    assert await run_script(client, script, ["key"], [1]) == [b"key", 2]


async def test_connections_the_server_closed_are_replaced(private_client: ProxyRedis) -> None:
    # Several idle connections, then the server drops every client (as a
    # restart does): the next calls still succeed, on new connections. On a
    # server of this test's own: the kill reaches every client of the server.
    client = private_client
    await asyncio.gather(*(client.call("PING") for _ in range(5)))
    await client.client_kill_filter(_type="normal", skipme=False)
    for _ in range(3):
        assert await client.call("PING") == b"PONG"
    assert await client.call_many([("PING",), ("PING",)]) == [b"PONG", b"PONG"]


async def test_a_call_cancelled_mid_read_never_answers_the_next_caller(
    client: ProxyRedis,
) -> None:
    # BLPOP holds its connection's reply back for 0.5 s. If that connection
    # went back to the lane after the cancel, the next command would read
    # BLPOP's late reply (nil) instead of its own.
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(client.call("BLPOP", "nothing-here", "0.5"), timeout=0.05)
    assert await client.call("SET", "after", "1") == b"OK"
    assert await client.call("GET", "after") == b"1"

    async def blpop_answered() -> bool:
        # The abandoned connection's BLPOP has timed out and its reply is on
        # the wire: no client of this test's database is blocked any more.
        db = client.connection_pool.connection_kwargs.get("db", 0)
        clients = await client.client_list()
        return not any(c["db"] == str(db) and "b" in c["flags"] for c in clients)

    await eventually_async(blpop_answered, 10, "the cancelled BLPOP timing out")
    assert await client.call("PING") == b"PONG"
