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

from typing import NotRequired, TypedDict

CHANNEL = "sel:snapshots"


class KeyEntry(TypedDict):
    id: str
    hash: str
    project_id: str
    team_id: str | None
    user_id: str | None
    # Per-key request and token rate limits; None = no limit (gateway.proxy.limits).
    rpm_limit: int | None
    tpm_limit: int | None


class PiiPatternEntry(TypedDict):
    """A tenant's own pattern; web refuses on save what google-re2 cannot compile."""

    name: str  # upper-case entity name, e.g. EMPLOYEE_ID; shows in masks and the audit
    regex: str  # RE2 syntax
    action: str  # mask | pseudonymize | block | allow


class PiiPolicyEntry(TypedDict):
    """The PII policy of CONTRACT.md section 4, as the proxy applies it.

    An entity type not named in `entities` is not scanned for. Naming PERSON,
    LOCATION or ORGANIZATION (with an action other than allow) turns NER on.
    """

    enabled: bool
    entities: dict[str, str]  # TYPE -> mask | pseudonymize | block | allow
    custom_patterns: list[PiiPatternEntry]
    restore_in_response: bool


class ProjectEntry(TypedDict):
    rpm_limit: int | None
    tpm_limit: int | None
    # The project's own policy, replacing the org's whole; absent or None = the org's.
    pii: NotRequired[PiiPolicyEntry | None]


class BudgetEntry(TypedDict):
    """One budget (CONTRACT.md section 4); amounts are integer nano-USD (gateway.shared.money)."""

    id: str
    scope: str  # org | team | project | user | key
    scope_id: str  # the org's, team's, project's, user's or key's id
    limit_nano: int
    period: str  # request | day | month | total (gateway.shared.budget_windows)
    on_exhausted: str  # block | fallback


class BudgetDefaults(TypedDict):
    timezone: str  # IANA name; day and month budgets follow it
    # The price of a model the pricing table does not know; None = refuse such models.
    default_price: PriceEntry | None
    # max output tokens reserved when a request names none; None = the model's maximum.
    default_max_output_tokens: int | None


class PriceEntry(TypedDict):
    # Decimal strings in USD per million tokens (money is never a float).
    input_per_mtok: str
    output_per_mtok: str


class DeploymentEntry(TypedDict):
    """One place a model alias can be served from."""

    id: str  # stable within the route: "<alias>#<index>" is fine; shows in logs
    provider: str  # see gateway.proxy.providers.PROVIDERS
    model: str  # the provider's model name
    api_base: str | None  # None: the provider's public endpoint
    api_version: str | None  # Azure OpenAI only
    provider_key_id: str | None  # None: the platform key from the environment
    weight: int
    quality: int | None
    price: PriceEntry | None
    timeout_s: float  # read timeout per attempt
    connect_timeout_s: float
    # Active health pings (gateway/tasks.py); absent = off.
    health_check: NotRequired[bool]


class RouteEntry(TypedDict):
    strategy: str  # priority | latency | cost | weighted
    min_quality: int | None
    deployments: list[DeploymentEntry]
    # Failover bounds (gateway.proxy.routing.failover); absent or None = no limit
    # beyond trying each deployment once.
    max_attempts: NotRequired[int | None]
    deadline_s: NotRequired[float | None]


class ProviderKeyEntry(TypedDict):
    provider: str
    # crypto.MasterKeys.seal(key, crypto.provider_key_context(org_id, id)); the
    # proxy opens it in memory only.
    sealed: str


class ObservabilityEntry(TypedDict):
    """Whether payloads are kept as encrypted traces (CONTRACT.md section 6), and the keys to do it.

    The proxy keeps a trace of a request when its project says so, or, when the
    project has no override, when the org does; then it encrypts the trace
    under that UTC day's data key before it leaves the proxy's memory
    (gateway.shared.traces). With no data key for the day it keeps nothing.
    """

    enabled: bool  # the org's toggle; off by default
    projects: dict[str, bool]  # project id -> its override; absent = follow the org
    # UTC day "YYYY-MM-DD" -> the org's data key of that day (32 random bytes),
    # sealed with crypto.data_key_context(org_id, day) under SELIXES_MASTER_KEYS.
    # Web creates them ahead (yesterday to the day after tomorrow are published).
    data_keys: dict[str, str]


class Snapshot(TypedDict):
    org_id: str
    version: int
    # Active API keys by display prefix; a revoked key is simply absent.
    keys: dict[str, KeyEntry]
    # Model alias -> route; an alias that is not here does not exist for the org.
    routes: dict[str, RouteEntry]
    # Provider key id -> sealed key (BYOK).
    provider_keys: dict[str, ProviderKeyEntry]
    # Project id -> its rate limits (keys carry their own).
    projects: dict[str, ProjectEntry]
    budgets: list[BudgetEntry]
    budget_defaults: BudgetDefaults
    # The org's PII policy; absent = disabled.
    pii: NotRequired[PiiPolicyEntry]
    # The org's pseudonymization key (32 random bytes), sealed with
    # crypto.pii_secret_context(org_id); absent until the org first needs one.
    pii_secret: NotRequired[str | None]
    # The observability toggle and the trace data keys; absent = off.
    observability: NotRequired[ObservabilityEntry]


def snapshot_key(org_id: str) -> str:
    return f"sel:{{{org_id}}}:snapshot"


def key_index_key(key_hash: str) -> str:
    return f"sel:keyidx:{key_hash}"
