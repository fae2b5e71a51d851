"""RequestContext: the one typed object the stages read and write for a request."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from gateway.proxy.snapshot import KeyEntry, Snapshot


@dataclass
class RequestContext:
    request_id: str
    method: str
    path: str
    started_at: float = field(default_factory=time.perf_counter)
    # Set by the auth stage.
    tenant: Snapshot | None = None
    key: KeyEntry | None = None
    status: int = 0
    error_type: str | None = None

    @property
    def org_id(self) -> str | None:
        return self.tenant["org_id"] if self.tenant else None
