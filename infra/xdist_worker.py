"""Which pytest-xdist worker this process is, and the resources that belong to it alone.

`pytest -n N` runs N worker processes (gw0 … gwN-1) against the same
PostgreSQL and Redis. pytest-django gives each its own test database
(test_<name>_gwN); Redis databases and loopback ports are shared by every
process of the machine, so each worker takes its own: this module says which.
A serial run is worker 0. No side effects: tests/servers.py and the benchmarks
import it outside pytest too.
"""

from __future__ import annotations

import os

# Redis has 16 databases (0-15). The app (`make run`) uses 0; a test run uses
# 15 and, for worker N, 15 - N. Eight workers keep well clear of the app's.
MAX_WORKERS = 8

# Loopback ports for the servers tests start (proxies, mock providers, metrics):
# each worker owns a slice below the kernel's ephemeral range (32768-60999 on
# Linux), so neither another worker nor an outgoing connection is handed the
# port between the moment a test picks it and the moment its server binds it.
SERVER_PORTS_START = 10000
SERVER_PORTS_PER_WORKER = 250
# Redis Cluster nodes (infra/redis_cluster.py) need port + 10000 free for the
# cluster bus: nodes take 14000-15599, their buses 24000-25599.
CLUSTER_PORTS_START = 14000
CLUSTER_PORTS_PER_WORKER = 100


def worker_index() -> int:
    """0 in a serial run or on xdist's gw0; N on gwN."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(name[2:]) if name.startswith("gw") and name[2:].isdigit() else 0


def server_port_range() -> tuple[int, int]:
    """[start, end) of the ports this worker's test servers may listen on."""
    start = SERVER_PORTS_START + worker_index() * SERVER_PORTS_PER_WORKER
    return start, start + SERVER_PORTS_PER_WORKER


def cluster_port_range() -> tuple[int, int]:
    """[start, end) of the ports this worker's Redis Cluster nodes may listen on."""
    start = CLUSTER_PORTS_START + worker_index() * CLUSTER_PORTS_PER_WORKER
    return start, start + CLUSTER_PORTS_PER_WORKER
