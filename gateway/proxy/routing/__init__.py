"""Routing: which deployment a request goes to, and in what order the others follow.

    strategies.py  priority, latency, cost, weighted: a route's deployments in order
    breaker.py     the circuit breaker's rules (pure: thresholds, phases)
    health.py      per-deployment state in this process: window counts, TTFB
                   moving average, breaker, retry-after; and the deltas not yet shared
    sync.py        the background task that shares those deltas through Redis
                   (lua/routing_sync.lua, one call per org) and the half-open probe
                   grant (lua/routing_probe.lua)
    router.py      Router.plan(): strategy order minus blocked deployments
    failover.py    one request's retry budget: attempt limit, deadline, backoff,
                   and each attempt's outcome fed back into health
    ping.py        active health pings (Celery beat, opted-in deployments only),
                   their outcomes recorded through the same health and sync
    report.py      one deployment's shared state read for people (dashboard)

Choosing never waits on Redis: it reads this process's copy, refreshed in the
background every SYNC_INTERVAL_S. The one Redis call on the request path is
the probe grant, taken only for a deployment whose breaker is half-open.
"""
