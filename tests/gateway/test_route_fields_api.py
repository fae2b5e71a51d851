"""The routes API's failover fields: max_attempts and deadline_s, checked, stored and published."""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis
from rest_framework.test import APIClient

from gateway.models import Route
from gateway.shared.snapshot import snapshot_key
from tests.conftest import Persona
from tests.gateway.conftest import a_route, error_of, put_route


@pytest.mark.django_db(transaction=True)  # the snapshot is published on commit
def test_a_route_keeps_its_attempt_limit_and_deadline(
    alice: Persona, alice_api: APIClient, redis_client: redis.Redis
) -> None:
    created = put_route(alice_api, "gpt-4o", a_route(max_attempts=2, deadline_s=12.5))
    assert created.status_code == 201, created.content
    fetched = alice_api.get("/api/v1/routes/gpt-4o/").json()
    assert (fetched["max_attempts"], fetched["deadline_s"]) == (2, 12.5)
    # Published to the proxy with the route.
    body = redis_client.hget(snapshot_key(str(alice.org.id)), "body")
    assert body is not None
    route = json.loads(body)["routes"]["gpt-4o"]
    assert (route["max_attempts"], route["deadline_s"]) == (2, 12.5)


def test_leaving_them_out_means_no_limit(alice_api: APIClient) -> None:
    put_route(alice_api, "gpt-4o", a_route(max_attempts=3))
    replaced = put_route(alice_api, "gpt-4o", a_route()).json()
    assert (replaced["max_attempts"], replaced["deadline_s"]) == (None, None)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_attempts", 0),
        ("max_attempts", 17),
        ("max_attempts", "two"),
        ("max_attempts", 1.5),
        ("deadline_s", 0),
        ("deadline_s", -1),
        ("deadline_s", 3601),
        ("deadline_s", "soon"),
    ],
)
def test_bad_failover_bounds_are_refused_naming_the_field(
    alice_api: APIClient, field: str, value: Any
) -> None:
    response = put_route(alice_api, "gpt-4o", a_route(**{field: value}))
    assert response.status_code == 400
    assert error_of(response)["param"] == field
    assert not Route.objects.exists()
