"""Clerk mode: a Clerk session token, verified offline, says who calls and in which org.

Tokens are minted here with a locally generated RSA key, the way Clerk signs
them (RS256), and the public half is configured as CLERK_JWT_KEY, so nothing
crosses the network.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client
from pytest_django import Settings

from tenants import actions
from tenants.identity.clerk import normalize_role
from tenants.models import Membership, Organization, Role, User
from tests.conftest import Persona

ISSUER = "https://clerk.selixes.test"
ORIGIN = "https://app.selixes.test"
Mint = Callable[..., str]


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[httpx.Request]]:
    """Fail any test whose verification reached for the network (Clerk's JWKS or verify APIs)."""
    attempts: list[httpx.Request] = []

    def refuse(transport: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        raise httpx.ConnectError("no network in tests", request=request)

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", refuse)
    yield attempts
    assert attempts == [], "token verification must not call the network"


@pytest.fixture
def clerk_mode(settings: Settings, signing_key: rsa.RSAPrivateKey) -> None:
    settings.SELIXES_AUTH = "clerk"
    settings.CLERK_JWT_KEY = _public_pem(signing_key)
    settings.CLERK_AUTHORIZED_PARTIES = [ORIGIN]
    settings.CLERK_ISSUER = ISSUER


def claims_for(user_id: str, org_id: str | None = None, role: str = "admin") -> dict[str, object]:
    """Return the claims of a v2 Clerk session token, valid for a minute."""
    now = int(time.time())
    claims: dict[str, object] = {
        "azp": ORIGIN,
        "exp": now + 60,
        "iat": now,
        "nbf": now - 5,
        "iss": ISSUER,
        "sid": "sess_2abcSession",
        "sub": user_id,
        "sts": "active",
        "v": 2,
    }
    if org_id is not None:
        claims["o"] = {"id": org_id, "rol": role, "slg": org_id.removeprefix("org_")}
    return claims


@pytest.fixture
def mint(signing_key: rsa.RSAPrivateKey) -> Mint:
    def sign(claims: dict[str, object], key: rsa.RSAPrivateKey | None = None, **header: str) -> str:
        headers = {"kid": "ins_test", **header}
        return jwt.encode(claims, key or signing_key, algorithm="RS256", headers=headers)

    return sign


@pytest.fixture
def acme(alice: Persona, clerk_mode: None) -> Persona:
    """Alice's Acme, as it looks once mirrored from Clerk."""
    Organization.objects.filter(id=alice.org.id).update(clerk_org_id="org_acme")
    User.objects.filter(id=alice.user.id).update(clerk_user_id="user_alice")
    return alice


@pytest.fixture
def globex(charlie: Persona, clerk_mode: None) -> Persona:
    Organization.objects.filter(id=charlie.org.id).update(clerk_org_id="org_globex")
    User.objects.filter(id=charlie.user.id).update(clerk_user_id="user_charlie")
    return charlie


def bearer(token: str, enforce_csrf_checks: bool = False) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}", enforce_csrf_checks=enforce_csrf_checks)


def cookie(token: str, enforce_csrf_checks: bool = False) -> Client:
    client = Client(enforce_csrf_checks=enforce_csrf_checks)
    client.cookies["__session"] = token
    return client


def assert_anonymous(client: Client) -> None:
    response = client.get("/api/v1/projects/")
    assert response.status_code == 401, response.content
    error = response.json()["error"]
    assert set(error) == {"message", "type", "code", "param"}
    assert error["type"] == "authentication_error"
    assert error["code"] == "not_authenticated"
    assert error["param"] is None


def project_names(client: Client) -> list[str]:
    response = client.get("/api/v1/projects/")
    assert response.status_code == 200, response.content
    return [project["name"] for project in response.json()]


def test_a_session_token_in_the_cookie_reaches_the_members_projects(
    acme: Persona, mint: Mint
) -> None:
    token = mint(claims_for("user_alice", "org_acme"))
    assert project_names(cookie(token)) == ["Default"]


def test_a_session_token_as_bearer_reaches_the_members_projects(acme: Persona, mint: Mint) -> None:
    token = mint(claims_for("user_alice", "org_acme"))
    assert project_names(bearer(token)) == ["Default"]


def test_it_refuses_a_token_signed_by_another_key(acme: Persona, mint: Mint) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert_anonymous(bearer(mint(claims_for("user_alice", "org_acme"), stranger)))


def test_it_refuses_a_token_whose_payload_was_edited(acme: Persona, mint: Mint) -> None:
    header, _, signature = mint(claims_for("user_alice", "org_acme", "member")).split(".")
    edited = claims_for("user_alice", "org_acme", "admin")
    payload = base64.urlsafe_b64encode(json.dumps(edited).encode()).rstrip(b"=").decode()
    assert_anonymous(bearer(f"{header}.{payload}.{signature}"))


def test_it_refuses_an_hmac_token_keyed_with_the_public_key(
    acme: Persona, signing_key: rsa.RSAPrivateKey
) -> None:
    def b64(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64(json.dumps(claims_for("user_alice", "org_acme")).encode())
    signed = header + b"." + payload
    mac = hmac.new(_public_pem(signing_key).encode(), signed, hashlib.sha256).digest()
    assert_anonymous(bearer((signed + b"." + b64(mac)).decode()))


def test_it_refuses_an_expired_token(acme: Persona, mint: Mint) -> None:
    claims = claims_for("user_alice", "org_acme")
    claims["exp"] = int(time.time()) - 60
    assert_anonymous(cookie(mint(claims)))


def test_it_refuses_a_token_without_an_expiry(acme: Persona, mint: Mint) -> None:
    claims = claims_for("user_alice", "org_acme")
    del claims["exp"]
    assert_anonymous(bearer(mint(claims)))


def test_it_refuses_a_token_for_another_authorized_party(acme: Persona, mint: Mint) -> None:
    claims = claims_for("user_alice", "org_acme")
    claims["azp"] = "https://evil.example"
    assert_anonymous(bearer(mint(claims)))


def test_it_refuses_a_token_without_an_authorized_party(acme: Persona, mint: Mint) -> None:
    claims = claims_for("user_alice", "org_acme")
    del claims["azp"]
    assert_anonymous(bearer(mint(claims)))


def test_without_configured_parties_the_dashboard_origin_is_the_only_one(
    acme: Persona, mint: Mint, settings: Settings
) -> None:
    settings.CLERK_AUTHORIZED_PARTIES = []
    settings.SITE_URL = f"{ORIGIN}/"
    assert project_names(bearer(mint(claims_for("user_alice", "org_acme")))) == ["Default"]
    claims = claims_for("user_alice", "org_acme")
    claims["azp"] = "https://evil.example"
    assert_anonymous(bearer(mint(claims)))


def test_a_jwt_key_pasted_on_one_line_with_escaped_newlines_works(
    acme: Persona, mint: Mint, settings: Settings, signing_key: rsa.RSAPrivateKey
) -> None:
    settings.CLERK_JWT_KEY = _public_pem(signing_key).replace("\n", "\\n")
    assert "\n" not in settings.CLERK_JWT_KEY
    assert project_names(bearer(mint(claims_for("user_alice", "org_acme")))) == ["Default"]


def test_without_a_jwt_key_every_token_is_anonymous(
    acme: Persona, mint: Mint, settings: Settings
) -> None:
    settings.CLERK_JWT_KEY = None
    assert_anonymous(bearer(mint(claims_for("user_alice", "org_acme"))))


def test_it_refuses_a_token_from_another_issuer(acme: Persona, mint: Mint) -> None:
    claims = claims_for("user_alice", "org_acme")
    claims["iss"] = "https://other-instance.clerk.accounts.dev"
    assert_anonymous(bearer(mint(claims)))


def test_without_a_configured_issuer_it_still_requires_an_https_one(
    acme: Persona, mint: Mint, settings: Settings
) -> None:
    settings.CLERK_ISSUER = None
    claims = claims_for("user_alice", "org_acme")
    claims["iss"] = "http://clerk.selixes.test"
    assert_anonymous(bearer(mint(claims)))
    claims["iss"] = "https://any-instance.clerk.accounts.dev"
    assert project_names(bearer(mint(claims))) == ["Default"]


def test_it_refuses_an_oauth_access_token(acme: Persona, mint: Mint) -> None:
    assert_anonymous(bearer(mint(claims_for("user_alice", "org_acme"), typ="at+jwt")))


def test_it_refuses_a_jwt_template_token(acme: Persona, mint: Mint) -> None:
    template_category = "cl_B7d4PD222AAA"
    assert_anonymous(bearer(mint(claims_for("user_alice", "org_acme"), cat=template_category)))


def test_it_accepts_the_session_token_category(acme: Persona, mint: Mint) -> None:
    token = mint(claims_for("user_alice", "org_acme"), cat="cl_B7d4PD111AAA")
    assert project_names(bearer(token)) == ["Default"]


def test_it_refuses_a_machine_token(acme: Persona, mint: Mint) -> None:
    claims = claims_for("mch_2abcMachine", "org_acme")
    assert_anonymous(bearer(mint(claims)))


def test_it_refuses_a_token_without_a_session_id(acme: Persona, mint: Mint) -> None:
    claims = claims_for("user_alice", "org_acme")
    del claims["sid"]
    assert_anonymous(bearer(mint(claims)))


@pytest.mark.parametrize("token", ["oat_opaque0123", "m2m_opaque0123", "ak_opaque0123"])
def test_it_refuses_opaque_machine_tokens_without_calling_clerk(
    acme: Persona, token: str, no_network: list[httpx.Request]
) -> None:
    assert_anonymous(bearer(token))
    assert no_network == []


def test_it_refuses_a_pending_session(acme: Persona, mint: Mint) -> None:
    claims = claims_for("user_alice", "org_acme")
    claims["sts"] = "pending"
    assert_anonymous(cookie(mint(claims)))


@pytest.mark.parametrize("garbage", ["not-a-jwt", "a.b.c", "eyJhbGciOiJub25lIn0..", "\u00e9\u00e9"])
def test_a_garbage_token_is_anonymous_not_an_error(acme: Persona, garbage: str) -> None:
    assert_anonymous(bearer(garbage))


def test_a_django_session_is_not_an_identity_in_clerk_mode(acme: Persona) -> None:
    client = Client()
    client.force_login(acme.user)
    assert_anonymous(client)


def test_in_local_mode_a_clerk_token_is_ignored(
    acme: Persona, mint: Mint, settings: Settings
) -> None:
    settings.SELIXES_AUTH = "local"
    assert_anonymous(bearer(mint(claims_for("user_alice", "org_acme"))))


def test_a_management_token_still_works_in_clerk_mode(acme: Persona) -> None:
    issued = actions.issue_management_token(acme.org, "ci", acme.actor)
    assert project_names(bearer(issued.secret)) == ["Default"]


def test_a_deactivated_user_is_anonymous(acme: Persona, mint: Mint) -> None:
    User.objects.filter(id=acme.user.id).update(is_active=False)
    assert_anonymous(bearer(mint(claims_for("user_alice", "org_acme"))))


def test_a_member_may_list_projects_but_not_create_one(acme: Persona, mint: Mint) -> None:
    client = bearer(mint(claims_for("user_bob", "org_acme", role="org:member")))
    assert project_names(client) == ["Default"]
    response = client.post("/api/v1/projects/", {"name": "Sneaky"}, content_type="application/json")
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["type"] == "permission_error"
    assert set(error) == {"message", "type", "code", "param"}
    assert Membership.objects.get(user__clerk_user_id="user_bob").role == Role.MEMBER


def test_an_admin_token_may_create_a_project(acme: Persona, mint: Mint) -> None:
    client = bearer(mint(claims_for("user_alice", "org_acme", role="org:admin")))
    response = client.post("/api/v1/projects/", {"name": "Search"}, content_type="application/json")
    assert response.status_code == 201, response.content
    assert "Search" in project_names(client)


def test_a_member_of_another_clerk_org_gets_404_for_acmes_key(
    acme: Persona, globex: Persona, mint: Mint
) -> None:
    key = actions.issue_api_key(acme.project, "prod", acme.actor)
    acme_admin = bearer(mint(claims_for("user_alice", "org_acme")))
    assert acme_admin.get(f"/api/v1/keys/{key.id}/").status_code == 200
    charlie = bearer(mint(claims_for("user_charlie", "org_globex")))
    response = charlie.get(f"/api/v1/keys/{key.id}/")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found_error"


def test_the_token_org_decides_even_for_a_member_of_both(
    acme: Persona, globex: Persona, mint: Mint
) -> None:
    actions.create_project(globex.org, "Globex only", globex.actor)
    both = bearer(mint(claims_for("user_alice", "org_globex", role="org:member")))
    assert project_names(both) == ["Default", "Globex only"]
    assert project_names(bearer(mint(claims_for("user_alice", "org_acme")))) == ["Default"]


def test_a_first_request_creates_the_user_org_and_membership_before_any_webhook(
    clerk_mode: None, db: None, mint: Mint
) -> None:
    client = bearer(mint(claims_for("user_newcomer", "org_initech", role="org:member")))
    assert project_names(client) == []
    user = User.objects.get(clerk_user_id="user_newcomer")
    assert user.email == "user_newcomer@clerk.invalid"
    assert not user.has_usable_password()
    org = Organization.objects.get(clerk_org_id="org_initech")
    assert org.slug == "initech"
    assert Membership.objects.get(org=org, user=user).role == Role.MEMBER
    assert org.audit_events.filter(action="member.joined", actor_label="clerk session").exists()


def test_a_first_request_takes_the_email_claim_when_there_is_one(
    clerk_mode: None, db: None, mint: Mint
) -> None:
    claims = claims_for("user_newcomer", "org_initech")
    claims["email"] = "Newcomer@Initech.test"
    project_names(bearer(mint(claims)))
    assert User.objects.get(clerk_user_id="user_newcomer").email == "newcomer@initech.test"


def test_a_new_role_in_the_token_updates_the_membership(acme: Persona, mint: Mint) -> None:
    project_names(bearer(mint(claims_for("user_bob", "org_acme", role="org:member"))))
    as_billing = bearer(mint(claims_for("user_bob", "org_acme", role="org:billing")))
    # The new role applies at once: a billing member reads no projects (tenants.roles).
    assert as_billing.get("/api/v1/projects/").status_code == 403
    assert Membership.objects.get(user__clerk_user_id="user_bob").role == Role.BILLING


def test_a_v1_token_with_flat_org_claims_works(acme: Persona, mint: Mint) -> None:
    claims = claims_for("user_bob")
    del claims["v"]
    claims.update(org_id="org_acme", org_role="basic_member", org_slug="acme")
    assert project_names(bearer(mint(claims))) == ["Default"]
    assert Membership.objects.get(user__clerk_user_id="user_bob").role == Role.MEMBER


def test_a_cookie_session_still_needs_the_csrf_token_to_post(acme: Persona, mint: Mint) -> None:
    token = mint(claims_for("user_alice", "org_acme"))
    body = {"name": "Forged"}
    response = cookie(token, enforce_csrf_checks=True).post(
        "/api/v1/projects/", body, content_type="application/json"
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]["message"]
    response = bearer(token, enforce_csrf_checks=True).post(
        "/api/v1/projects/", body, content_type="application/json"
    )
    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    ("clerk_role", "role"),
    [
        ("org:admin", Role.ADMIN),
        ("admin", Role.ADMIN),
        ("org:member", Role.MEMBER),
        ("basic_member", Role.MEMBER),
        ("member", Role.MEMBER),
        ("org:billing", Role.BILLING),
        ("billing_manager", Role.BILLING),
        ("org:auditor", Role.MEMBER),
        (None, Role.MEMBER),
    ],
)
def test_clerk_roles_map_onto_ours(clerk_role: str | None, role: Role) -> None:
    assert normalize_role(clerk_role) == role
