"""Daily usage rollups as the drain leaves them, for tests of what reads them (usage reports).

The drain is the only writer in production; a test of the report builds the
rows it sums directly, so it can check the arithmetic on numbers it chose.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

from observability.latency_histogram import histogram_of
from observability.models import UsageRollup
from tenants.models import Organization


def add_rollup(
    org: Organization,
    day: date,
    *,
    latencies: Sequence[int] = (),
    project_id: UUID | str | None = None,
    key_id: UUID | str | None = None,
    user_id: UUID | str | None = None,
    model: str = "gpt-4o-mini",
    provider: str = "openai",
    status: int = 200,
    task: str = "",
    **sums: Any,
) -> UsageRollup:
    """One rollup row; `latencies` become its histogram and, unless given, its request count.

    `sums` sets requests, errors, input_tokens, output_tokens, cached_input_tokens,
    reasoning_tokens, cost_nano or platform_fee_nano; errors default to the
    requests when the status is an error, as the drain counts them.
    """
    requests = sums.pop("requests", len(latencies))
    errors = sums.pop("errors", requests if status >= 400 else 0)
    row: UsageRollup = UsageRollup.objects.create(
        org=org,
        day=day,
        project_id=project_id,
        key_id=key_id,
        user_id=user_id,
        model=model,
        provider=provider,
        status=status,
        task=task,
        requests=requests,
        errors=errors,
        latency_hist=histogram_of(latencies),
        **sums,
    )
    return row
