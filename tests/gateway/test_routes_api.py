"""The routes API: PUT replaces a whole route, bad input is refused, other orgs see nothing."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from gateway import actions
from gateway.models import Deployment, Route
from gateway.specs import DeploymentSpec, RouteSpec
from tenants.errors import Invalid
from tenants.models import AuditEvent
from tests.conftest import Persona
from tests.gateway.conftest import a_deployment, a_route, add_key, error_of, put_route


def test_a_put_creates_a_route_and_a_get_returns_it(alice_api: APIClient) -> None:
    body = a_route(
        a_deployment(
            provider="vllm",
            model="llama",
            api_base="https://8.8.8.8/v1",
            weight=3,
            quality=80,
            price={"input_per_mtok": "2.5", "output_per_mtok": "10"},
        ),
        a_deployment(provider="anthropic", model="claude-sonnet-4-5", timeout_s=30),
        strategy="cost",
        min_quality=50,
    )
    created = put_route(alice_api, "gpt-4o", body)
    assert created.status_code == 201, created.content
    fetched = alice_api.get("/api/v1/routes/gpt-4o/").json()
    assert fetched == created.json()
    assert fetched["model"] == "gpt-4o"
    assert fetched["strategy"] == "cost"
    assert fetched["min_quality"] == 50
    first, second = fetched["deployments"]
    assert first["price"] == {"input_per_mtok": "2.500000", "output_per_mtok": "10.000000"}
    assert (first["weight"], first["quality"], first["provider_key_id"]) == (3, 80, None)
    assert (second["provider"], second["model"], second["price"]) == (
        "anthropic",
        "claude-sonnet-4-5",
        None,
    )
    assert (second["timeout_s"], second["connect_timeout_s"]) == (30.0, 10.0)


def test_a_second_put_replaces_the_whole_route(alice: Persona, alice_api: APIClient) -> None:
    put_route(alice_api, "fast", a_route(a_deployment(), a_deployment(model="gpt-4o-mini")))
    response = put_route(alice_api, "fast", a_route(a_deployment(provider="groq", model="llama")))
    assert response.status_code == 200
    assert [(d["provider"], d["model"]) for d in response.json()["deployments"]] == [
        ("groq", "llama")
    ]
    assert Deployment.objects.filter(route__org=alice.org).count() == 1
    actions = list(AuditEvent.objects.filter(org=alice.org).values_list("action", flat=True))
    assert {"route.created", "route.updated"} <= set(actions)


def test_routes_are_listed_by_alias(alice_api: APIClient) -> None:
    for alias in ("b-model", "a-model", "openai/gpt-4o"):
        assert put_route(alice_api, alias, a_route()).status_code == 201
    listed = alice_api.get("/api/v1/routes/").json()
    assert [r["model"] for r in listed] == ["a-model", "b-model", "openai/gpt-4o"]
    assert alice_api.get("/api/v1/routes/openai/gpt-4o/").status_code == 200


def test_aliases_are_case_sensitive(alice_api: APIClient) -> None:
    put_route(alice_api, "gpt-4o", a_route())
    assert put_route(alice_api, "GPT-4o", a_route()).status_code == 201
    assert alice_api.get("/api/v1/routes/Gpt-4o/").status_code == 404


def test_a_deleted_route_is_gone(alice: Persona, alice_api: APIClient) -> None:
    put_route(alice_api, "gpt-4o", a_route())
    assert alice_api.delete("/api/v1/routes/gpt-4o/").status_code == 204
    assert alice_api.get("/api/v1/routes/gpt-4o/").status_code == 404
    assert not Deployment.objects.exists()
    assert AuditEvent.objects.filter(org=alice.org, action="route.deleted").exists()


def test_a_deployment_may_use_the_orgs_own_key(alice_api: APIClient) -> None:
    key_id = add_key(alice_api)
    response = put_route(alice_api, "gpt-4o", a_route(a_deployment(provider_key_id=key_id)))
    assert response.status_code == 201
    assert response.json()["deployments"][0]["provider_key_id"] == key_id


def test_azure_with_its_address_and_version_is_accepted(alice_api: APIClient) -> None:
    azure = a_deployment(
        provider="azure",
        api_base="https://8.8.8.8",
        api_version="2024-10-21",
        provider_key_id=add_key(alice_api, provider="azure"),
    )
    assert put_route(alice_api, "gpt-4o", a_route(azure)).status_code == 201


def _refused(api: APIClient, body: dict[str, Any], alias: str = "gpt-4o") -> dict[str, Any]:
    response = put_route(api, alias, body)
    assert response.status_code == 400, response.content
    return error_of(response)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({**a_route(), "fallbacks": []}, "fallbacks"),
        (a_route(a_deployment(region="us")), "deployments.0.region"),
        (
            a_route(a_deployment(price={"input_per_mtok": "1", "output_per_mtok": "1", "x": "1"})),
            "deployments.0.price.x",
        ),
        (a_route(strategy="fastest"), "strategy"),
        (a_route(a_deployment(), a_deployment(provider="openrouter")), "deployments.1.provider"),
        ({"strategy": "priority", "deployments": []}, "deployments"),
        ({"strategy": "priority"}, "deployments"),
        (a_route(*[a_deployment()] * 17), "deployments"),
        (a_route(a_deployment(weight=0)), "deployments.0.weight"),
        (a_route(a_deployment(quality=101)), "deployments.0.quality"),
        (a_route(min_quality=-1), "min_quality"),
        (a_route(a_deployment(timeout_s=0)), "deployments.0.timeout_s"),
        (a_route(a_deployment(connect_timeout_s=600)), "deployments.0.connect_timeout_s"),
        (a_route(a_deployment(model="")), "deployments.0.model"),
        (a_route(a_deployment(model="gpt-4o\x7f")), "deployments.0.model"),
        (a_route(a_deployment(model="gpt-4ö")), "deployments.0.model"),
        (a_route(a_deployment(model="gpt\u0085-4o")), "deployments.0.model"),
        (a_route(a_deployment(model="gpt 4o")), "deployments.0.model"),
        (
            a_route(a_deployment(provider="azure", api_base="https://8.8.8.8")),
            "deployments.0.api_version",
        ),
        (
            a_route(a_deployment(provider="azure", api_version="2024-10-21")),
            "deployments.0.api_base",
        ),
        (a_route(a_deployment(provider="vllm")), "deployments.0.api_base"),
        (a_route(a_deployment(provider_key_id="not-a-uuid")), "deployments.0.provider_key_id"),
        ("not an object", None),
    ],
)
def test_bad_routes_are_refused_naming_the_field(
    alice_api: APIClient, body: Any, param: str | None
) -> None:
    assert _refused(alice_api, body)["param"] == param
    assert not Route.objects.exists()


@pytest.mark.parametrize(
    "price",
    [
        "0.1234567",  # seven decimal places
        "-1",
        "1e3",
        "NaN",
        " 1",
        "1.",
        "100000.000001",
        "",
        "٣",  # a digit, but not an ASCII one
        1,  # JSON numbers, even exact ones: prices are strings
        0.5,
        None,
    ],
)
def test_bad_prices_are_refused(alice_api: APIClient, price: object) -> None:
    body = a_route(a_deployment(price={"input_per_mtok": "1.00", "output_per_mtok": price}))
    error = _refused(alice_api, body)
    assert error["param"] == "deployments.0.price.output_per_mtok"


def test_a_price_needs_both_halves(alice_api: APIClient) -> None:
    error = _refused(alice_api, a_route(a_deployment(price={"input_per_mtok": "1.00"})))
    assert error["param"] == "deployments.0.price.output_per_mtok"


@pytest.mark.parametrize(
    "alias", ["a" * 101, "gpt 4o", "a//b", "../x", "x/.", "émoji", "a%3Fb", "a%23b", "a%7Fb"]
)
def test_bad_aliases_are_refused(alice_api: APIClient, alias: str) -> None:
    assert _refused(alice_api, a_route(), alias=alias)["param"] == "model"
    assert not Route.objects.exists()


def test_an_alias_with_a_trailing_newline_is_refused(alice: Persona) -> None:
    spec = RouteSpec(strategy="priority", deployments=[DeploymentSpec("openai", "gpt-4o")])
    with pytest.raises(Invalid):
        actions.replace_route(alice.org, "gpt-4o\n", spec, alice.actor)
    assert not Route.objects.exists()


def test_a_revoked_key_cannot_be_used(alice_api: APIClient) -> None:
    key_id = add_key(alice_api)
    assert alice_api.delete(f"/api/v1/provider-keys/{key_id}/").status_code == 204
    error = _refused(alice_api, a_route(a_deployment(provider_key_id=key_id)))
    assert error["param"] == "deployments.0.provider_key_id"


def test_a_key_of_another_provider_cannot_be_used(alice_api: APIClient) -> None:
    key_id = add_key(alice_api, provider="anthropic", api_key="sk-ant-0123456789")
    error = _refused(alice_api, a_route(a_deployment(provider_key_id=key_id)))
    assert "anthropic key" in error["message"]


def test_another_orgs_key_reads_like_a_key_that_does_not_exist(
    alice_api: APIClient, charlie_api: APIClient
) -> None:
    charlies = add_key(charlie_api)
    missing = "00000000-0000-4000-8000-000000000000"
    theirs = _refused(alice_api, a_route(a_deployment(provider_key_id=charlies)))
    nobodys = _refused(alice_api, a_route(a_deployment(provider_key_id=missing)))
    assert theirs == nobodys


def test_charlie_gets_404_on_alices_route(alice_api: APIClient, charlie_api: APIClient) -> None:
    put_route(alice_api, "gpt-4o", a_route())
    assert charlie_api.get("/api/v1/routes/gpt-4o/").status_code == 404
    assert charlie_api.delete("/api/v1/routes/gpt-4o/").status_code == 404
    assert charlie_api.get("/api/v1/routes/").json() == []
    assert Route.objects.filter(model="gpt-4o").count() == 1


def test_charlies_put_of_the_same_alias_makes_his_own_route(
    alice: Persona, charlie: Persona, alice_api: APIClient, charlie_api: APIClient
) -> None:
    put_route(alice_api, "gpt-4o", a_route())
    response = put_route(charlie_api, "gpt-4o", a_route(a_deployment(provider="groq")))
    assert response.status_code == 201
    alices = Route.objects.get(org=alice.org, model="gpt-4o")
    assert [d.provider for d in alices.deployments.all()] == ["openai"]


def test_a_member_may_read_routes_but_not_change_them(alice_api: APIClient, bob: Persona) -> None:
    put_route(alice_api, "gpt-4o", a_route())
    browser = APIClient()
    browser.force_login(bob.user)
    assert browser.get("/api/v1/routes/gpt-4o/").status_code == 200
    assert put_route(browser, "gpt-4o", a_route(strategy="cost")).status_code == 403
    assert browser.delete("/api/v1/routes/gpt-4o/").status_code == 403
    assert Route.objects.get(model="gpt-4o").strategy == "priority"


def test_without_credentials_the_api_answers_401() -> None:
    assert APIClient().get("/api/v1/routes/").status_code == 401


def test_an_org_whose_routes_use_its_keys_can_still_be_deleted(
    alice: Persona, alice_api: APIClient
) -> None:
    key_id = add_key(alice_api)
    put_route(alice_api, "gpt-4o", a_route(a_deployment(provider_key_id=key_id)))
    alice.org.delete()
    assert not Route.objects.exists()
    assert not Deployment.objects.exists()
