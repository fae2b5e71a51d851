"""GET/PUT /api/v1/observability/ and the project override: defaults, bad input, tenancy, audit."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from rest_framework.test import APIClient

from gateway.shared.snapshot import snapshot_key
from observability.models import DataKey
from tenants import actions
from tenants.models import AuditEvent, Organization, Project
from tests.conftest import Persona, logged_in
from tests.gateway.pii_policy.conftest import error_of, stored_snapshot
from tests.polling import eventually

pytestmark = pytest.mark.django_db(transaction=True)

ORG_URL = "/api/v1/observability/"


def project_url(project_id: object) -> str:
    return f"/api/v1/projects/{project_id}/observability/"


def put(api: APIClient, body: Any, url: str = ORG_URL) -> Any:
    return api.put(url, body, format="json")


def audit_labels(org: Organization) -> list[tuple[str, str]]:
    events = AuditEvent.objects.filter(org=org, action__startswith="observability.")
    return list(events.order_by("id").values_list("action", "target_label"))


def test_observability_is_off_by_default_for_the_org_and_its_projects(
    alice: Persona, alice_api: APIClient, redis_client: redis.Redis
) -> None:
    assert alice_api.get(ORG_URL).json() == {"enabled": False}
    assert alice_api.get(project_url(alice.project.id)).json() == {
        "enabled": False,
        "overridden": False,
    }
    assert stored_snapshot(redis_client, alice.org)["observability"] == {
        "enabled": False,
        "projects": {},
        "data_keys": {},
    }


def test_turning_it_on_and_off_answers_the_new_state_and_is_audited(
    alice: Persona, alice_api: APIClient
) -> None:
    on = put(alice_api, {"enabled": True})
    assert on.status_code == 200, on.content
    assert on.json() == {"enabled": True}
    assert alice_api.get(ORG_URL).json() == {"enabled": True}
    # The project follows the org while it has no setting of its own.
    assert alice_api.get(project_url(alice.project.id)).json() == {
        "enabled": True,
        "overridden": False,
    }
    assert put(alice_api, {"enabled": False}).json() == {"enabled": False}
    assert alice_api.get(ORG_URL).json() == {"enabled": False}
    assert audit_labels(alice.org) == [
        ("observability.updated", "traces on (organization)"),
        ("observability.updated", "traces off (organization)"),
    ]
    event = AuditEvent.objects.filter(action="observability.updated").first()
    assert event is not None and event.actor_label.startswith("token ")


def test_putting_the_current_state_again_changes_nothing(
    alice: Persona, alice_api: APIClient, redis_client: redis.Redis
) -> None:
    put(alice_api, {"enabled": True})
    before = stored_snapshot(redis_client, alice.org)["version"]
    assert put(alice_api, {"enabled": True}).json() == {"enabled": True}
    assert stored_snapshot(redis_client, alice.org)["version"] == before
    assert len(audit_labels(alice.org)) == 1


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"enabled": "true"}, "enabled", "invalid_type"),
        ({"enabled": 1}, "enabled", "invalid_type"),
        ({"enabled": None}, "enabled", "null"),
        ({}, "enabled", "required"),
        ({"enabled": True, "projects": {}}, "projects", "unknown_field"),
        ([True], None, "invalid"),
        (True, None, "invalid"),
    ],
    ids=["string", "integer", "null", "missing", "unknown-field", "list", "bare-bool"],
)
def test_the_body_must_be_exactly_an_object_with_a_boolean(
    alice: Persona, alice_api: APIClient, body: Any, param: str | None, code: str
) -> None:
    for url in (ORG_URL, project_url(alice.project.id)):
        response = put(alice_api, body, url)
        assert response.status_code == 400, response.content
        error = error_of(response)
        assert (error["param"], error["code"], error["type"]) == (
            param,
            code,
            "invalid_request_error",
        )
        assert error["message"]
    assert alice_api.get(ORG_URL).json() == {"enabled": False}
    assert audit_labels(alice.org) == []


def test_a_body_that_is_not_json_is_refused_in_the_error_shape(alice_api: APIClient) -> None:
    response = alice_api.put(ORG_URL, "enabled=yes", content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_json"


def test_a_project_override_wins_over_the_org_and_delete_drops_it(
    alice: Persona, alice_api: APIClient, redis_client: redis.Redis
) -> None:
    url = project_url(alice.project.id)
    on = put(alice_api, {"enabled": True}, url)
    assert on.status_code == 200, on.content
    assert on.json() == {"enabled": True, "overridden": True}
    assert alice_api.get(ORG_URL).json() == {"enabled": False}
    entry = stored_snapshot(redis_client, alice.org)["observability"]
    assert entry["enabled"] is False
    assert entry["projects"] == {str(alice.project.id): True}
    # On somewhere in the org: the proxies get keys to seal the project's traces with.
    assert len(entry["data_keys"]) == 3

    put(alice_api, {"enabled": True})
    assert put(alice_api, {"enabled": False}, url).json() == {"enabled": False, "overridden": True}
    assert stored_snapshot(redis_client, alice.org)["observability"]["projects"] == {
        str(alice.project.id): False
    }

    deleted = alice_api.delete(url)
    assert deleted.status_code == 204
    assert alice_api.get(url).json() == {"enabled": True, "overridden": False}
    assert stored_snapshot(redis_client, alice.org)["observability"]["projects"] == {}
    assert alice_api.delete(url).status_code == 204  # nothing to drop: still fine
    assert audit_labels(alice.org) == [
        ("observability.project_updated", "traces on (project Default)"),
        ("observability.updated", "traces on (organization)"),
        ("observability.project_updated", "traces off (project Default)"),
        ("observability.project_cleared", "follows the organization (project Default)"),
    ]


def test_another_orgs_project_answers_404_and_stays_unchanged(
    alice: Persona, charlie_api: APIClient
) -> None:
    url = project_url(alice.project.id)
    for response in (
        charlie_api.get(url),
        put(charlie_api, {"enabled": True}, url),
        charlie_api.delete(url),
        charlie_api.get(project_url("not-a-uuid")),
    ):
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"
    assert Project.objects.get(id=alice.project.id).observability_enabled is None


def test_a_member_may_neither_read_nor_change_the_toggle(alice: Persona, bob: Persona) -> None:
    browser = logged_in(bob)
    for response in (
        browser.get(ORG_URL),
        browser.put(ORG_URL, {"enabled": True}, content_type="application/json"),
        browser.delete(project_url(alice.project.id)),
    ):
        assert response.status_code == 403
        assert "member role may not" in error_of(response)["message"]
    assert not Organization.objects.get(id=alice.org.id).observability_enabled


def test_every_proxy_reads_the_flip_from_the_published_snapshot(
    alice: Persona, alice_api: APIClient, redis_client: redis.Redis
) -> None:
    """The proxy reads sel:{org}:snapshot and the notice on its channel; both follow the flip."""
    pubsub = redis_client.pubsub()  # type: ignore[no-untyped-call]
    pubsub.subscribe("sel:snapshots")
    eventually(lambda: pubsub.get_message(timeout=0.1), 10, "the subscription")
    put(alice_api, {"enabled": True})
    version = Organization.objects.get(id=alice.org.id).snapshot_version

    def announced() -> bool:
        message = pubsub.get_message(timeout=0.1)
        return message is not None and message["data"] == f"{alice.org.id}:{version}".encode()

    eventually(announced, 10, "the new snapshot announced")
    eventually(
        lambda: stored_snapshot(redis_client, alice.org)["observability"]["enabled"] is True,
        10,
        "the snapshot saying on",
    )
    put(alice_api, {"enabled": False})
    eventually(
        lambda: stored_snapshot(redis_client, alice.org)["observability"]["enabled"] is False,
        10,
        "the snapshot saying off",
    )
    pubsub.close()
    assert (
        redis_client.hget(snapshot_key(str(alice.org.id)), "version") == str(version + 1).encode()
    )


def test_a_new_project_starts_following_the_org(alice: Persona, alice_api: APIClient) -> None:
    put(alice_api, {"enabled": True})
    project = actions.create_project(alice.org, "Later", alice.actor)
    assert alice_api.get(project_url(project.id)).json() == {"enabled": True, "overridden": False}
    assert DataKey.objects.filter(org=alice.org).count() == 3
