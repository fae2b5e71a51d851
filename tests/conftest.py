"""Shared fixtures: the personas and clients every test speaks through.

alice: admin of Acme. bob: member of Acme. charlie: admin of Globex, the other
org whose every attempt to reach Acme's objects must answer 404.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis
from django.conf import settings
from django.test import Client
from redis.asyncio.cluster import RedisCluster
from rest_framework.test import APIClient

from gateway.proxy.redis_client import AsyncRedisClient, proxy_redis
from infra import embedded
from infra.redis_cluster import LocalRedisCluster, local_redis_cluster
from infra.xdist_worker import cluster_port_range
from tenants import actions
from tenants.audit import Actor
from tenants.models import Membership, Organization, Project, Role, User

# Here, not in tests/browser/conftest.py: pytest-xdist's controller, which prints
# the run's summary, loads only this conftest.
pytest_plugins = ["tests.browser.chromium"]

PASSWORD = "correct horse battery staple 9"


@dataclass
class Persona:
    user: User
    org: Organization
    project: Project

    @property
    def actor(self) -> Actor:
        return Actor(user=self.user, label=self.user.email, ip="127.0.0.1")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Argon2 is slow on purpose; the tests check our flows, not its cost."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clean_redis() -> Iterator[None]:
    """Each test starts with an empty test Redis database."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.flushdb()
    yield
    client.flushdb()
    client.close()


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    client: redis.Redis = redis.Redis.from_url(settings.REDIS_URL)
    yield client
    client.close()


def _admin_of(email: str, org_name: str) -> Persona:
    user, org = actions.sign_up(email, PASSWORD, org_name, ip="127.0.0.1")
    actor = Actor(user=user, label=email)
    project = actions.create_project(org, "Default", actor)
    return Persona(user=user, org=org, project=project)


@pytest.fixture
def alice(db: None) -> Persona:
    return _admin_of("alice@acme.test", "Acme")


@pytest.fixture
def bob(alice: Persona) -> Persona:
    user = User.objects.create_user(email="bob@acme.test", password=PASSWORD)
    Membership.objects.create(org=alice.org, user=user, role=Role.MEMBER)
    return Persona(user=user, org=alice.org, project=alice.project)


@pytest.fixture
def charlie(db: None) -> Persona:
    return _admin_of("charlie@globex.test", "Globex")


def api_client_for(persona: Persona) -> APIClient:
    """An API client authenticated with a fresh management token of the persona's org."""
    issued = actions.issue_management_token(persona.org, "tests", persona.actor)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
    return client


def create_key(api: APIClient, persona: Persona, name: str = "app") -> dict[str, str]:
    """Create an API key for the persona's project through the management API."""
    response = api.post(
        "/api/v1/keys/", {"project_id": str(persona.project.id), "name": name}, format="json"
    )
    assert response.status_code == 201, response.content
    body: dict[str, str] = response.json()
    return body


@pytest.fixture
def alice_api(alice: Persona) -> APIClient:
    return api_client_for(alice)


@pytest.fixture
def charlie_api(charlie: Persona) -> APIClient:
    return api_client_for(charlie)


def logged_in(persona: Persona) -> Client:
    client = Client()
    client.force_login(persona.user)
    return client


# Async Redis clients for Lua scripts. `lua_client` runs a test twice, on the
# standalone test Redis and on a local Redis Cluster (infra/redis_cluster.py),
# since both must behave the same; the cluster starts once per session, on
# first use, and is flushed after each test.


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[LocalRedisCluster]:
    # On this xdist worker's own ports: the nodes of parallel workers never meet.
    with local_redis_cluster(nodes=3, port_range=cluster_port_range()) as cluster:
        yield cluster


@pytest.fixture
async def standalone_client() -> AsyncIterator[aioredis.Redis]:
    # The proxy's own client (its lean lane runs the scripts); tests/conftest.py
    # flushes this database around every test. These tests check what the
    # scripts decide, not the proxy's 2 s fail-closed timeout (tested in
    # test_fail_closed): 90 concurrent calls on a loaded machine may take longer.
    client = proxy_redis(settings.REDIS_URL, read_timeout_s=30.0)
    assert isinstance(client, aioredis.Redis)
    yield client
    await client.aclose()


@pytest.fixture
async def cluster_client(redis_cluster: LocalRedisCluster) -> AsyncIterator[RedisCluster]:
    client = RedisCluster.from_url(redis_cluster.url)
    await client.initialize()  # learn the slot map now, so tests can ask which node owns a key
    yield client
    await client.flushall(target_nodes=RedisCluster.PRIMARIES)
    await client.aclose()


@pytest.fixture(params=["standalone", pytest.param("cluster", marks=pytest.mark.cluster)])
def lua_client(request: pytest.FixtureRequest) -> AsyncRedisClient:
    client: AsyncRedisClient = request.getfixturevalue(f"{request.param}_client")
    return client


# A test that acts on a whole Redis server (SCRIPT FLUSH, CLIENT KILL) would
# reach every xdist worker's database on the shared one: it gets a server of
# its worker's own instead, a standalone Redis or the worker's local cluster.


@pytest.fixture(scope="session")
def private_redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("redis")
    try:
        yield embedded.start_redis(directory)
    finally:
        embedded.stop_redis(directory)


@pytest.fixture
async def private_client(private_redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = proxy_redis(private_redis_url)
    assert isinstance(client, aioredis.Redis)
    yield client
    await client.flushall()
    await client.aclose()


@pytest.fixture(params=["private", pytest.param("cluster", marks=pytest.mark.cluster)])
def whole_server_client(request: pytest.FixtureRequest) -> AsyncRedisClient:
    client: AsyncRedisClient = request.getfixturevalue(f"{request.param}_client")
    return client
