"""Where the budget engine keeps things in Redis; every key of an org shares the tag {org_id}.

  sel:{<org>}:budget:<budget id>:<window id>   hash {spent, reserved}: a counter (budget_windows.py)
  sel:{<org>}:budget:ready                     marker: the counters are trustworthy; gone
                                               after a flush, until rebuilt from the ledger
  sel:{<org>}:resv                             hash: request id -> reservation (budget_counters.lua)
  sel:{<org>}:resv:deadlines                   zset: request id by deadline, the reaper's queue
  sel:{<org>}:reaped:<request id>              tombstone: the reaper charged this one
  sel:{<org>}:settled:<request id>             marker (60 s): this settlement already ran

Redis must not evict these (maxmemory-policy noeviction or volatile-*): a
counter evicted while the marker stays would read as zero spent.
"""

from __future__ import annotations

from gateway.shared.budget_windows import counter_key


def label(budget_id: str, window_id: str) -> str:
    """A counter's name in reservations and ledger entries: "<budget id>:<window id>"."""
    return f"{budget_id}:{window_id}"


def counter_key_of(org_id: str, counter_label: str) -> str:
    budget_id, _, window_id = counter_label.partition(":")
    return counter_key(org_id, budget_id, window_id)


def ready_key(org_id: str) -> str:
    return f"sel:{{{org_id}}}:budget:ready"


def reservations_key(org_id: str) -> str:
    return f"sel:{{{org_id}}}:resv"


def deadlines_key(org_id: str) -> str:
    return f"sel:{{{org_id}}}:resv:deadlines"


def tombstone_key(org_id: str, request_id: str) -> str:
    return f"sel:{{{org_id}}}:reaped:{request_id}"


def settled_key(org_id: str, request_id: str) -> str:
    return f"sel:{{{org_id}}}:settled:{request_id}"
