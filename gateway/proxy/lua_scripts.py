"""Build Lua scripts from the files in gateway/proxy/lua/ and run them by digest.

A script is one or more .lua files concatenated in order: files of functions
(sliding_window, token_bucket) first, then one file with the body that
returns, so several operations can share the functions and still commit
atomically in one call.

SELIXES_REDIS_SCRIPT_FLAGS, when set, becomes the script's first line: Upstash
runs a script under a global lock unless its shebang says
`#!lua flags=allow-key-locking` (then only the KEYS are locked, which is why
our scripts touch nothing else). Redis 7 refuses that flag and Redis 6 any
shebang, so it is off by default. The value is either the whole line or just
the flags (`allow-key-locking`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias, cast

from redis.exceptions import NoScriptError, RedisError

from gateway.proxy.redis_client import AsyncRedisClient, Command, send

LUA_DIR = Path(__file__).resolve().parent / "lua"
FLAGS_VARIABLE = "SELIXES_REDIS_SCRIPT_FLAGS"

ScriptArg: TypeAlias = str | bytes | int
# What a script returns: Lua numbers arrive as integers, strings as bytes, tables as lists.
ScriptReply: TypeAlias = int | bytes | list["ScriptReply"] | None


def script_flags_from(environ: Mapping[str, str]) -> str:
    """SELIXES_REDIS_SCRIPT_FLAGS as given ("" = none); read once by each process."""
    return environ.get(FLAGS_VARIABLE, "").strip()


def script_flags_line(flags: str) -> str:
    """Return the shebang line SELIXES_REDIS_SCRIPT_FLAGS asks for, or "" for none."""
    flags = flags.strip()
    if not flags or flags.startswith("#!"):
        return flags
    return f"#!lua flags={flags}"


def load_script(*names: str, flags: str = "") -> str:
    """Concatenate lua/<name>.lua files in order, after the flags line if one is set."""
    if not names:
        raise ValueError("load_script needs at least one file name")
    line = script_flags_line(flags)
    parts = [line] if line else []
    for name in names:
        filename = name if name.endswith(".lua") else f"{name}.lua"
        parts.append((LUA_DIR / filename).read_text())
    return "\n".join(parts)


@dataclass(frozen=True)
class LuaScript:
    """A script's source and the SHA1 digest Redis knows it by."""

    source: str
    sha: str

    @classmethod
    def from_source(cls, source: str) -> LuaScript:
        # SHA1 because that is the digest EVALSHA names scripts by, not for security.
        return cls(source, hashlib.sha1(source.encode()).hexdigest())  # noqa: S324

    @classmethod
    def from_files(cls, *names: str, flags: str = "") -> LuaScript:
        """load_script(*names, flags=flags) with its digest."""
        return cls.from_source(load_script(*names, flags=flags))


@dataclass(frozen=True)
class ScriptCall:
    """One run of a script: what run_script or a pipeline's EVALSHA needs."""

    script: LuaScript
    keys: list[str]
    args: list[ScriptArg]


async def run_script(
    client: AsyncRedisClient,
    script: LuaScript,
    keys: Sequence[str],
    args: Sequence[ScriptArg],
) -> ScriptReply:
    """Run `script` with EVALSHA; if the server does not have it cached, with EVAL."""
    try:
        reply = await send(client, "EVALSHA", script.sha, len(keys), *keys, *args)
    except NoScriptError:
        # After a restart, failover or SCRIPT FLUSH. EVAL runs the script and
        # caches it where it ran (on a cluster: the node owning the keys) in
        # one round trip, where SCRIPT LOAD + EVALSHA would take two.
        reply = await client.eval(script.source, len(keys), *keys, *args)
    return cast(ScriptReply, reply)


def script_command(call: ScriptCall) -> Command:
    """`call` as one EVALSHA command, to batch with others (redis_client.send_batch).

    By name rather than redis-py's evalsha(): a cluster pipeline refuses that
    method but routes the command by its keys, which carry one org's tag.
    """
    return ("EVALSHA", call.script.sha, len(call.keys), *call.keys, *call.args)


async def rerun_unknown_scripts(
    client: AsyncRedisClient, calls: Sequence[ScriptCall], replies: Sequence[object]
) -> list[object]:
    """The replies of batched `calls`, those Redis lacked the script of run again in full.

    After a restart, failover or SCRIPT FLUSH the script cache is empty; a
    call that fails again comes back as its exception, as in the batch.
    """
    settled: list[object] = []
    for call, reply in zip(calls, replies, strict=True):
        if isinstance(reply, NoScriptError):
            try:
                reply = await run_script(client, call.script, call.keys, call.args)
            except RedisError as e:
                reply = e
        settled.append(reply)
    return settled
