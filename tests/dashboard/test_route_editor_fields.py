"""The dashboard's route editor keeps and edits max_attempts, deadline_s and health_check."""

from __future__ import annotations

from html.parser import HTMLParser

from django.test import Client

from gateway import actions
from gateway.models import Route
from gateway.specs import DeploymentSpec, RouteSpec
from tests.conftest import Persona, logged_in
from tests.dashboard.support import text


class _FormReader(HTMLParser):
    """What a browser would post for the editor's form as rendered (no field touched)."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, str] = {}
        self._select: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind == "checkbox":
                if "checked" in a:
                    self.data[name] = a.get("value") or "on"
            elif kind != "submit":
                self.data[name] = a.get("value", "")
        elif tag == "select" and name:
            self._select, self._first_option = name, None
        elif tag == "option" and self._select:
            if self._first_option is None:
                self._first_option = a.get("value", "")
                self.data.setdefault(self._select, self._first_option)
            if "selected" in a:
                self.data[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def _form_of(browser: Client, url: str) -> dict[str, str]:
    reader = _FormReader()
    page = browser.get(url)
    assert page.status_code == 200
    reader.feed(text(page))
    return reader.data


def _route(persona: Persona) -> Route:
    spec = RouteSpec(
        strategy="priority",
        max_attempts=2,
        deadline_s=7.5,
        deployments=[
            DeploymentSpec(provider="openai", model="gpt-4o", health_check=True),
            DeploymentSpec(provider="anthropic", model="claude-sonnet-4-5"),
        ],
    )
    route, _ = actions.replace_route(persona.org, "gpt-4o", spec, persona.actor)
    return route


def test_saving_the_editor_unchanged_keeps_the_failover_bounds_and_pings(alice: Persona) -> None:
    route = _route(alice)
    browser = logged_in(alice)
    url = f"/o/acme/routes/{route.id}/edit/"
    response = browser.post(url, _form_of(browser, url))
    assert response.status_code == 302, text(response)
    route.refresh_from_db()
    assert (route.max_attempts, route.deadline_s) == (2, 7.5)
    assert [d.health_check for d in route.deployments.all()] == [True, False]


def test_alice_edits_the_failover_bounds_and_pings_in_the_editor(alice: Persona) -> None:
    route = _route(alice)
    browser = logged_in(alice)
    url = f"/o/acme/routes/{route.id}/edit/"
    data = _form_of(browser, url)
    data.update({"max_attempts": "3", "deadline_s": ""})
    data.pop("d-0-health_check")
    data["d-1-health_check"] = "on"
    response = browser.post(url, data)
    assert response.status_code == 302, text(response)
    route.refresh_from_db()
    assert (route.max_attempts, route.deadline_s) == (3, None)
    assert [d.health_check for d in route.deployments.all()] == [False, True]
    page = text(browser.get(f"/o/acme/routes/{route.id}/"))
    assert "at most 3 attempts" in page


def test_the_editor_refuses_out_of_bounds_failover_fields(alice: Persona) -> None:
    route = _route(alice)
    browser = logged_in(alice)
    url = f"/o/acme/routes/{route.id}/edit/"
    data = {**_form_of(browser, url), "max_attempts": "17", "deadline_s": "0"}
    response = browser.post(url, data)
    assert response.status_code == 400
    route.refresh_from_db()
    assert (route.max_attempts, route.deadline_s) == (2, 7.5)
