"""The proxy's Redis client: many connections, bounded reads, quick to give up.

    proxy_redis(url, cluster) -> ProxyRedis (standalone) or RedisCluster
    send(client, *command), send_batch(client, commands) -> raw replies
                                 (timed: selixes_redis_command_duration_seconds)

On a standalone Redis (Upstash included) the client has a lean lane for the
two calls every request makes, the admission script and the usage flush;
`send` and `send_batch` take it where there is one, so callers need not
know which client they hold. ProxyRedis says why the lane exists.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, TypeAlias

import hiredis
import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError, DataError, ResponseError

from gateway.proxy.metrics import REDIS_DURATION

AsyncRedisClient: TypeAlias = aioredis.Redis | RedisCluster
# A command: its name, then its arguments (str goes as UTF-8, int and float by repr).
Command: TypeAlias = Sequence[str | bytes | int | float]

READ_TIMEOUT_S = 2.0
CONNECT_TIMEOUT_S = 2.0
# redis-py's pool refuses a connection past max_connections instead of
# waiting, so the bound is high (a process rarely needs more than its
# concurrent requests; the blocking pool cost ~5% of the CPU).
MAX_CONNECTIONS = 4096


def proxy_redis(
    url: str, cluster: bool = False, read_timeout_s: float = READ_TIMEOUT_S
) -> AsyncRedisClient:
    """The proxy's client for `url`; on a Redis Cluster `url` names any one node.

    One quick retry, not redis-py's default of three with backoff of
    seconds: when Redis is down or stops answering, budgeted requests must
    fail closed now, not after ~7 s. On a cluster the client learns the slot
    map from the node it is given, and every command of one org goes to the
    node owning the org's hash tag (DESIGN.md).
    """
    options = {
        "max_connections": MAX_CONNECTIONS,
        "socket_timeout": read_timeout_s,
        "socket_connect_timeout": CONNECT_TIMEOUT_S,
        "retry": Retry(ExponentialBackoff(cap=0.05, base=0.01), 1),
    }
    if cluster:
        return RedisCluster.from_url(url, **options)
    pool = aioredis.ConnectionPool.from_url(url, **options)
    pool.connection_class = hiredis_packing(pool.connection_class)
    return ProxyRedis(connection_pool=pool)


class ProxyRedis(aioredis.Redis):
    """redis-py's client, plus a lean lane for the commands on every request's path.

    redis-py's asyncio client spends more CPU around a command than on it:
    for each call its pool takes a lock, records three connection-state
    metrics and probes the socket for stray bytes, and the call runs inside
    a retry wrapper and a duration hook. On the admission script that was
    about 40% of the client's CPU per call (py-spy, make bench). The lane
    keeps redis-py's connections (handshake, AUTH, SELECT, TLS, the reply
    parser, the read timeout) and skips the rest: idle connections on a
    stack, commands packed by hiredis, one write per batch, replies read in
    order.

    A connection goes back on the stack only after all its replies were
    read; one that failed, timed out or whose caller was cancelled mid-read
    is closed. A connection error (Redis restarted, so every idle connection
    is dead) closes the idle ones and retries once on a new connection, as
    the pool's one quick retry does. A retried batch may have run once
    already, if the connection broke after Redis ran it: the admission
    script is safe to repeat (it replaces the request's own reservation; the
    rate limits count it twice, erring on the safe side), a repeated
    settlement finds its marker and does nothing (lua/settle.lua), and the
    ledger keeps one entry per request id. A read timeout is not retried: a
    Redis that stops answering fails budgeted requests closed after
    READ_TIMEOUT_S. Replies are raw (no redis-py response callbacks): the
    lane is for commands whose raw reply the caller reads, EVALSHA and XADD.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._lane_idle: list[AbstractConnection] = []
        self._lane_open = 0

    async def call(self, *command: str | bytes | int | float) -> Any:
        """Send one command on the lane; an error reply raises (ResponseError, NoScriptError...)."""
        (reply,) = await self._lane(_pack([command]), 1)
        if isinstance(reply, ResponseError):
            raise reply
        return reply

    async def call_many(self, commands: Sequence[Command]) -> list[Any]:
        """Pipeline `commands` in one write; an error reply comes back as its exception."""
        if not commands:
            return []
        return await self._lane(_pack(commands), len(commands))

    async def _lane(self, packed: bytes, count: int) -> list[Any]:
        for attempt in (1, 2):
            conn = self._take()
            try:
                await conn.send_packed_command(packed, check_health=False)
                replies: list[Any] = []
                for _ in range(count):
                    try:
                        replies.append(await conn.read_response())
                    except ResponseError as e:  # an error reply; the connection is fine
                        replies.append(e)
            except ConnectionError:
                await self._close(conn)
                if attempt == 2:
                    raise
                idle, self._lane_idle = self._lane_idle, []
                for stale in idle:
                    await self._close(stale)
                continue
            except BaseException:  # timed out or cancelled: replies may still be on the way
                await self._close(conn)
                raise
            self._lane_idle.append(conn)
            return replies
        raise AssertionError("unreachable")

    def _take(self) -> AbstractConnection:
        if self._lane_idle:
            return self._lane_idle.pop()
        if self._lane_open >= MAX_CONNECTIONS:
            raise ConnectionError(f"more than {MAX_CONNECTIONS} Redis calls in flight")
        self._lane_open += 1
        conn: AbstractConnection = self.connection_pool.make_connection()  # type: ignore[no-untyped-call]
        return conn

    async def _close(self, conn: AbstractConnection) -> None:
        self._lane_open -= 1
        await conn.disconnect(nowait=True)

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        idle, self._lane_idle = self._lane_idle, []
        for conn in idle:
            await self._close(conn)
        await super().aclose(close_connection_pool)


class _HiredisPacking:
    """Encode commands with hiredis (C) instead of redis-py's asyncio encoder (Python).

    redis-py's asyncio connections pack every argument in a Python loop; for
    the admission script's dozen arguments that was about 10 us of CPU per
    call (py-spy, make bench). redis-py's sync client packs with hiredis
    the same way. The wire bytes are the same: str as UTF-8, int and float by
    repr, bytes as they are; anything else is refused with a DataError.
    """

    def pack_command(self, *args: Any) -> list[bytes]:
        first = args[0]
        # A name with its subcommand in one string ("CLIENT SETNAME") goes
        # as separate words, as redis-py sends it.
        if (isinstance(first, str) and " " in first) or (
            isinstance(first, bytes) and b" " in first
        ):
            args = (*first.split(), *args[1:])
        return [_pack([args])]


async def send(client: AsyncRedisClient, *command: str | bytes | int | float) -> Any:
    """Send one command and return its raw reply, on the lean lane where the client has one."""
    name = command[0]
    started = time.perf_counter()
    try:
        if isinstance(client, ProxyRedis):
            return await client.call(*command)
        return await client.execute_command(*command)
    finally:
        # Timed whatever the outcome: a Redis that stops answering shows as slow calls.
        label = name.decode() if isinstance(name, bytes) else str(name)
        REDIS_DURATION.labels(label.upper()).observe(time.perf_counter() - started)


async def send_batch(client: AsyncRedisClient, commands: Sequence[Command]) -> list[Any]:
    """Pipeline `commands` (one round trip, or one per node of a cluster); error replies in place.

    On a cluster, EVALSHA goes by name: redis-py's cluster pipeline refuses
    its evalsha() method but routes the command by its keys, which all carry
    one org's hash tag.
    """
    started = time.perf_counter()
    try:
        if isinstance(client, ProxyRedis):
            return await client.call_many(commands)
        pipe = client.pipeline(transaction=False)
        for command in commands:
            pipe.execute_command(*command)
        return list(await pipe.execute(raise_on_error=False))
    finally:
        REDIS_DURATION.labels("pipeline").observe(time.perf_counter() - started)


def hiredis_packing(base: type[AbstractConnection]) -> type[AbstractConnection]:
    """`base` (a TCP, TLS or Unix socket connection) with _HiredisPacking's encoder."""
    return type(f"Hiredis{base.__name__}", (_HiredisPacking, base), {})


def _pack(commands: Sequence[Command]) -> bytes:
    try:
        # (hiredis's stub types the argument as a 1-tuple; it takes any length.)
        return b"".join(hiredis.pack_command(tuple(command)) for command in commands)  # type: ignore[arg-type]
    except TypeError as e:  # None, bool, a list...: what redis-py refuses too
        raise DataError(f"Invalid input for a Redis command: {e}") from e
