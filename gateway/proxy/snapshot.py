"""The tenant snapshot: what web publishes to Redis and the proxy reads.

Web is the only writer. After every committed change to an org it writes the
whole snapshot with a version that only grows (publish_snapshot.lua refuses an
older one, so two racing publishers cannot roll a proxy back), then announces
`org_id:version` on CHANNEL so proxies drop their cached copy.

Redis layout (every per-org key carries the hash tag {org_id}, DESIGN.md):
  sel:{<org_id>}:snapshot   hash: version -> int, body -> JSON Snapshot
  sel:keyidx:<key hash>     string: org_id of an active API key
"""

from __future__ import annotations

from typing import TypedDict

CHANNEL = "sel:snapshots"


class KeyEntry(TypedDict):
    id: str
    hash: str
    project_id: str
    team_id: str | None
    user_id: str | None


class Snapshot(TypedDict):
    org_id: str
    version: int
    # Active API keys by display prefix; a revoked key is simply absent.
    keys: dict[str, KeyEntry]


def snapshot_key(org_id: str) -> str:
    return f"sel:{{{org_id}}}:snapshot"


def key_index_key(key_hash: str) -> str:
    return f"sel:keyidx:{key_hash}"
