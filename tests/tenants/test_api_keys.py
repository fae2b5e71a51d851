"""The management API for teams, projects and keys, as an operator's script uses it."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tenants import actions
from tenants.models import ApiKey, AuditEvent, Project, Team
from tests.conftest import Persona, create_key, logged_in


def _error(response: object) -> dict[str, object]:
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "code", "param"}
    error: dict[str, object] = body["error"]
    return error


def test_alice_creates_a_key_that_is_shown_once_and_stored_hashed(
    alice: Persona, alice_api: APIClient
) -> None:
    body = create_key(alice_api, alice)
    assert body["key"].startswith("sk-sel-")
    assert body["key"].startswith(body["prefix"])
    stored = ApiKey.objects.get(id=body["id"])
    assert body["key"] not in (stored.hashed, stored.prefix)
    assert len(stored.hashed) == 64
    listed = alice_api.get("/api/v1/keys/").json()
    assert [k["prefix"] for k in listed] == [body["prefix"]]
    assert "key" not in listed[0]
    assert "hashed" not in listed[0]
    detail = alice_api.get(f"/api/v1/keys/{body['id']}/").json()
    assert body["key"] not in str(detail)


def test_revoking_a_key_marks_it_revoked_and_is_idempotent(
    alice: Persona, alice_api: APIClient
) -> None:
    body = create_key(alice_api, alice)
    assert alice_api.delete(f"/api/v1/keys/{body['id']}/").status_code == 204
    assert alice_api.delete(f"/api/v1/keys/{body['id']}/").status_code == 204
    assert alice_api.get(f"/api/v1/keys/{body['id']}/").json()["revoked"] is True
    assert AuditEvent.objects.filter(org=alice.org, action="api_key.revoked").count() == 1


def test_projects_are_listed_and_created_with_an_optional_team(
    alice: Persona, alice_api: APIClient
) -> None:
    team = alice_api.post("/api/v1/teams/", {"name": "Platform"}, format="json")
    assert team.status_code == 201
    created = alice_api.post(
        "/api/v1/projects/", {"name": "Chatbot", "team": team.json()["id"]}, format="json"
    )
    assert created.status_code == 201, created.content
    assert created.json()["team"] == team.json()["id"]
    names = [p["name"] for p in alice_api.get("/api/v1/projects/").json()]
    assert names == ["Chatbot", "Default"]


def test_a_key_can_belong_to_a_member_but_not_to_a_stranger(
    alice: Persona, bob: Persona, charlie: Persona, alice_api: APIClient
) -> None:
    for_bob = alice_api.post(
        "/api/v1/keys/",
        {"project_id": str(alice.project.id), "name": "bob's", "user_id": str(bob.user.id)},
        format="json",
    )
    assert for_bob.status_code == 201
    assert ApiKey.objects.get(id=for_bob.json()["id"]).user == bob.user
    for_charlie = alice_api.post(
        "/api/v1/keys/",
        {"project_id": str(alice.project.id), "name": "x", "user_id": str(charlie.user.id)},
        format="json",
    )
    assert for_charlie.status_code == 404
    assert _error(for_charlie)["param"] == "user_id"


@pytest.mark.parametrize("method", ["get", "delete"])
def test_charlie_gets_404_for_acmes_key(
    method: str, alice: Persona, alice_api: APIClient, charlie_api: APIClient
) -> None:
    body = create_key(alice_api, alice)
    response = getattr(charlie_api, method)(f"/api/v1/keys/{body['id']}/")
    assert response.status_code == 404
    assert _error(response)["type"] == "not_found_error"
    assert ApiKey.objects.get(id=body["id"]).revoked_at is None


def test_charlie_cannot_issue_keys_for_acmes_project(
    alice: Persona, charlie_api: APIClient
) -> None:
    response = charlie_api.post(
        "/api/v1/keys/", {"project_id": str(alice.project.id), "name": "steal"}, format="json"
    )
    assert response.status_code == 404
    assert not ApiKey.objects.filter(project=alice.project).exists()


def test_charlie_cannot_put_a_project_in_acmes_team(
    alice: Persona, charlie_api: APIClient, charlie: Persona
) -> None:
    team = actions.create_team(alice.org, "Acme team", alice.actor)
    response = charlie_api.post(
        "/api/v1/projects/", {"name": "Sneaky", "team": str(team.id)}, format="json"
    )
    assert response.status_code == 404
    assert not Project.objects.filter(name="Sneaky").exists()


def test_each_org_lists_only_its_own_objects(
    alice: Persona, charlie: Persona, alice_api: APIClient, charlie_api: APIClient
) -> None:
    create_key(alice_api, alice)
    actions.create_team(alice.org, "Acme only", alice.actor)
    assert charlie_api.get("/api/v1/keys/").json() == []
    assert charlie_api.get("/api/v1/teams/").json() == []
    assert [p["id"] for p in charlie_api.get("/api/v1/projects/").json()] == [
        str(charlie.project.id)
    ]


@pytest.mark.parametrize("key_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_unknown_or_malformed_ids_are_404(alice_api: APIClient, key_id: str) -> None:
    response = alice_api.get(f"/api/v1/keys/{key_id}/")
    assert response.status_code == 404


def test_it_refuses_missing_and_revoked_management_tokens(alice: Persona) -> None:
    anonymous = APIClient()
    response = anonymous.get("/api/v1/projects/")
    assert response.status_code in (401, 403)
    assert _error(response)["type"] in ("authentication_error", "permission_error")

    issued = actions.issue_management_token(alice.org, "temp", alice.actor)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
    assert client.get("/api/v1/projects/").status_code == 200
    from tenants.models import ManagementToken

    actions.revoke_management_token(ManagementToken.objects.get(id=issued.id), alice.actor)
    refused = client.get("/api/v1/projects/")
    assert refused.status_code == 401
    assert _error(refused)["type"] == "authentication_error"

    forged = APIClient()
    forged.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.secret[:-4]}AAAA")
    assert forged.get("/api/v1/projects/").status_code == 401


def test_the_dashboard_session_works_for_reads_and_admin_writes(
    alice: Persona, bob: Persona
) -> None:
    assert logged_in(alice).get("/api/v1/projects/").status_code == 200
    member = logged_in(bob)
    assert member.get("/api/v1/projects/").status_code == 200
    refused = member.post("/api/v1/projects/", {"name": "Bob's"}, content_type="application/json")
    assert refused.status_code == 403
    assert _error(refused)["type"] == "permission_error"
    assert not Project.objects.filter(name="Bob's").exists()


def test_session_writes_need_the_csrf_token(alice: Persona) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice.user)
    response = client.post("/api/v1/projects/", {"name": "X"}, content_type="application/json")
    assert response.status_code == 403
    assert not Project.objects.filter(name="X").exists()


# --- bad input: a clear 4xx in the documented shape, and nothing written ---


def test_malformed_json_is_400(alice_api: APIClient) -> None:
    response = alice_api.post(
        "/api/v1/projects/", data='{"name": "x"', content_type="application/json"
    )
    assert response.status_code == 400
    assert _error(response)["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    ("payload", "param"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "ok", "colour": "blue"}, "colour"),
        ({"name": "tab\there"}, "name"),
        ({"name": 5}, "name"),  # a number is not a name (DRF would coerce it to "5")
        ({"name": "ok", "team": "not-a-uuid"}, "team"),
    ],
)
def test_bad_project_fields_are_400_and_create_nothing(
    alice_api: APIClient, payload: dict[str, object], param: str | None
) -> None:
    before = Project.objects.count()
    response = alice_api.post("/api/v1/projects/", payload, format="json")
    assert response.status_code == 400, response.content
    assert _error(response)["param"] == param
    assert Project.objects.count() == before


@pytest.mark.parametrize("body", ["[]", '"a string"', "null", "42"])
def test_a_body_that_is_not_an_object_is_400(alice_api: APIClient, body: str) -> None:
    response = alice_api.post("/api/v1/keys/", data=body, content_type="application/json")
    assert response.status_code == 400
    assert _error(response)["type"] == "invalid_request_error"


def test_an_oversized_body_is_413(alice_api: APIClient) -> None:
    response = alice_api.post(
        "/api/v1/projects/",
        data='{"name": "' + "x" * 2_000_000 + '"}',
        content_type="application/json",
    )
    assert response.status_code == 413
    assert _error(response)["code"] == "body_too_large"


def test_form_encoded_bodies_are_refused(alice_api: APIClient) -> None:
    response = alice_api.post("/api/v1/projects/", {"name": "x"})  # multipart
    assert response.status_code == 415
    assert _error(response)["type"] == "invalid_request_error"


def test_a_duplicate_project_name_is_409_case_insensitively(alice_api: APIClient) -> None:
    assert alice_api.post("/api/v1/projects/", {"name": "Search"}, format="json").status_code == 201
    again = alice_api.post("/api/v1/projects/", {"name": "search"}, format="json")
    assert again.status_code == 409
    assert _error(again)["type"] == "conflict_error"


def test_html_and_sql_looking_names_are_stored_verbatim_and_returned_as_data(
    alice_api: APIClient,
) -> None:
    hostile = ["<script>alert(1)</script>", "x'); DROP TABLE tenants_project;--"]
    for name in hostile:
        assert alice_api.post("/api/v1/projects/", {"name": name}, format="json").status_code == 201
    names = {p["name"] for p in alice_api.get("/api/v1/projects/").json()}
    assert set(hostile) <= names
    assert Project.objects.count() >= 3  # the table is still there


def test_the_openapi_schema_documents_the_endpoints() -> None:
    response = APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    text = response.content.decode()
    for path in ("/api/v1/projects/", "/api/v1/keys/", "/api/v1/keys/{key_id}/"):
        assert path in text


def test_audit_events_never_hold_the_secret(alice: Persona, alice_api: APIClient) -> None:
    body = create_key(alice_api, alice)
    for event in AuditEvent.objects.filter(org=alice.org):
        assert body["key"] not in " ".join(
            [event.actor_label, event.action, event.target_label, event.target_id]
        )
    created = AuditEvent.objects.get(org=alice.org, action="api_key.created")
    assert created.actor_label.startswith("token mt-")
    assert created.ip == "127.0.0.1"


def test_a_team_name_is_unique_per_org_but_not_across_orgs(
    alice: Persona, charlie: Persona
) -> None:
    actions.create_team(alice.org, "Core", alice.actor)
    actions.create_team(charlie.org, "Core", charlie.actor)
    assert Team.objects.filter(name="Core").count() == 2
