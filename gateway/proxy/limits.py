"""Rate limits: which limits a request must pass, and their Lua call (lua/limits.lua).

A key's request is held to its own RPM/TPM limits and to its project's; a
limit that is None in the snapshot does not exist. RPM is a sliding window
(lua/sliding_window.lua), TPM a token bucket that may go into debt when a
request used more tokens than it reserved (lua/token_bucket.lua).

Redis layout (every per-org key carries the hash tag {org_id}, DESIGN.md):
  sel:{<org_id>}:rl:<rpm|tpm>:<key|project>:<id>   hash, see the .lua file
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import orjson

from gateway.proxy.lua_scripts import (
    LuaScript,
    ScriptArg,
    ScriptCall,
    run_script,
)
from gateway.proxy.redis_client import AsyncRedisClient
from gateway.shared.snapshot import KeyEntry, Snapshot

LimitKind = Literal["rpm", "tpm"]
LimitScope = Literal["key", "project"]
WINDOW_MS = 60_000
# lua/limits.lua's reply when a cost exceeds the limit itself: waiting never helps.
NEVER = -1


@lru_cache(maxsize=2)
def limits_script(flags: str = "") -> LuaScript:
    """lua/limits.lua after its function files, under SELIXES_REDIS_SCRIPT_FLAGS `flags`."""
    return LuaScript.from_files(
        "sliding_window", "token_bucket", "limit_plan", "limits", flags=flags
    )


@dataclass(frozen=True)
class Limit:
    kind: LimitKind
    scope: LimitScope
    scope_id: str
    redis_key: str
    limit: int  # requests (rpm) or tokens (tpm) per window
    window_ms: int = WINDOW_MS


@dataclass(frozen=True)
class Rejection:
    """The limit that keeps a request out, and for how long."""

    limit: Limit
    # ms until the request would fit if nobody else took meanwhile; None =
    # never (it alone costs more than the limit).
    retry_after_ms: int | None

    @property
    def retry_after_s(self) -> int | None:
        """Whole seconds for the `retry-after` header, rounded up so a client that obeys fits."""
        if self.retry_after_ms is None:
            return None
        return max(1, math.ceil(self.retry_after_ms / 1000))


@dataclass(frozen=True)
class EncodedPlan:
    """A plan's part of a script call: its KEYS and its one JSON argument."""

    keys: list[str]
    args: list[ScriptArg]


def limit_key(org_id: str, kind: LimitKind, scope: LimitScope, scope_id: str) -> str:
    return f"sel:{{{org_id}}}:rl:{kind}:{scope}:{scope_id}"


def limit_plan(tenant: Snapshot, key: KeyEntry) -> list[Limit]:
    """Every limit a request with `key` must pass: the key's, then its project's."""
    org_id = tenant["org_id"]
    # .get: a snapshot published before limits existed has neither field.
    project = tenant.get("projects", {}).get(key["project_id"])
    scoped: list[tuple[LimitScope, str, int | None, int | None]] = [
        ("key", key["id"], key.get("rpm_limit"), key.get("tpm_limit"))
    ]
    if project is not None:
        scoped.append(
            ("project", key["project_id"], project.get("rpm_limit"), project.get("tpm_limit"))
        )
    plan: list[Limit] = []
    for scope, scope_id, rpm, tpm in scoped:
        by_kind: tuple[tuple[LimitKind, int | None], ...] = (("rpm", rpm), ("tpm", tpm))
        for kind, value in by_kind:
            if value is not None:
                redis_key = limit_key(org_id, kind, scope, scope_id)
                plan.append(Limit(kind, scope, scope_id, redis_key, value))
    return plan


def limit_cost(limit: Limit, tokens: int) -> int:
    """What a request takes from `limit`: one request, or the tokens it reserves."""
    return 1 if limit.kind == "rpm" else tokens


def encode_plan(plan: list[Limit], tokens: int) -> EncodedPlan:
    """KEYS, and the one ARGV of `plan`: JSON [[kind, window_ms, limit, cost], ...] (no now_ms)."""
    rows = [[limit.kind, limit.window_ms, limit.limit, limit_cost(limit, tokens)] for limit in plan]
    return EncodedPlan([limit.redis_key for limit in plan], [orjson.dumps(rows)])


def limits_call(plan: list[Limit], now_ms: int, tokens: int) -> ScriptCall:
    """KEYS and ARGV for lua/limits.lua."""
    encoded = encode_plan(plan, tokens)
    return ScriptCall(limits_script(), encoded.keys, [now_ms, *encoded.args])


def decode_rejection(plan: list[Limit], index: int, retry_ms: int) -> Rejection | None:
    """Turn a script's (1-based limit index, retry ms) into a Rejection; index 0 = admitted."""
    if index == 0:
        return None
    return Rejection(plan[index - 1], None if retry_ms == NEVER else retry_ms)


async def check_and_take_limits(
    client: AsyncRedisClient, plan: list[Limit], now_ms: int, tokens: int
) -> Rejection | None:
    """Take one request and `tokens` from every limit of `plan`, or return why not."""
    if not plan:
        return None
    call = limits_call(plan, now_ms, tokens)
    reply = await run_script(client, call.script, call.keys, call.args)
    if not isinstance(reply, list) or len(reply) != 2:
        raise TypeError(f"limits.lua returned {reply!r}")
    index, retry_ms = reply
    if not isinstance(index, int) or not isinstance(retry_ms, int):
        raise TypeError(f"limits.lua returned {reply!r}")
    return decode_rejection(plan, index, retry_ms)
