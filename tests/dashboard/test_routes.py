"""The routes and provider-keys pages: admins edit, members read routes, keys never show."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from gateway import actions
from gateway.models import ProviderKey, Route
from gateway.specs import DeploymentSpec, RouteSpec
from tests.conftest import Persona, logged_in
from tests.dashboard.support import submit, text

RAW_KEY = "sk-proj-DASHBOARD-SECRET-0123456789-LAST"


def rows(*deployments: dict[str, str], initial: int = 0, extra: int = 3) -> dict[str, str]:
    """The POST body of the route editor: the given rows, then blank ones as a browser sends."""
    blank = {"provider": "", "model": "", "weight": "1", "timeout_s": "600.0"}
    filled = [*deployments, *[blank] * extra]
    data = {
        "d-TOTAL_FORMS": str(len(filled)),
        "d-INITIAL_FORMS": str(initial),
        "d-MIN_NUM_FORMS": "0",
        "d-MAX_NUM_FORMS": "16",
    }
    for index, row in enumerate(filled):
        defaults = {"weight": "1", "timeout_s": "600.0", "connect_timeout_s": "10.0"}
        for name, value in {**defaults, **row}.items():
            data[f"d-{index}-{name}"] = value
    return data


def _route(persona: Persona, alias: str = "gpt-4o", key: ProviderKey | None = None) -> Route:
    spec = RouteSpec(
        strategy="priority",
        deployments=[
            DeploymentSpec(
                provider="openai", model="gpt-4o", provider_key_id=key.id if key else None
            ),
            DeploymentSpec(provider="anthropic", model="claude-sonnet-4-5"),
        ],
    )
    route, _ = actions.replace_route(persona.org, alias, spec, persona.actor)
    return route


def _key(persona: Persona, api_key: str = RAW_KEY, provider: str = "openai") -> ProviderKey:
    return actions.add_provider_key(persona.org, provider, api_key, persona.actor, name="prod")


@pytest.fixture
def platform_keys(settings: Any) -> None:
    """The platform holds keys of its own for these (SELIXES_PLATFORM_KEY_<PROVIDER>)."""
    settings.PLATFORM_KEY_PROVIDERS = frozenset({"openai", "anthropic", "groq"})


def test_alice_creates_a_route_in_the_editor(alice: Persona) -> None:
    browser = logged_in(alice)
    key = _key(alice)
    data = {
        "model": "smart",
        "strategy": "cost",
        "min_quality": "",
        **rows(
            {"provider": "openai", "model": "gpt-4o", "provider_key": str(key.id)},
            {
                "provider": "vllm",
                "model": "llama-3.3-70b",
                "api_base": "https://8.8.8.8/v1",
                "price_input": "0",  # free input is a price, not a missing one
                "price_output": "15.00",
            },
        ),
    }
    response = submit(browser, "/o/acme/routes/new/", data)
    route = Route.objects.get(org=alice.org, model="smart")
    assert response.status_code == 302
    assert response["Location"] == f"/o/acme/routes/{route.id}/"
    first, second = route.deployments.all()
    assert (first.provider, first.provider_key_id) == ("openai", key.id)
    assert (second.provider, str(second.price_input_per_mtok)) == ("vllm", "0.000000")
    assert str(second.price_output_per_mtok) == "15.000000"
    page = text(browser.get(response["Location"]))
    assert "Route smart was created." in page
    assert "llama-3.3-70b" in page


@pytest.mark.parametrize(
    ("row", "said"),
    [
        ({"api_base": "https://8.8.8.8/v1"}, "must name one of your provider keys"),
        (
            {"price_input": "0", "price_output": "0"},
            "a price of your own is for your own provider keys",
        ),
    ],
)
@pytest.mark.usefixtures("platform_keys")
def test_the_editor_refuses_a_platform_key_row_with_an_address_or_a_price(
    alice: Persona, row: dict[str, str], said: str
) -> None:
    browser = logged_in(alice)
    data = {
        "model": "smart",
        "strategy": "priority",
        "min_quality": "",
        **rows({"provider": "openai", "model": "gpt-4o", **row}),
    }
    response = submit(browser, "/o/acme/routes/new/", data)
    assert response.status_code == 400
    assert said in text(response)
    assert not Route.objects.filter(org=alice.org).exists()


@pytest.mark.usefixtures("platform_keys")
def test_alice_reorders_and_removes_deployments(alice: Persona) -> None:
    route = _route(alice)
    browser = logged_in(alice)
    data = {
        "strategy": "priority",
        **rows(
            {"provider": "openai", "model": "gpt-4o", "ORDER": "1", "DELETE": "on"},
            {"provider": "anthropic", "model": "claude-sonnet-4-5", "ORDER": "2"},
            {"provider": "groq", "model": "llama-3.3-70b", "ORDER": "1"},
            initial=2,
        ),
    }
    response = submit(browser, f"/o/acme/routes/{route.id}/edit/", data)
    assert response.status_code == 302
    assert [d.model for d in route.deployments.all()] == ["llama-3.3-70b", "claude-sonnet-4-5"]


@pytest.mark.usefixtures("platform_keys")
def test_the_editor_shows_an_inside_address_as_an_error_on_its_row(alice: Persona) -> None:
    route = _route(alice)
    data = {
        "strategy": "weighted",
        **rows(
            {"provider": "openai", "model": "gpt-4o"},
            {"provider": "vllm", "model": "llama", "api_base": "http://169.254.169.254/"},
            initial=2,
        ),
    }
    response = submit(logged_in(alice), f"/o/acme/routes/{route.id}/edit/", data)
    assert response.status_code == 400
    assert "not allowed here" in text(response)
    route.refresh_from_db()
    assert route.strategy == "priority"
    assert route.deployments.count() == 2


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"provider": "openai", "model": "gpt-4o", "price_input": "1"}, "Give both prices"),
        (
            {"provider": "openai", "model": "x", "price_input": "1.1234567", "price_output": "1"},
            "at most 6 decimal places",
        ),
        ({"provider": "", "model": "gpt-4o"}, "This field is required."),
    ],
)
def test_the_editor_refuses_bad_rows(alice: Persona, row: dict[str, str], message: str) -> None:
    data = {"model": "smart", "strategy": "priority", **rows(row)}
    response = submit(logged_in(alice), "/o/acme/routes/new/", data)
    assert response.status_code == 400
    assert message in text(response)
    assert not Route.objects.exists()


def test_the_editor_refuses_an_azure_row_without_an_api_version(alice: Persona) -> None:
    key = _key(alice, provider="azure")
    row = {"provider": "azure", "model": "gpt-4o", "api_base": "https://8.8.8.8"}
    data = {"model": "smart", "strategy": "priority", **rows(row)}
    response = submit(logged_in(alice), "/o/acme/routes/new/", data)
    assert response.status_code == 400
    assert "needs an api_version" in text(response)
    assert key.deployments.count() == 0


@pytest.mark.parametrize("alias", ["gpt\u20134o", "bad alias", "a//b"])
def test_the_editor_refuses_a_bad_alias(alice: Persona, alias: str) -> None:
    data = {"model": alias, "strategy": "priority", **rows({"provider": "openai", "model": "x"})}
    response = submit(logged_in(alice), "/o/acme/routes/new/", data)
    assert response.status_code == 400
    assert not Route.objects.exists()


def test_a_route_with_no_deployment_is_refused(alice: Persona) -> None:
    data = {"model": "smart", "strategy": "priority", **rows()}
    response = submit(logged_in(alice), "/o/acme/routes/new/", data)
    assert response.status_code == 400
    assert "at least one deployment" in text(response)


@pytest.mark.usefixtures("platform_keys")
def test_creating_an_alias_that_exists_does_not_overwrite_it(alice: Persona) -> None:
    route = _route(alice)
    data = {"model": "gpt-4o", "strategy": "cost", **rows({"provider": "groq", "model": "x"})}
    response = submit(logged_in(alice), "/o/acme/routes/new/", data)
    assert response.status_code == 400
    assert "already exists" in text(response)
    assert route.deployments.count() == 2


def test_alice_deletes_a_route_after_confirming(alice: Persona) -> None:
    route = _route(alice)
    browser = logged_in(alice)
    url = f"/o/acme/routes/{route.id}/delete/"
    response = submit(browser, url, {})
    assert response.status_code == 302
    assert not Route.objects.exists()
    assert "Route gpt-4o was deleted." in text(browser.get(response["Location"]))


def test_bob_reads_routes_but_is_offered_no_changes(alice: Persona, bob: Persona) -> None:
    route = _route(alice, key=_key(alice))
    browser = logged_in(bob)
    listing = text(browser.get("/o/acme/routes/"))
    assert "gpt-4o" in listing
    assert "anthropic/claude-sonnet-4-5" in listing
    assert "New route" not in listing
    detail = browser.get(f"/o/acme/routes/{route.id}/")
    assert detail.status_code == 200
    assert "Edit route" not in text(detail)
    assert "Provider keys" not in text(detail)


def test_the_editor_offers_only_the_orgs_active_keys(alice: Persona, charlie: Persona) -> None:
    mine, revoked, theirs = _key(alice), _key(alice, "sk-revoked-000000000"), _key(charlie)
    actions.revoke_provider_key(revoked, alice.actor)
    page = text(logged_in(alice).get("/o/acme/routes/new/"))
    assert str(mine.id) in page
    assert str(revoked.id) not in page
    assert str(theirs.id) not in page


def test_charlie_gets_404_naming_alices_key_in_his_editor(alice: Persona, charlie: Persona) -> None:
    key = _key(alice)
    data = {
        "model": "stolen",
        "strategy": "priority",
        **rows({"provider": "openai", "model": "gpt-4o", "provider_key": str(key.id)}),
    }
    assert logged_in(charlie).post("/o/globex/routes/new/", data).status_code == 404
    assert not Route.objects.exists()


def _everything_alice_sees(browser: Client, *urls: str) -> str:
    return "".join(text(browser.get(url)) for url in urls)


def test_alice_adds_a_provider_key_that_is_never_shown_again(alice: Persona) -> None:
    browser = logged_in(alice)
    data = {"provider": "openai", "name": "prod", "api_key": RAW_KEY}
    response = submit(browser, "/o/acme/provider-keys/new/", data)
    assert response.status_code == 302
    assert RAW_KEY not in text(response)
    key = ProviderKey.objects.get(org=alice.org)
    assert key.last4 == "LAST"
    route = _route(alice, key=key)
    pages = _everything_alice_sees(
        browser,
        "/o/acme/provider-keys/",
        f"/o/acme/routes/{route.id}/",
        f"/o/acme/routes/{route.id}/edit/",
        f"/o/acme/provider-keys/{key.id}/revoke/",
        "/o/acme/audit/",
    )
    assert "…LAST" in pages
    assert RAW_KEY not in pages
    assert key.sealed not in pages


def test_a_refused_key_form_does_not_render_the_key_back(alice: Persona) -> None:
    data = {"provider": "openai", "name": "bad\x07name", "api_key": RAW_KEY}
    response = submit(logged_in(alice), "/o/acme/provider-keys/new/", data)
    assert response.status_code == 400
    assert RAW_KEY not in text(response)
    assert not ProviderKey.objects.exists()


def test_a_key_in_use_is_not_revoked(alice: Persona) -> None:
    key = _key(alice)
    _route(alice, key=key)
    browser = logged_in(alice)
    confirm = text(browser.get(f"/o/acme/provider-keys/{key.id}/revoke/"))
    assert "These routes still use" in confirm
    assert "gpt-4o" in confirm
    response = browser.post(f"/o/acme/provider-keys/{key.id}/revoke/")
    assert response.status_code == 302
    assert "Routes still use this key" in text(browser.get(response["Location"]))
    key.refresh_from_db()
    assert key.is_active


def test_alice_revokes_an_unused_key(alice: Persona) -> None:
    key = _key(alice)
    browser = logged_in(alice)
    response = submit(browser, f"/o/acme/provider-keys/{key.id}/revoke/", {})
    assert response.status_code == 302
    key.refresh_from_db()
    assert not key.is_active
    listing = text(browser.get(response["Location"]))
    assert "was revoked" in listing
    assert "Revoked" in listing


def test_the_nav_shows_routes_to_members_and_provider_keys_to_admins_only(
    alice: Persona, bob: Persona
) -> None:
    admin_page = text(logged_in(alice).get("/o/acme/"))
    member_page = text(logged_in(bob).get("/o/acme/"))
    assert "/o/acme/routes/" in admin_page
    assert "/o/acme/routes/" in member_page
    assert "/o/acme/provider-keys/" in admin_page
    assert "/o/acme/provider-keys/" not in member_page


def test_the_audit_log_names_route_and_key_changes(alice: Persona) -> None:
    _route(alice, key=_key(alice))
    page = text(logged_in(alice).get("/o/acme/audit/"))
    assert "Provider key" in page
    assert "Route" in page


def _new_route(persona: Persona, row: dict[str, str]) -> tuple[int, str]:
    data = {"model": "smart", "strategy": "priority", **rows(row)}
    response = submit(logged_in(persona), "/o/acme/routes/new/", data)
    return response.status_code, text(response)


def test_a_new_deployment_uses_alices_own_key_for_its_provider_by_default(alice: Persona) -> None:
    key = _key(alice)
    status, _ = _new_route(alice, {"provider": "openai", "model": "gpt-4o"})
    assert status == 302
    deployment = Route.objects.get(org=alice.org, model="smart").deployments.get()
    assert deployment.provider_key_id == key.id


def test_the_editor_refuses_a_provider_nobody_has_a_key_for(alice: Persona) -> None:
    _key(alice)  # an OpenAI key does not serve Anthropic
    status, page = _new_route(alice, {"provider": "anthropic", "model": "claude-sonnet-4-5"})
    assert status == 400
    assert "The platform has no Anthropic key, and you have none" in page
    assert not Route.objects.exists()


def test_the_platform_key_is_offered_only_when_the_platform_has_one(
    alice: Persona, settings: Any
) -> None:
    page = text(logged_in(alice).get("/o/acme/routes/new/"))
    assert 'value="platform"' not in page
    assert "The platform has no provider keys here" in page
    settings.PLATFORM_KEY_PROVIDERS = frozenset({"anthropic"})
    page = text(logged_in(alice).get("/o/acme/routes/new/"))
    assert 'value="platform" data-providers="anthropic"' in page
    assert "Platform key (Anthropic)" in page
    status, page = _new_route(
        alice, {"provider": "openai", "model": "gpt-4o", "provider_key": "platform"}
    )
    assert status == 400
    assert "The platform has no OpenAI key: choose one of your own." in page
    status, _ = _new_route(
        alice, {"provider": "anthropic", "model": "claude-sonnet-4-5", "provider_key": "platform"}
    )
    assert status == 302
    assert Route.objects.get(model="smart").deployments.get().provider_key_id is None


def test_a_route_saved_for_a_platform_key_that_is_not_there_says_so(alice: Persona) -> None:
    route = _route(alice)  # through the API's action: openai and anthropic on no key
    page = text(logged_in(alice).get(f"/o/acme/routes/{route.id}/"))
    assert "the platform has no OpenAI key: requests fail with <code>no_provider_key</code>" in page


def test_a_deployment_saved_on_the_platform_key_keeps_it_when_the_route_is_saved_again(
    alice: Persona,
) -> None:
    route = _route(alice)  # openai and anthropic on the platform's key, which web does not see
    url = f"/o/acme/routes/{route.id}/edit/"
    page = text(logged_in(alice).get(url))
    selects = re.findall(r'<select name="d-(\d)-provider_key".*?</select>', page, re.S)
    assert selects == ["0", "1", "2", "3", "4"]
    offered = [
        'value="platform"' in select
        for select in re.findall(r'<select name="d-\d-provider_key".*?</select>', page, re.S)
    ]
    assert offered == [True, True, False, False, False]  # the saved rows only
    saved = [
        {"provider": "openai", "model": "gpt-4o", "provider_key": "platform", "ORDER": "1"},
        {"provider": "anthropic", "model": "claude-sonnet-4-5", "provider_key": "platform"},
    ]
    response = submit(logged_in(alice), url, {"strategy": "cost", **rows(*saved, initial=2)})
    assert response.status_code == 302
    route.refresh_from_db()
    assert route.strategy == "cost"
    assert [d.provider_key_id for d in route.deployments.all()] == [None, None]
