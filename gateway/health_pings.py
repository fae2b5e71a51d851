"""Active health pings from Celery beat: which orgs opted in, and one run over all of them.

The calls themselves, and how their outcomes reach the proxies' shared health
state, are gateway.proxy.routing.ping's: the same adapters, keyring, SSRF
guard and Lua scripts as the proxy's. A run reads each org's snapshot as web
builds it (the database, not Redis), so a route saved a moment ago is pinged
as saved. Pings are charged to no budget and written to no request log; the
provider bills the tenant a few prompt tokens and one answer token for each.
"""

from __future__ import annotations

import asyncio
import os

from django.conf import settings

from gateway.models import Deployment
from gateway.proxy.keyring import Keyring, platform_keys_from
from gateway.proxy.lua_scripts import script_flags_from
from gateway.proxy.redis_client import proxy_redis
from gateway.proxy.routing.config import RoutingConfig
from gateway.proxy.routing.ping import CONCURRENCY, Pinger, PingOutcome
from gateway.proxy.upstream_client import UpstreamClient
from gateway.shared.crypto import MasterKeys
from gateway.shared.snapshot import Snapshot
from tenants.models import Organization
from tenants.snapshots import build_snapshot


def pinged_tenants() -> list[Snapshot]:
    """The snapshot of every org with at least one deployment that opted in to pings."""
    org_ids = Deployment.objects.filter(health_check=True).values("route__org_id")
    return [build_snapshot(org) for org in Organization.objects.filter(id__in=org_ids)]


async def _ping(tenants: list[Snapshot], timeout_s: float) -> list[PingOutcome]:
    keyring = Keyring(
        MasterKeys.parse(settings.SELIXES_MASTER_KEYS), platform_keys_from(os.environ)
    )
    upstream = UpstreamClient(
        allow_private=settings.SELIXES_PRIVATE_UPSTREAMS == "allow", pool_size=CONCURRENCY
    )
    client = proxy_redis(settings.REDIS_URL, settings.REDIS_CLUSTER)  # the proxy's own
    await upstream.start()
    try:
        pinger = Pinger(
            client,
            upstream,
            keyring,
            RoutingConfig.from_env(os.environ),
            timeout_s,
            script_flags=script_flags_from(os.environ),
        )
        return await pinger.ping_orgs(tenants)
    finally:
        await upstream.close()
        await client.aclose()


def ping_opted_in_deployments(timeout_s: float | None = None) -> list[PingOutcome]:
    """Ping every opted-in deployment of every org once; return what each ping found."""
    tenants = pinged_tenants()
    if not tenants:
        return []
    return asyncio.run(_ping(tenants, timeout_s or settings.HEALTH_PING_TIMEOUT_S))
