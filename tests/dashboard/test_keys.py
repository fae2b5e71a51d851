"""API keys through the pages: shown once, listed by prefix, revoked after a confirmation."""

from __future__ import annotations

import html
import re
from typing import Any

from gateway import actions as gateway_actions
from gateway.specs import DeploymentSpec, RouteSpec
from tenants import actions
from tenants.models import ApiKey
from tests.conftest import Persona, logged_in
from tests.dashboard.conftest import AcmeObjects
from tests.dashboard.support import submit, text

KEY = re.compile(r'value="(sk-sel-[A-Za-z0-9_-]+)"')


def test_a_new_key_is_shown_in_full_once_and_only_by_prefix_afterwards(alice: Persona) -> None:
    browser = logged_in(alice)
    created = submit(
        browser,
        "/o/acme/keys/new/",
        {"project": str(alice.project.id), "name": "backend", "user": str(alice.user.id)},
    )
    assert created.status_code == 200
    assert "no-store" in created["Cache-Control"]
    match = KEY.search(text(created))
    assert match, "the full key is not on the creation page"
    secret = match.group(1)
    key = ApiKey.objects.get(org=alice.org, name="backend")
    assert secret.startswith(key.prefix)
    assert key.user == alice.user
    assert key.hashed != secret

    for url in (
        "/o/acme/keys/",
        f"/o/acme/projects/{alice.project.id}/",
        "/o/acme/",
        "/o/acme/audit/",
    ):
        body = text(browser.get(url))
        assert secret not in body, url
    listing = text(browser.get("/o/acme/keys/"))
    assert f"{key.prefix}…" in listing
    assert "alice@acme.test" in listing
    assert "Active" in listing


def test_an_admin_creates_a_project_key_without_owner(alice: Persona) -> None:
    submit(
        logged_in(alice),
        "/o/acme/keys/new/",
        {"project": str(alice.project.id), "name": "shared", "user": ""},
    )
    assert ApiKey.objects.get(name="shared").user is None


def test_revoking_asks_to_confirm_then_shows_the_key_as_revoked(
    alice: Persona, acme: AcmeObjects
) -> None:
    browser = logged_in(alice)
    url = f"/o/acme/keys/{acme.bob_key_id}/revoke/"
    confirm = browser.get(url)
    assert "Applications using it will be refused" in text(confirm)
    assert ApiKey.objects.get(id=acme.bob_key_id).is_active

    response = browser.post(url, follow=True)
    assert response.redirect_chain[-1][0] == "/o/acme/keys/"
    assert "was revoked" in text(response)
    assert ApiKey.objects.get(id=acme.bob_key_id).revoked_at is not None
    row = re.search(r"<tr class=\"dim\">.*?</tr>", text(response), re.S)
    assert row and "bob key" in row.group(0) and "Revoked" in row.group(0)


def test_a_member_creates_keys_only_for_themselves(
    alice: Persona, bob: Persona, acme: AcmeObjects
) -> None:
    browser = logged_in(bob)
    form = text(browser.get("/o/acme/keys/new/"))
    assert 'name="user"' not in form
    # Even a hand-made POST naming alice as the owner yields a key of bob's.
    submit(
        browser,
        "/o/acme/keys/new/",
        {"project": acme.project_id, "name": "mine", "user": acme.alice_user_id},
    )
    assert ApiKey.objects.get(name="mine").user == bob.user


def test_a_member_revokes_their_own_key_but_not_someone_elses(
    bob: Persona, acme: AcmeObjects
) -> None:
    browser = logged_in(bob)
    listing = text(browser.get("/o/acme/keys/"))
    assert f"/o/acme/keys/{acme.bob_key_id}/revoke/" in listing
    assert f"/o/acme/keys/{acme.alice_key_id}/revoke/" not in listing

    assert browser.post(f"/o/acme/keys/{acme.alice_key_id}/revoke/").status_code == 403
    assert ApiKey.objects.get(id=acme.alice_key_id).is_active
    assert browser.post(f"/o/acme/keys/{acme.bob_key_id}/revoke/").status_code == 302
    assert not ApiKey.objects.get(id=acme.bob_key_id).is_active


def test_the_new_key_form_preselects_the_project_it_was_opened_from(alice: Persona) -> None:
    other = actions.create_project(alice.org, "Other", alice.actor)
    form = text(logged_in(alice).get(f"/o/acme/keys/new/?project={other.id}"))
    assert f'<option value="{other.id}" selected>' in form


def test_a_key_name_is_required(alice: Persona) -> None:
    response = submit(
        logged_in(alice), "/o/acme/keys/new/", {"project": str(alice.project.id), "name": ""}
    )
    assert response.status_code == 400
    assert not ApiKey.objects.exists()


def _snippet(page_text: str, snippet_id: str) -> str:
    found = re.search(rf'<pre id="{snippet_id}">(.*?)</pre>', page_text, re.S)
    assert found, f"no {snippet_id} on the page"
    return html.unescape(found.group(1))


def test_the_new_key_page_shows_the_proxy_url_and_snippets_to_copy(
    alice: Persona, settings: Any
) -> None:
    settings.PROXY_URL = "http://localhost:8381/"
    gateway_actions.replace_route(
        alice.org,
        "gpt-demo",
        RouteSpec(strategy="priority", deployments=[DeploymentSpec("anthropic", "claude-x")]),
        alice.actor,
    )
    created = text(
        submit(
            logged_in(alice),
            "/o/acme/keys/new/",
            {"project": str(alice.project.id), "name": "backend", "user": str(alice.user.id)},
        )
    )
    match = KEY.search(created)
    assert match
    secret = match.group(1)
    assert 'value="http://localhost:8381"' in created  # the proxy's base URL, to copy
    curl = _snippet(created, "snippet-curl")
    assert curl.startswith("curl http://localhost:8381/v1/chat/completions")
    assert f"Authorization: Bearer {secret}" in curl
    assert '"model": "gpt-demo"' in curl
    sdk = _snippet(created, "snippet-openai")
    assert f'OpenAI(base_url="http://localhost:8381/v1", api_key="{secret}")' in sdk
    assert 'model="gpt-demo"' in sdk
    assert 'data-copy="#snippet-curl"' in created and 'data-copy="#snippet-openai"' in created


def test_without_a_route_the_snippets_say_to_create_one(alice: Persona) -> None:
    created = text(
        submit(
            logged_in(alice),
            "/o/acme/keys/new/",
            {"project": str(alice.project.id), "name": "backend", "user": str(alice.user.id)},
        )
    )
    assert "You have no route yet" in created
    assert '"model": "your-model"' in _snippet(created, "snippet-curl")
