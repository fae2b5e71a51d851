"""Budget settings: the org's time zone, default price and default max output tokens."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from tenants.models import AuditEvent, Organization
from tests.conftest import Persona, logged_in
from tests.gateway.budgets.conftest import error_of

URL = "/api/v1/budget-settings/"
DEFAULTS = {"timezone": "UTC", "default_price": None, "default_max_output_tokens": None}


def patch(api: APIClient, body: Any) -> Any:
    return api.patch(URL, body, format="json")


def _settings(org: Organization) -> tuple[object, ...]:
    org.refresh_from_db()
    return (
        org.timezone,
        org.default_price_input_per_mtok,
        org.default_price_output_per_mtok,
        org.default_max_output_tokens,
        org.snapshot_version,
    )


def test_a_new_org_has_the_defaults(alice_api: APIClient) -> None:
    assert alice_api.get(URL).json() == DEFAULTS


def test_an_admin_sets_every_setting(alice: Persona, alice_api: APIClient) -> None:
    body = {
        "timezone": "Europe/Berlin",
        "default_price": {"input_per_mtok": "2.5", "output_per_mtok": "10.000001"},
        "default_max_output_tokens": 4096,
    }
    response = patch(alice_api, body)
    assert response.status_code == 200, response.content
    expected = {
        "timezone": "Europe/Berlin",
        "default_price": {"input_per_mtok": "2.500000", "output_per_mtok": "10.000001"},
        "default_max_output_tokens": 4096,
    }
    assert response.json() == expected
    assert alice_api.get(URL).json() == expected
    org = Organization.objects.get(id=alice.org.id)
    assert org.default_price_output_per_mtok == Decimal("10.000001")
    assert AuditEvent.objects.filter(org=alice.org, action="budget_settings.updated").exists()


def test_a_patch_changes_only_what_it_gives_and_null_clears(alice_api: APIClient) -> None:
    full = {
        "timezone": "Asia/Tokyo",
        "default_price": {"input_per_mtok": "1", "output_per_mtok": "2"},
        "default_max_output_tokens": 1000,
    }
    patch(alice_api, full)
    assert patch(alice_api, {"default_max_output_tokens": 2000}).json() == {
        **full,
        "default_price": {"input_per_mtok": "1.000000", "output_per_mtok": "2.000000"},
        "default_max_output_tokens": 2000,
    }
    cleared = patch(alice_api, {"default_price": None, "default_max_output_tokens": None}).json()
    assert cleared == {**DEFAULTS, "timezone": "Asia/Tokyo"}


def test_a_free_default_price_is_a_price(alice_api: APIClient) -> None:
    body = {"default_price": {"input_per_mtok": "0", "output_per_mtok": "0"}}
    assert patch(alice_api, body).json()["default_price"] == {
        "input_per_mtok": "0.000000",
        "output_per_mtok": "0.000000",
    }


def _price(**given: object) -> dict[str, object]:
    return {"default_price": given}


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": "localtime"}, "timezone"),
        ({"timezone": ""}, "timezone"),
        ({"timezone": "europe/berlin"}, "timezone"),
        ({"timezone": None}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
        (_price(input_per_mtok=2.5, output_per_mtok="1"), "default_price.input_per_mtok"),
        (_price(input_per_mtok="1", output_per_mtok="0.0000001"), "default_price.output_per_mtok"),
        (_price(input_per_mtok="-1", output_per_mtok="1"), "default_price.input_per_mtok"),
        (_price(input_per_mtok="100001", output_per_mtok="1"), "default_price.input_per_mtok"),
        (_price(input_per_mtok="1"), "default_price.output_per_mtok"),
        (_price(input_per_mtok="1", output_per_mtok="1", cached="1"), "default_price.cached"),
        ({"default_price": "2.50"}, "default_price"),
        ({"default_max_output_tokens": 0}, "default_max_output_tokens"),
        ({"default_max_output_tokens": -1}, "default_max_output_tokens"),
        ({"default_max_output_tokens": 1_000_001}, "default_max_output_tokens"),
        ({"default_max_output_tokens": 1.5}, "default_max_output_tokens"),
        ({"default_max_output_tokens": "many"}, "default_max_output_tokens"),
        ({"time_zone": "UTC"}, "time_zone"),
    ],
)
def test_bad_settings_are_refused_by_name_and_nothing_changes(
    alice: Persona, alice_api: APIClient, body: dict[str, Any], param: str
) -> None:
    before = _settings(alice.org)
    response = patch(alice_api, body)
    assert response.status_code == 400, response.content
    assert error_of(response)["param"] == param
    assert _settings(alice.org) == before


def test_a_member_reads_the_settings_but_cannot_change_them(alice: Persona, bob: Persona) -> None:
    browser = logged_in(bob)
    assert browser.get(URL).json() == DEFAULTS
    response = browser.patch(URL, {"timezone": "Asia/Tokyo"}, content_type="application/json")
    assert response.status_code == 403
    assert Organization.objects.get(id=alice.org.id).timezone == "UTC"


def test_each_org_has_its_own_settings(
    alice: Persona, alice_api: APIClient, charlie: Persona, charlie_api: APIClient
) -> None:
    patch(charlie_api, {"timezone": "America/New_York"})
    assert alice_api.get(URL).json()["timezone"] == "UTC"
    assert Organization.objects.get(id=charlie.org.id).timezone == "America/New_York"
    assert Organization.objects.get(id=alice.org.id).timezone == "UTC"


def test_a_patch_that_changes_nothing_writes_nothing(alice: Persona, alice_api: APIClient) -> None:
    before = _settings(alice.org)
    assert patch(alice_api, {"timezone": "UTC"}).status_code == 200
    assert patch(alice_api, {}).status_code == 200
    assert _settings(alice.org) == before
    assert not AuditEvent.objects.filter(action="budget_settings.updated").exists()
