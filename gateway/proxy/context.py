"""RequestContext: the one typed object the stages read and write for a request."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gateway.proxy.providers.base import Usage
from gateway.shared.snapshot import DeploymentEntry, KeyEntry, Snapshot

if TYPE_CHECKING:
    from gateway.proxy.budget.engine import Candidate, Hold
    from gateway.proxy.routing.failover import Failover
    from gateway.proxy.trace.capture import TraceCapture
    from gateway.shared.usage_event import Attempt, Redaction


@dataclass
class RequestContext:
    request_id: str
    method: str
    path: str
    arrived_at: float = field(default_factory=time.time)
    started_at: float = field(default_factory=time.perf_counter)
    # auth
    tenant: Snapshot | None = None
    key: KeyEntry | None = None
    # the request (route stage)
    operation: str = ""  # "chat" | "embeddings"
    dialect: str = "openai"  # the client's wire format: "openai" | "anthropic"
    model_requested: str | None = None
    stream: bool = False
    payload: dict[str, Any] = field(default_factory=dict)
    body_bytes: int = 0  # the request body's size
    # Client headers a native passthrough may hand on (anthropic-beta, anthropic-version).
    client_headers: dict[str, str] = field(default_factory=dict)
    candidates: list[DeploymentEntry] = field(default_factory=list)
    strategy: str | None = None  # the route's (gateway.proxy.routing)
    # each candidate's breaker phase when the router chose it, by deployment id
    routing_health: Mapping[str, str] = field(default_factory=dict)
    # the attempt limit, deadline and health feedback of failover (upstream stage)
    failover: Failover | None = None
    # admission: the priced candidates still to try, the one being tried, and
    # what the request holds in Redis (None: no budget or limit applied)
    input_token_bound: int = sys.maxsize  # set when a budget or token limit applies
    offers: list[Candidate] = field(default_factory=list)
    offer: Candidate | None = None
    hold: Hold | None = None
    # upstream
    deployment: DeploymentEntry | None = None
    attempts: list[Attempt] = field(default_factory=list)
    # "host[:port]" the current attempt sent to; None until its request was built
    upstream_endpoint: str | None = None
    usage: Usage = field(default_factory=Usage)
    ttfb_ms: int | None = None
    cost_nano: int | None = None  # the actual cost of the answer
    client_disconnected: bool = False
    # the answer
    status: int = 0
    error_type: str | None = None
    error_code: str | None = None  # the error's code, as the client got it
    # the provider whose answer failed the request (None: success, or the gateway refused)
    error_provider: str | None = None
    # what the PII policy redacted (redact stage), prompt and answer; no values
    redactions: list[Redaction] = field(default_factory=list)
    # observability on (gateway.proxy.trace): what crossed the gateway, in
    # memory until the record stage seals it; None when off. trace_dropped:
    # why a trace that observability wanted cannot be kept (counted at the end).
    trace: TraceCapture | None = None
    trace_dropped: str | None = None

    @property
    def org_id(self) -> str | None:
        return self.tenant["org_id"] if self.tenant else None

    def mark_first_byte(self) -> None:
        if self.ttfb_ms is None:
            self.ttfb_ms = int((time.perf_counter() - self.started_at) * 1000)
