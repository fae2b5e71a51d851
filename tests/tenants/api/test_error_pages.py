"""Under /api/ every failure is the JSON error shape, never one of Django's HTML pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, RequestFactory
from django.urls import get_resolver
from rest_framework.test import APIClient

from tests.conftest import Persona
from tests.tenants.api.support import json_error

METHODS = ["get", "post", "put", "patch", "delete", "options"]
UNKNOWN_PATHS = [
    "/api/v1/nope/",
    "/api/v1/projects/x/y/z/",
    "/api/v1/keys/../../admin/",
    "/api/v2/projects/",
    "/api/",
    "/api/v1/%00/",
]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("path", UNKNOWN_PATHS)
def test_it_answers_an_unknown_api_path_with_a_json_404_for_any_method(
    method: str, path: str, alice_api: APIClient
) -> None:
    response = getattr(alice_api, method)(path, {"name": "x"}, format="json")
    error = json_error(response, 404)
    assert error["type"] == "not_found_error"


@pytest.mark.parametrize("method", ["get", "post"])
def test_it_answers_an_unknown_api_path_with_json_without_credentials_too(
    method: str, db: None
) -> None:
    # A plain Django client: a POST without a CSRF token must not get the CSRF HTML page.
    response = getattr(Client(enforce_csrf_checks=True), method)("/api/v1/nothing-here/")
    json_error(response, 404)


def test_it_points_at_the_endpoint_when_only_the_trailing_slash_is_missing(
    alice_api: APIClient,
) -> None:
    response = alice_api.post("/api/v1/projects", {"name": "x"}, format="json")
    error = json_error(response, 404)
    assert "/api/v1/projects/" in error["message"]


def test_it_answers_a_method_an_endpoint_lacks_with_a_json_405_and_allow(
    alice_api: APIClient,
) -> None:
    response = alice_api.put("/api/v1/teams/", {"name": "x"}, format="json")
    json_error(response, 405)
    assert set(response["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


def test_the_dashboard_keeps_its_html_404(alice: Persona) -> None:
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("status", [400, 403, 404, 500])
def test_a_django_error_under_the_api_is_json_and_names_no_cause(status: int) -> None:
    # Errors raised outside DRF (and a 500, which none of our views should give) reach
    # the handlers of config/urls.py.
    handler: Any = get_resolver().resolve_error_handler(status)
    request = RequestFactory().get("/api/v1/projects/")
    response = handler(request) if status == 500 else handler(request, Exception("secret"))
    error = json_error(response, status)
    assert "secret" not in error["message"]


def test_a_server_error_outside_the_api_stays_an_html_page() -> None:
    handler = get_resolver().resolve_error_handler(500)
    response = handler(RequestFactory().get("/o/acme/"))
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("method", ["get", "delete"])
@pytest.mark.parametrize("alias", ["a%00b", "a%0Ab", "..%2F"])
def test_a_route_alias_no_route_can_have_is_a_json_404(
    method: str, alias: str, alice_api: APIClient
) -> None:
    """A NUL in the alias reached PostgreSQL, which refused it with a 500."""
    response = getattr(alice_api, method)(f"/api/v1/routes/{alias}/")
    json_error(response, 404)
