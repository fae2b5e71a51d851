"""The request log: one row of metadata per proxy request, never a prompt or a completion."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models

from tenants.models import Organization


class RequestLog(models.Model):
    """What happened to one request (CONTRACT.md section 6): who, which model, tokens, timing."""

    id = models.BigAutoField(primary_key=True)
    request_id = models.CharField(max_length=32, unique=True)
    # Rejected before auth (bad key): no org; kept for operators, shown to nobody.
    org = models.ForeignKey(
        Organization, on_delete=models.CASCADE, null=True, related_name="request_logs"
    )
    # Plain ids, not foreign keys: the log outlives revoked keys and moved projects.
    project_id = models.UUIDField(null=True)
    team_id = models.UUIDField(null=True)
    key_id = models.UUIDField(null=True)
    user_id = models.UUIDField(null=True)
    created_at = models.DateTimeField()
    endpoint = models.CharField(max_length=64)
    model_requested = models.CharField(max_length=200, blank=True)
    model_dispatched = models.CharField(max_length=200, blank=True)
    provider = models.CharField(max_length=32, blank=True)
    deployment_id = models.CharField(max_length=100, blank=True)
    # The route's strategy (priority | latency | cost | weighted); blank before routing.
    strategy = models.CharField(max_length=16, blank=True)
    stream = models.BooleanField(default=False)
    status = models.PositiveSmallIntegerField()
    error_type = models.CharField(max_length=64, blank=True)
    # The code the client got (no_provider_key, all_deployments_failed…); blank on success.
    error_code = models.CharField(max_length=64, blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cached_input_tokens = models.PositiveIntegerField(default=0)
    reasoning_tokens = models.PositiveIntegerField(default=0)
    latency_ms = models.PositiveIntegerField(default=0)
    ttfb_ms = models.PositiveIntegerField(null=True)
    cost_usd = models.DecimalField(max_digits=18, decimal_places=6, null=True)
    # [{deployment_id, provider, model, outcome, latency_ms}], in the order tried.
    attempts = models.JSONField(default=list)
    client_disconnected = models.BooleanField(default=False)
    # [{entity, action, count, detector, where: prompt|answer}] of the PII policy;
    # counts only, never a value (CONTRACT.md section 6).
    redactions = models.JSONField(default=list)
    # Who answered and how it was chosen (CONTRACT.md section 6): the physical
    # endpoint ("host[:port]", never a key), the provider whose error failed the
    # request, the snapshot version that routed it, the task label.
    upstream_host = models.CharField(max_length=255, blank=True)
    error_provider = models.CharField(max_length=32, blank=True)
    routing_version = models.BigIntegerField(null=True)
    task = models.CharField(max_length=32, blank=True)
    # Managed access: the platform's fee on top of cost_usd (billing); null = none.
    platform_fee_usd = models.DecimalField(max_digits=18, decimal_places=6, null=True)

    class Meta:
        # The table is range-partitioned by UTC day on created_at (migration
        # 0006, observability.partitions); in the database the primary key is
        # (id, created_at) and request_id is unique per created_at, which still
        # makes a re-drained event a no-op (created_at is the event's ts).
        # Indexes serve the request log's pages, newest first with a keyset on
        # (created_at, id), for one org: all of it, or one key, project, model,
        # error status or error type, so that even a filter matching nothing
        # reads an index range rather than the org's whole window. Each full
        # index costs the drain a write per row; the two partial ones only for
        # failed requests. Status 200 (most rows) walks the org index.
        indexes = [
            models.Index(fields=["org", "-created_at", "-id"], name="requestlog_org_newest"),
            models.Index(fields=["key_id", "-created_at", "-id"], name="requestlog_key_newest"),
            models.Index(
                fields=["project_id", "-created_at", "-id"], name="requestlog_project_newest"
            ),
            models.Index(
                fields=["org", "model_requested", "-created_at", "-id"],
                name="requestlog_model_newest",
            ),
            # Partial: only failed requests (a few percent) pay for these two.
            models.Index(
                fields=["org", "status", "-created_at", "-id"],
                name="requestlog_org_errors",
                condition=models.Q(status__gte=400),
            ),
            models.Index(
                fields=["org", "error_type", "-created_at", "-id"],
                name="requestlog_error_type",
                condition=~models.Q(error_type=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} {self.model_requested} {self.status}"

    @property
    def redaction_counts(self) -> list[tuple[str, int]]:
        """How many values of each entity type were redacted, prompt and answer together."""
        totals: dict[str, int] = {}
        for item in self.redactions:
            totals[item["entity"]] = totals.get(item["entity"], 0) + item["count"]
        return sorted(totals.items())

    @property
    def failed_outcomes(self) -> list[str]:
        """Why the attempts that failed failed, each reason once, in the order first seen."""
        outcomes = (str(a.get("outcome", "")) for a in self.attempts if a.get("outcome") != "ok")
        return list(dict.fromkeys(o for o in outcomes if o))

    @property
    def fallbacks(self) -> list[str]:
        return [f"{a['provider']}/{a['model']}" for a in self.attempts if a.get("outcome") != "ok"]


class DataKey(models.Model):
    """An org's trace key of one UTC day, sealed under SELIXES_MASTER_KEYS (gateway.shared.traces).

    Deleting the row is crypto-shredding: that day's traces no longer open,
    whether or not their partition is gone yet (retention, GDPR deletion).
    """

    id = models.BigAutoField(primary_key=True)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    # crypto.MasterKeys.seal(key, crypto.data_key_context(org_id, day)): "v1.<kid>.…",
    # so the master key id is in it and rewrap_secrets can re-seal it.
    sealed = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["org", "day"], name="datakey_one_per_org_and_day")
        ]

    def __str__(self) -> str:
        return f"data key of {self.org_id} for {self.day}"


class Trace(models.Model):
    """One request's payloads, sealed by the proxy; plaintext never reaches this table."""

    id = models.BigAutoField(primary_key=True)
    request_id = models.CharField(max_length=32)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()
    day = models.DateField()  # whose data key sealed it (gateway.shared.traces)
    sealed = models.BinaryField()  # nonce + AES-256-GCM ciphertext and tag

    class Meta:
        # Range-partitioned by UTC day on created_at like the request log
        # (migration 0006); the database's primary key is (id, created_at).
        indexes = [models.Index(fields=["org", "request_id"], name="trace_org_request")]

    def __str__(self) -> str:
        return f"trace of {self.request_id}"


class UsageRollup(models.Model):
    """Per-day totals of the request log, one row per combination of what usage groups by.

    GET /api/v1/usage/, the charts and billing read these instead of scanning
    the log; the drain adds to them in the transaction that writes the log
    rows, counting only rows it actually inserted, so a replayed event counts
    once. Latency is kept as a histogram (observability.latency_histogram) so
    percentiles of any grouping can be merged from the rows.
    """

    id = models.BigAutoField(primary_key=True)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()  # UTC
    project_id = models.UUIDField(null=True)
    key_id = models.UUIDField(null=True)
    user_id = models.UUIDField(null=True)
    # The dispatched model if one answered, else the one requested.
    model = models.CharField(max_length=200, blank=True)
    provider = models.CharField(max_length=32, blank=True)
    status = models.PositiveSmallIntegerField()
    task = models.CharField(max_length=32, blank=True)
    requests = models.BigIntegerField(default=0)
    errors = models.BigIntegerField(default=0)  # status >= 400
    input_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    cached_input_tokens = models.BigIntegerField(default=0)
    reasoning_tokens = models.BigIntegerField(default=0)
    # Integer nano-USD (gateway.shared.money), summed exactly.
    cost_nano = models.BigIntegerField(default=0)
    platform_fee_nano = models.BigIntegerField(default=0)
    latency_hist = ArrayField(models.IntegerField(), default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "org", "day", "project_id", "key_id", "user_id",
                    "model", "provider", "status", "task",
                ],
                name="usagerollup_one_row_per_group",
                nulls_distinct=False,
            )
        ]  # fmt: skip
        indexes = [models.Index(fields=["org", "day"], name="usagerollup_org_day")]

    def __str__(self) -> str:
        return f"usage of {self.org_id} on {self.day}"
