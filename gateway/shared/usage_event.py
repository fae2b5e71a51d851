"""The usage event: one per request, rejected ones included, on the Redis stream STREAM.

The proxy writes it (gateway.proxy.usage); observability.drain reads it into
the request log and the ledger. It holds metadata only (CONTRACT.md
section 6): never prompt or completion text.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict

from gateway.shared.traces import TraceEnvelope

STREAM = "sel:usage"


class Attempt(TypedDict):
    deployment_id: str
    provider: str
    model: str
    outcome: str  # "ok" | an error code such as "upstream_timeout" | "http_503"
    latency_ms: int
    # The physical endpoint that answered, "host[:port]" (never a path, query or key).
    endpoint: NotRequired[str]
    # The health the router saw when it chose this deployment: closed | half_open | open
    # (its circuit breaker), so a log reader can tell a probe from a healthy pick.
    health: NotRequired[str]


class Redaction(TypedDict):
    """What the PII policy did to one request, per type and detector; never the value."""

    entity: str  # EMAIL, PERSON, ... or a custom pattern's name
    action: str  # mask | pseudonymize | block
    count: int
    detector: str
    where: str  # "prompt" | "answer"


class UsageEvent(TypedDict):
    ts: float  # unix seconds when the request arrived
    request_id: str
    org_id: str | None
    project_id: str | None
    team_id: str | None
    key_id: str | None
    user_id: str | None
    endpoint: str
    model_requested: str | None
    model_dispatched: str | None
    provider: str | None
    deployment_id: str | None
    stream: bool
    status: int
    error_type: str | None
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int
    reasoning_tokens: int
    latency_ms: int
    ttfb_ms: int | None
    cost_usd: str | None  # decimal string, the actual cost of the answer
    attempts: list[Attempt]
    client_disconnected: bool
    # The ledger's share (budgets): what the settlement charged, and to which
    # counters ("<budget id>:<window id>"); 0 and [] when no budget applied.
    charged_nano: int
    windows: list[str]
    # The PII policy's redactions (gateway.proxy.pii.redactor); absent when none.
    redactions: NotRequired[list[Redaction]]
    # The route's strategy (priority | latency | cost | weighted); absent before routing.
    strategy: NotRequired[str]
    # The error's code (no_provider_key, all_deployments_failed…); absent on success.
    error_code: NotRequired[str]
    # The provider whose answer made the request fail (its error_type); absent on success
    # and when the gateway itself refused the request.
    error_provider: NotRequired[str]
    # The snapshot version that routed the request (which routes and keys were live).
    routing_version: NotRequired[int]
    # The task label (code, chat, summarization…); absent until a classifier labels it.
    task: NotRequired[str]
    # Managed access (platform keys): the fee the plan adds to cost_usd, a decimal string.
    platform_fee_usd: NotRequired[str]
    # With observability on: the encrypted trace (gateway.shared.traces); never plaintext.
    trace: NotRequired[TraceEnvelope]
