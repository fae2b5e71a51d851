"""Observe one finished request in the proxy's metrics (gateway.proxy.metrics), cheaply.

The record stage calls `RequestMetrics.observe` once per request, after its
usage event is built. Every label value comes from a bounded set, never from
a tenant: the operation from the path, the provider from the deployment (the
providers catalogue), the model only if the pricing table knows it (a
self-hosted or tenant-named model is "other"), the error type from the
proxy's own error tree. About a dozen counter and bucket updates per request
(a few microseconds; `make bench` before and after is in the lane's note).
"""

from __future__ import annotations

from typing import Any

from prometheus_client.metrics import MetricWrapperBase

from gateway.proxy import metrics
from gateway.proxy.context import RequestContext
from gateway.proxy.pricing import PriceTable

# path -> the operation label of selixes_proxy_requests
OPERATIONS = {
    "/v1/chat/completions": "chat",
    "/v1/messages": "messages",
    "/v1/embeddings": "embeddings",
    "/v1/models": "models",
}
# The GenAI conventions' gen_ai.operation.name: Anthropic's messages are chat too.
GEN_AI_OPERATIONS = {"chat": "chat", "messages": "chat", "embeddings": "embeddings"}
REFUSAL_TYPES = frozenset({"budget_exceeded", "rate_limit_exceeded", "plan_limit_exceeded"})
OTHER = "other"
NONE = "none"
_MODEL_CACHE_MAX = 4096
_CHILDREN_MAX = 16384


class _Children:
    """A metric's labelled children, kept: `labels()` validates and locks on every call.

    Half the cost of observing a request was finding its series again; a
    dict of the ones seen (bounded, as the label values are) makes it one lookup.
    """

    def __init__(self, metric: MetricWrapperBase) -> None:
        self.metric = metric
        self.seen: dict[tuple[str, ...], Any] = {}

    def __call__(self, *values: str) -> Any:
        child = self.seen.get(values)
        if child is None:
            if len(self.seen) >= _CHILDREN_MAX:
                self.seen.clear()
            child = self.seen[values] = self.metric.labels(*values)
        return child


class RequestMetrics:
    def __init__(self, prices: PriceTable) -> None:
        self.prices = prices
        # (provider, model) -> its label; bounded, cleared when full.
        self._models: dict[tuple[str, str], str] = {}
        self.requests = _Children(metrics.REQUESTS)
        self.upstream_errors = _Children(metrics.UPSTREAM_ERRORS)
        self.refusals = _Children(metrics.REFUSALS)
        self.duration = _Children(metrics.REQUEST_DURATION)
        self.first_token = _Children(metrics.TIME_TO_FIRST_TOKEN)
        self.tokens = _Children(metrics.TOKEN_USAGE)
        self.cost = _Children(metrics.COST)

    def model_label(self, provider: str, model: str) -> str:
        """`model` if the pricing table knows it at `provider`, else "other" (bounded labels)."""
        key = (provider, model)
        label = self._models.get(key)
        if label is None:
            label = model if self.prices.entry(provider, model) is not None else OTHER
            if len(self._models) >= _MODEL_CACHE_MAX:
                self._models.clear()
            self._models[key] = label
        return label

    def observe(self, ctx: RequestContext, duration_s: float) -> None:
        """Count the request, its duration, first token, tokens, cost, refusal, failed attempts."""
        operation = OPERATIONS.get(ctx.path, OTHER)
        deployment = ctx.deployment
        if deployment is not None:
            provider = deployment["provider"]
            model = self.model_label(provider, deployment["model"])
        else:
            provider, model = ctx.error_provider or NONE, NONE
        self.requests(str(ctx.status), provider, operation, model).inc()
        for attempt in ctx.attempts:
            if attempt["outcome"] != "ok":
                self.upstream_errors(attempt["provider"], attempt["outcome"]).inc()
        if ctx.error_provider is not None and ctx.error_code == "stream_broken":
            self.upstream_errors(ctx.error_provider, "stream_broken").inc()
        if ctx.error_type in REFUSAL_TYPES:
            self.refusals(ctx.error_type).inc()
        gen_ai_operation = GEN_AI_OPERATIONS.get(operation)
        if gen_ai_operation is None or ctx.tenant is None:
            return  # not a model call (a listing, an unknown path, no key)
        self.duration(gen_ai_operation, provider, model, ctx.error_type or "").observe(duration_s)
        if deployment is None or ctx.status != 200:
            return
        if ctx.stream and ctx.ttfb_ms is not None and ctx.error_type is None:
            self.first_token(gen_ai_operation, provider, model).observe(ctx.ttfb_ms / 1000)
        usage = ctx.usage
        self.tokens(gen_ai_operation, provider, model, "input").observe(usage.input_tokens)
        if gen_ai_operation == "chat":
            self.tokens(gen_ai_operation, provider, model, "output").observe(usage.output_tokens)
        if ctx.cost_nano:
            self.cost(provider, model).inc(ctx.cost_nano / 1e9)
