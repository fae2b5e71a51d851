"""Clerk webhooks: Svix-signed, applied once per svix-id, all or nothing.

Bodies are signed here by hand exactly as Svix does it, so the test also
pins the scheme: HMAC-SHA256 over "<svix-id>.<timestamp>.<body>" keyed with
the base64-decoded secret after "whsec_", sent as "v1,<base64 mac>".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import TYPE_CHECKING

import orjson
import pytest
import redis
from django.test import Client
from pytest_django import DjangoCaptureOnCommitCallbacks, Settings
from rest_framework.test import APIClient

from gateway.shared.snapshot import key_index_key, snapshot_key
from tenants import actions
from tenants.audit import Actor
from tenants.models import (
    ApiKey,
    AuditEvent,
    Invitation,
    ManagementToken,
    Membership,
    Organization,
    Project,
    Role,
    User,
    WebhookDelivery,
)
from tests.conftest import Persona

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@pytest.fixture(autouse=True)
def clerk_mode(settings: Settings) -> None:
    settings.SELIXES_AUTH = "clerk"
    settings.CLERK_WEBHOOK_SECRET = SECRET


def svix_signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def deliver(
    event: dict[str, object] | bytes,
    msg_id: str | None = None,
    timestamp: int | None = None,
    secret: str = SECRET,
) -> Response:
    body = event if isinstance(event, bytes) else json.dumps(event).encode()
    msg_id = msg_id or f"msg_{secrets.token_hex(12)}"
    timestamp = int(time.time()) if timestamp is None else timestamp
    response = Client().post(
        "/webhooks/clerk/",
        data=body,
        content_type="application/json",
        HTTP_SVIX_ID=msg_id,
        HTTP_SVIX_TIMESTAMP=str(timestamp),
        HTTP_SVIX_SIGNATURE=svix_signature(secret, msg_id, timestamp, body),
    )
    return response


def assert_refused(response: Response, code: str) -> None:
    assert response.status_code == 400, response.content
    error = json.loads(response.content)["error"]
    assert set(error) == {"message", "type", "code", "param"}
    assert error["type"] == "invalid_request_error"
    assert error["code"] == code


def user_event(kind: str, user_id: str, email: str) -> dict[str, object]:
    return {
        "type": f"user.{kind}",
        "object": "event",
        "data": {
            "object": "user",
            "id": user_id,
            "first_name": "Peter",
            "last_name": "Gibbons",
            "primary_email_address_id": "idn_primary",
            "email_addresses": [
                {"id": "idn_old", "object": "email_address", "email_address": "old@initech.test"},
                {"id": "idn_primary", "object": "email_address", "email_address": email},
            ],
        },
    }


def org_event(kind: str, org_id: str, name: str, slug: str) -> dict[str, object]:
    return {
        "type": f"organization.{kind}",
        "object": "event",
        "data": {"object": "organization", "id": org_id, "name": name, "slug": slug},
    }


def deleted_event(kind: str, clerk_id: str) -> dict[str, object]:
    return {"type": kind, "object": "event", "data": {"id": clerk_id, "deleted": True}}


def membership_event(kind: str, org_id: str, user_id: str, role: str) -> dict[str, object]:
    return {
        "type": f"organizationMembership.{kind}",
        "object": "event",
        "data": {
            "object": "organization_membership",
            "id": f"orgmem_{user_id}",
            "role": role,
            "organization": {
                "object": "organization",
                "id": org_id,
                "name": "Initech",
                "slug": "initech",
            },
            "public_user_data": {
                "user_id": user_id,
                "identifier": f"{user_id}@initech.test",
                "first_name": None,
                "last_name": None,
            },
        },
    }


def invitation_event(kind: str, invitation_id: str, status: str) -> dict[str, object]:
    return {
        "type": f"organizationInvitation.{kind}",
        "object": "event",
        "data": {
            "object": "organization_invitation",
            "id": invitation_id,
            "email_address": "Milton@Initech.test",
            "role": "org:member",
            "organization_id": "org_initech",
            "status": status,
            "expires_at": 1_900_000_000_000,
            "created_at": 1_700_000_000_000,
        },
    }


@pytest.mark.django_db
def test_users_orgs_and_memberships_arrive_as_local_rows_with_normalized_roles() -> None:
    assert deliver(user_event("created", "user_peter", "Peter@Initech.test")).status_code == 200
    assert deliver(org_event("created", "org_initech", "Initech", "initech")).status_code == 200
    response = deliver(membership_event("created", "org_initech", "user_peter", "org:admin"))
    assert response.status_code == 200
    for user_id, role in (("user_milton", "basic_member"), ("user_bill", "org:billing")):
        assert deliver(membership_event("created", "org_initech", user_id, role)).status_code == 200

    peter = User.objects.get(clerk_user_id="user_peter")
    assert peter.email == "peter@initech.test"
    assert (peter.first_name, peter.last_name) == ("Peter", "Gibbons")
    assert not peter.has_usable_password()
    org = Organization.objects.get(clerk_org_id="org_initech")
    assert (org.name, org.slug) == ("Initech", "initech")
    roles = dict(Membership.objects.filter(org=org).values_list("user__clerk_user_id", "role"))
    assert roles == {
        "user_peter": Role.ADMIN,
        "user_milton": Role.MEMBER,
        "user_bill": Role.BILLING,
    }
    trail = AuditEvent.objects.filter(org=org, actor_label="clerk webhook")
    assert set(trail.values_list("action", flat=True)) == {"org.created", "member.joined"}
    assert trail.filter(action="member.joined").count() == 3


@pytest.mark.django_db
def test_a_membership_update_changes_the_role() -> None:
    deliver(membership_event("created", "org_initech", "user_peter", "org:member"))
    deliver(membership_event("updated", "org_initech", "user_peter", "org:admin"))
    membership = Membership.objects.get(user__clerk_user_id="user_peter")
    assert membership.role == Role.ADMIN
    assert AuditEvent.objects.filter(action="member.role_changed").count() == 1


@pytest.mark.django_db
def test_a_membership_that_arrives_first_creates_its_user_and_org() -> None:
    deliver(membership_event("created", "org_initech", "user_peter", "org:member"))
    user = User.objects.get(clerk_user_id="user_peter")
    assert user.email == "user_peter@initech.test"
    assert Organization.objects.get(clerk_org_id="org_initech").name == "Initech"
    deliver(user_event("updated", "user_peter", "peter@initech.test"))
    user.refresh_from_db()
    assert user.email == "peter@initech.test"


@pytest.mark.django_db
def test_a_membership_deletion_removes_only_that_membership() -> None:
    deliver(membership_event("created", "org_initech", "user_peter", "org:admin"))
    deliver(membership_event("created", "org_initech", "user_milton", "org:member"))
    deliver(membership_event("deleted", "org_initech", "user_milton", "org:member"))
    members = Membership.objects.values_list("user__clerk_user_id", flat=True)
    assert list(members) == ["user_peter"]
    assert User.objects.get(clerk_user_id="user_milton").is_active


@pytest.mark.django_db
def test_it_refuses_a_bad_signature_and_writes_nothing() -> None:
    forged = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    response = deliver(user_event("created", "user_peter", "peter@initech.test"), secret=forged)
    assert_refused(response, "invalid_signature")
    assert not User.objects.filter(clerk_user_id="user_peter").exists()
    assert not WebhookDelivery.objects.exists()


@pytest.mark.django_db
def test_it_refuses_a_missing_signature() -> None:
    body = json.dumps(user_event("created", "user_peter", "peter@initech.test")).encode()
    response = Client().post("/webhooks/clerk/", data=body, content_type="application/json")
    assert_refused(response, "invalid_signature")
    assert not User.objects.filter(clerk_user_id="user_peter").exists()


@pytest.mark.django_db
def test_it_refuses_a_malformed_signature_header_without_an_error() -> None:
    body = json.dumps(user_event("created", "user_peter", "peter@initech.test")).encode()
    response = Client().post(
        "/webhooks/clerk/",
        data=body,
        content_type="application/json",
        HTTP_SVIX_ID="msg_1",
        HTTP_SVIX_TIMESTAMP=str(int(time.time())),
        HTTP_SVIX_SIGNATURE="v1-without-a-comma",
    )
    assert_refused(response, "invalid_signature")


@pytest.mark.django_db
def test_it_refuses_a_stale_timestamp() -> None:
    six_minutes_ago = int(time.time()) - 6 * 60
    event = user_event("created", "user_peter", "peter@initech.test")
    assert_refused(deliver(event, timestamp=six_minutes_ago), "invalid_signature")
    assert not User.objects.filter(clerk_user_id="user_peter").exists()


@pytest.mark.django_db
def test_a_replayed_svix_id_is_answered_but_applied_once() -> None:
    first = deliver(org_event("created", "org_initech", "Initech", "initech"), msg_id="msg_1")
    assert first.status_code == 200
    assert json.loads(first.content) == {"received": True, "applied": True}
    # The same svix-id, freshly and validly signed, carrying a different change.
    replay = deliver(org_event("updated", "org_initech", "Renamed", "renamed"), msg_id="msg_1")
    assert replay.status_code == 200
    assert json.loads(replay.content) == {"received": True, "applied": False}
    org = Organization.objects.get(clerk_org_id="org_initech")
    assert (org.name, org.slug) == ("Initech", "initech")
    assert AuditEvent.objects.filter(org=org).count() == 1
    assert WebhookDelivery.objects.filter(svix_id="msg_1").count() == 1


@pytest.mark.django_db
def test_an_organization_update_renames_it() -> None:
    deliver(org_event("created", "org_initech", "Initech", "initech"))
    deliver(org_event("updated", "org_initech", "Initrode", "initrode"))
    org = Organization.objects.get(clerk_org_id="org_initech")
    assert (org.name, org.slug) == ("Initrode", "initrode")
    assert AuditEvent.objects.filter(org=org, action="org.updated").exists()


@pytest.mark.django_db
def test_a_clashing_slug_gets_a_suffix(alice: Persona) -> None:
    deliver(org_event("created", "org_other_acme", "Acme", alice.org.slug))
    org = Organization.objects.get(clerk_org_id="org_other_acme")
    assert org.slug == f"{alice.org.slug}-2"
    alice.org.refresh_from_db()
    assert alice.org.clerk_org_id is None


@pytest.mark.django_db
def test_organization_deleted_removes_the_org_and_everything_in_it() -> None:
    deliver(org_event("created", "org_initech", "Initech", "initech"))
    deliver(membership_event("created", "org_initech", "user_peter", "org:admin"))
    org = Organization.objects.get(clerk_org_id="org_initech")
    actions.create_project(org, "TPS reports", Actor.system("test"))

    assert deliver(deleted_event("organization.deleted", "org_initech")).status_code == 200
    assert not Organization.objects.filter(clerk_org_id="org_initech").exists()
    assert not Project.objects.filter(name="TPS reports").exists()
    assert not Membership.objects.exists()
    assert User.objects.get(clerk_user_id="user_peter").is_active


@pytest.mark.django_db
def test_organization_deleted_withdraws_its_keys_from_the_proxy(
    alice: Persona,
    redis_client: redis.Redis,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    Organization.objects.filter(id=alice.org.id).update(clerk_org_id="org_acme")
    with django_capture_on_commit_callbacks(execute=True):
        issued = actions.issue_api_key(alice.project, "prod", alice.actor)
    hashed = ApiKey.objects.get(id=issued.id).hashed
    assert redis_client.get(key_index_key(hashed)) is not None

    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(deleted_event("organization.deleted", "org_acme")).status_code == 200

    raw = redis_client.hget(snapshot_key(str(alice.org.id)), "body")
    assert raw is not None
    assert orjson.loads(raw)["keys"] == {}
    assert redis_client.get(key_index_key(hashed)) is None
    assert redis_client.ttl(snapshot_key(str(alice.org.id))) > 0


@pytest.mark.django_db
def test_user_deleted_deactivates_the_user_and_ends_their_memberships() -> None:
    deliver(user_event("created", "user_peter", "peter@initech.test"))
    deliver(membership_event("created", "org_initech", "user_peter", "org:admin"))
    assert deliver(deleted_event("user.deleted", "user_peter")).status_code == 200

    user = User.objects.get(clerk_user_id="user_peter")
    assert not user.is_active
    assert not Membership.objects.filter(user=user).exists()
    assert user.email == "user_peter@clerk.invalid"
    assert AuditEvent.objects.filter(action="member.removed").count() == 1
    # A late user.updated does not bring the account back.
    deliver(user_event("updated", "user_peter", "peter@initech.test"))
    user.refresh_from_db()
    assert not user.is_active
    assert user.email == "user_peter@clerk.invalid"


@pytest.mark.django_db
def test_invitations_are_mirrored_and_follow_their_status() -> None:
    deliver(org_event("created", "org_initech", "Initech", "initech"))
    deliver(invitation_event("created", "orginv_milton", "pending"))
    invitation = Invitation.objects.get(clerk_invitation_id="orginv_milton")
    assert invitation.org.clerk_org_id == "org_initech"
    assert (invitation.email, invitation.role) == ("milton@initech.test", Role.MEMBER)
    assert invitation.expires_at.timestamp() == 1_900_000_000
    assert invitation.accepted_at is None

    deliver(invitation_event("accepted", "orginv_milton", "accepted"))
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None

    deliver(invitation_event("revoked", "orginv_bob", "revoked"))
    assert Invitation.objects.get(clerk_invitation_id="orginv_bob").revoked_at is not None
    actions_seen = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"member.invited", "invitation.accepted", "invitation.revoked"} <= actions_seen


@pytest.mark.django_db
def test_an_unknown_event_type_is_acknowledged_and_recorded() -> None:
    event: dict[str, object] = {"type": "session.created", "data": {"id": "sess_1"}}
    response = deliver(event, msg_id="msg_unknown")
    assert response.status_code == 200
    assert WebhookDelivery.objects.get(svix_id="msg_unknown").event_type == "session.created"


@pytest.mark.django_db
def test_malformed_json_is_refused_and_nothing_is_written() -> None:
    assert_refused(deliver(b'{"type": "user.created", "data": '), "invalid_payload")
    assert not WebhookDelivery.objects.exists()


@pytest.mark.django_db
def test_a_membership_without_its_user_is_refused_and_nothing_is_half_written() -> None:
    event = membership_event("created", "org_initech", "user_peter", "org:admin")
    data = event["data"]
    assert isinstance(data, dict)
    del data["public_user_data"]
    response = deliver(event)
    assert_refused(response, "invalid_payload")
    assert json.loads(response.content)["error"]["param"] == "data.public_user_data"
    assert not Organization.objects.filter(clerk_org_id="org_initech").exists()
    assert not WebhookDelivery.objects.exists()


@pytest.mark.django_db
def test_a_refused_event_can_be_retried_under_the_same_svix_id() -> None:
    bad = user_event("created", "user_peter", "peter@initech.test")
    data = bad["data"]
    assert isinstance(data, dict)
    data["id"] = 42
    assert_refused(deliver(bad, msg_id="msg_retry"), "invalid_payload")
    good = user_event("created", "user_peter", "peter@initech.test")
    assert deliver(good, msg_id="msg_retry").status_code == 200
    assert User.objects.filter(clerk_user_id="user_peter").exists()


@pytest.mark.django_db
def test_without_a_webhook_secret_every_delivery_is_refused(settings: Settings) -> None:
    settings.CLERK_WEBHOOK_SECRET = None
    response = deliver(user_event("created", "user_peter", "peter@initech.test"))
    assert response.status_code == 503
    assert json.loads(response.content)["error"]["code"] == "webhooks_not_configured"
    assert not User.objects.exists()


@pytest.mark.django_db
def test_it_answers_405_to_anything_but_post() -> None:
    response = Client().get("/webhooks/clerk/")
    assert response.status_code == 405
    assert json.loads(response.content)["error"]["type"] == "invalid_request_error"


def peters_token() -> APIClient:
    """A management token peter, an admin of Initech, created; checked to work."""
    peter = User.objects.get(clerk_user_id="user_peter")
    org = Organization.objects.get(clerk_org_id="org_initech")
    issued = actions.issue_management_token(org, "ci", Actor(user=peter, label=peter.email))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
    assert api.get("/api/v1/projects/").status_code == 200
    return api


@pytest.mark.django_db
@pytest.mark.parametrize(
    "ending",
    [
        membership_event("updated", "org_initech", "user_peter", "org:member"),
        membership_event("deleted", "org_initech", "user_peter", "org:admin"),
        deleted_event("user.deleted", "user_peter"),
    ],
    ids=["demoted", "removed", "user deleted"],
)
def test_when_clerk_ends_an_admins_role_their_management_tokens_stop_and_are_revoked(
    ending: dict[str, object],
) -> None:
    deliver(membership_event("created", "org_initech", "user_peter", "org:admin"))
    deliver(membership_event("created", "org_initech", "user_joanna", "org:admin"))
    api = peters_token()

    assert deliver(ending).status_code == 200

    for response in (
        api.get("/api/v1/projects/"),
        api.post("/api/v1/projects/", {"name": "after"}, format="json"),
    ):
        assert response.status_code == 401, response.content
    assert not Project.objects.filter(name="after").exists()
    token = ManagementToken.objects.get(created_by__clerk_user_id="user_peter")
    assert token.revoked_at is not None
    assert AuditEvent.objects.filter(
        action="management_token.revoked", target_id=str(token.id), actor_label="clerk webhook"
    ).exists()
