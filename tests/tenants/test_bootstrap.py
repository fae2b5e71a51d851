"""`manage.py bootstrap` as CONTRACT.md section 3 fixes it: one JSON object, idempotent."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from tenants.models import ApiKey, Membership, Organization, Project, Role, User

ARGS = ["--org", "Acme", "--email", "Admin@Acme.test", "--password", "a-long-passphrase-9"]


def _bootstrap(*args: str) -> dict[str, str]:
    out = StringIO()
    call_command("bootstrap", *args, stdout=out)
    result: dict[str, str] = json.loads(out.getvalue())
    return result


@pytest.mark.django_db
def test_it_creates_the_admin_org_project_token_and_key() -> None:
    result = _bootstrap(*ARGS)
    assert set(result) == {"org_id", "project_id", "management_token", "api_key"}
    assert result["management_token"].startswith("mt-")
    assert result["api_key"].startswith("sk-sel-")
    org = Organization.objects.get(id=result["org_id"])
    user = User.objects.get(email="admin@acme.test")
    assert Membership.objects.get(org=org, user=user).role == Role.ADMIN
    assert Project.objects.get(id=result["project_id"]).org == org

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {result['management_token']}")
    assert [p["id"] for p in api.get("/api/v1/projects/").json()] == [result["project_id"]]


@pytest.mark.django_db
def test_running_it_again_finds_the_same_org_and_issues_fresh_secrets() -> None:
    first = _bootstrap(*ARGS)
    second = _bootstrap(*ARGS)
    assert (first["org_id"], first["project_id"]) == (second["org_id"], second["project_id"])
    assert first["api_key"] != second["api_key"]
    assert first["management_token"] != second["management_token"]
    assert Organization.objects.count() == 1
    assert ApiKey.objects.filter(revoked_at=None).count() == 2


@pytest.mark.django_db
def test_it_refuses_a_wrong_password_for_an_existing_user() -> None:
    _bootstrap(*ARGS)
    with pytest.raises(CommandError, match="password does not match"):
        _bootstrap("--org", "Acme", "--email", "admin@acme.test", "--password", "another-one-77")


@pytest.mark.django_db
def test_it_refuses_an_org_name_taken_by_someone_else() -> None:
    _bootstrap(*ARGS)
    with pytest.raises(CommandError, match="is not its admin"):
        _bootstrap("--org", "ACME", "--email", "eve@evil.test", "--password", "a-long-passphrase-9")
    assert not Membership.objects.filter(user__email="eve@evil.test").exists()


@pytest.mark.django_db
def test_it_refuses_a_weak_password_and_writes_nothing() -> None:
    with pytest.raises(CommandError):
        _bootstrap("--org", "Weak", "--email", "w@weak.test", "--password", "123")
    assert not User.objects.filter(email="w@weak.test").exists()
    assert not Organization.objects.exists()
