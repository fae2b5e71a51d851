"""The usage event holds what the request log can store, whatever an upstream reported."""

from __future__ import annotations

import os

import orjson
import pytest
import redis

from gateway.proxy.context import RequestContext
from gateway.proxy.providers.base import Usage
from gateway.proxy.usage import MAX_COUNT, event_from
from gateway.shared.usage_event import STREAM
from observability.drain import drain_usage_stream
from observability.models import RequestLog


@pytest.mark.django_db
def test_token_counts_a_tenants_own_upstream_reports_are_logged_within_what_the_log_holds(
    redis_client: redis.Redis,
) -> None:
    # A self-hosted api_base answers whatever usage it likes.
    ctx = RequestContext(request_id=os.urandom(16).hex(), method="POST", path="/v1/embeddings")
    ctx.usage = Usage(input_tokens=2**40, output_tokens=-5, cached_input_tokens=-1)
    ctx.status = 200
    redis_client.xadd(STREAM, {"e": orjson.dumps(event_from(ctx))})

    assert drain_usage_stream(redis_client) == 1

    row = RequestLog.objects.get(request_id=ctx.request_id)
    assert (row.input_tokens, row.output_tokens, row.cached_input_tokens) == (MAX_COUNT, 0, 0)
