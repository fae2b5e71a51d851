"""The request log: one row of metadata per proxy request, never a prompt or a completion."""

from __future__ import annotations

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

    class Meta:
        indexes = [
            models.Index(fields=["org", "-created_at"], name="requestlog_org_recent"),
            models.Index(fields=["created_at"], name="requestlog_created"),
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
