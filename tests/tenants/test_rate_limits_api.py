"""Rate limits of keys and projects through the API: set, clear, refuse nonsense, other orgs 404."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from tenants import actions
from tenants.errors import Invalid
from tenants.models import ApiKey, AuditEvent, Project
from tenants.rate_limits import RateLimits
from tests.conftest import Persona, create_key, logged_in
from tests.gateway.budgets.conftest import error_of


def test_an_admin_sets_a_keys_limits_and_reads_them_back(
    alice: Persona, alice_api: APIClient
) -> None:
    key = create_key(alice_api, alice)
    url = f"/api/v1/keys/{key['id']}/"
    response = alice_api.patch(url, {"rpm_limit": 60, "tpm_limit": 100_000}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["rpm_limit"], response.json()["tpm_limit"]) == (60, 100_000)
    assert alice_api.get(url).json()["rpm_limit"] == 60
    listed = {k["id"]: k for k in alice_api.get("/api/v1/keys/").json()}
    assert listed[key["id"]]["tpm_limit"] == 100_000
    event = AuditEvent.objects.get(org=alice.org, action="api_key.limits_changed")
    assert event.target_label.endswith("rpm 60, tpm 100000")


def test_a_patch_changes_only_what_it_gives_and_null_clears(
    alice: Persona, alice_api: APIClient
) -> None:
    url = f"/api/v1/keys/{create_key(alice_api, alice)['id']}/"
    alice_api.patch(url, {"rpm_limit": 60, "tpm_limit": 1000}, format="json")
    assert alice_api.patch(url, {"rpm_limit": 120}, format="json").json()["tpm_limit"] == 1000
    cleared = alice_api.patch(url, {"tpm_limit": None}, format="json").json()
    assert (cleared["rpm_limit"], cleared["tpm_limit"]) == (120, None)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"rpm_limit": 0}, "rpm_limit"),
        ({"rpm_limit": -1}, "rpm_limit"),
        ({"rpm_limit": 1_000_001}, "rpm_limit"),
        ({"rpm_limit": 1.5}, "rpm_limit"),
        ({"rpm_limit": "lots"}, "rpm_limit"),
        ({"tpm_limit": 0}, "tpm_limit"),
        ({"tpm_limit": 1_000_000_001}, "tpm_limit"),
        ({"tpm_limit": 2**63}, "tpm_limit"),
        ({"rpm": 60}, "rpm"),
        ({"name": "renamed"}, "name"),
    ],
)
def test_bad_limits_are_refused_by_name_and_nothing_changes(
    alice: Persona, alice_api: APIClient, body: dict[str, Any], param: str
) -> None:
    key_id = create_key(alice_api, alice)["id"]
    response = alice_api.patch(f"/api/v1/keys/{key_id}/", body, format="json")
    assert response.status_code == 400, response.content
    assert error_of(response)["param"] == param
    key = ApiKey.objects.get(id=key_id)
    assert (key.rpm_limit, key.tpm_limit, key.name) == (None, None, "app")
    response = alice_api.patch(f"/api/v1/projects/{alice.project.id}/", body, format="json")
    assert response.status_code == 400, response.content
    project = Project.objects.get(id=alice.project.id)
    assert (project.rpm_limit, project.tpm_limit, project.name) == (None, None, "Default")


def test_a_revoked_keys_limits_cannot_change(alice: Persona, alice_api: APIClient) -> None:
    key_id = create_key(alice_api, alice)["id"]
    alice_api.delete(f"/api/v1/keys/{key_id}/")
    response = alice_api.patch(f"/api/v1/keys/{key_id}/", {"rpm_limit": 5}, format="json")
    assert response.status_code == 409
    assert ApiKey.objects.get(id=key_id).rpm_limit is None


def test_charlie_gets_404_for_alices_key_and_project(
    alice: Persona, alice_api: APIClient, charlie_api: APIClient
) -> None:
    key_id = create_key(alice_api, alice)["id"]
    body = {"rpm_limit": 1}
    assert charlie_api.patch(f"/api/v1/keys/{key_id}/", body, format="json").status_code == 404
    project_url = f"/api/v1/projects/{alice.project.id}/"
    assert charlie_api.get(project_url).status_code == 404
    assert charlie_api.patch(project_url, body, format="json").status_code == 404
    assert ApiKey.objects.get(id=key_id).rpm_limit is None
    assert Project.objects.get(id=alice.project.id).rpm_limit is None


def test_a_member_cannot_change_limits(alice: Persona, bob: Persona, alice_api: APIClient) -> None:
    key_id = create_key(alice_api, alice)["id"]
    browser = logged_in(bob)
    for url in (f"/api/v1/keys/{key_id}/", f"/api/v1/projects/{alice.project.id}/"):
        response = browser.patch(url, {"rpm_limit": 1}, content_type="application/json")
        assert response.status_code == 403
    assert browser.get(f"/api/v1/projects/{alice.project.id}/").status_code == 200
    assert ApiKey.objects.get(id=key_id).rpm_limit is None
    assert Project.objects.get(id=alice.project.id).rpm_limit is None


def test_an_admin_sets_a_projects_limits(alice: Persona, alice_api: APIClient) -> None:
    url = f"/api/v1/projects/{alice.project.id}/"
    response = alice_api.patch(url, {"rpm_limit": 600, "tpm_limit": 2_000_000}, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "id": str(alice.project.id),
        "name": "Default",
        "team": None,
        "rpm_limit": 600,
        "tpm_limit": 2_000_000,
        "created_at": response.json()["created_at"],
    }
    assert alice_api.get("/api/v1/projects/").json()[0]["rpm_limit"] == 600
    assert AuditEvent.objects.filter(org=alice.org, action="project.limits_changed").exists()


def test_a_key_and_a_project_can_be_created_with_limits(
    alice: Persona, alice_api: APIClient
) -> None:
    created = alice_api.post(
        "/api/v1/keys/",
        {"project_id": str(alice.project.id), "name": "slow", "rpm_limit": 10, "tpm_limit": None},
        format="json",
    )
    assert created.status_code == 201, created.content
    key = ApiKey.objects.get(id=created.json()["id"])
    assert (key.rpm_limit, key.tpm_limit) == (10, None)
    project = alice_api.post("/api/v1/projects/", {"name": "Batch", "tpm_limit": 50}, format="json")
    assert project.status_code == 201, project.content
    assert (project.json()["rpm_limit"], project.json()["tpm_limit"]) == (None, 50)


def test_a_key_with_a_bad_limit_is_not_created(alice: Persona, alice_api: APIClient) -> None:
    response = alice_api.post(
        "/api/v1/keys/",
        {"project_id": str(alice.project.id), "name": "bad", "rpm_limit": 0},
        format="json",
    )
    assert response.status_code == 400
    assert error_of(response)["param"] == "rpm_limit"
    assert not ApiKey.objects.filter(name="bad").exists()


def test_the_actions_refuse_limits_out_of_bounds_whatever_the_door(alice: Persona) -> None:
    with pytest.raises(Invalid) as refused:
        actions.issue_api_key(
            alice.project, "direct", alice.actor, limits=RateLimits(tpm_limit=10**10)
        )
    assert refused.value.field == "tpm_limit"
    assert not ApiKey.objects.filter(name="direct").exists()
