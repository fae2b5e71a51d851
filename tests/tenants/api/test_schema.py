"""The OpenAPI schema lists every error an operation can give, and is as strict as the API."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

BODY_METHODS = {"post", "put", "patch"}


@pytest.fixture(scope="module")
def schema(django_db_blocker: Any) -> dict[str, Any]:
    with django_db_blocker.unblock():
        response = APIClient().get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref is None:
        return node
    found: dict[str, Any] = schema
    for part in ref.removeprefix("#/").split("/"):
        found = found[part]
    return found


def test_the_error_shape_is_a_component(schema: dict[str, Any]) -> None:
    error = schema["components"]["schemas"]["Error"]
    detail = _resolve(schema, error["properties"]["error"])
    assert set(detail["properties"]) == {"message", "type", "code", "param"}
    assert "not_found_error" in _resolve(schema, detail["properties"]["type"])["enum"]


def test_every_operation_lists_the_errors_it_can_give_in_the_error_shape(
    schema: dict[str, Any],
) -> None:
    for method, path, operation in _operations(schema):
        responses = operation["responses"]
        expected = {"401", "403"}
        if method in BODY_METHODS:
            expected |= {"400", "413", "415"}
        if "{" in path:
            expected.add("404")
        if any(p["in"] == "query" for p in operation.get("parameters", [])):
            expected.add("400")
        assert expected <= set(responses), (method, path, sorted(responses))
        for status in expected:
            content = responses[status]["content"]["application/json"]["schema"]
            assert content == {"$ref": "#/components/schemas/Error"}, (method, path, status)


@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        ("post", "/api/v1/teams/", {"409"}),
        ("post", "/api/v1/projects/", {"404", "409"}),
        ("post", "/api/v1/keys/", {"404"}),
        ("patch", "/api/v1/keys/{key_id}/", {"409"}),
        ("post", "/api/v1/budgets/", {"404", "409"}),
        ("put", "/api/v1/routes/{model}/", {"409"}),
        ("delete", "/api/v1/provider-keys/{key_id}/", {"409"}),
    ],
)
def test_operations_list_the_conflicts_and_unknown_ids_of_their_bodies(
    method: str, path: str, statuses: set[str], schema: dict[str, Any]
) -> None:
    assert statuses <= set(schema["paths"][path][method]["responses"])


def test_operations_say_how_they_authenticate(schema: dict[str, Any]) -> None:
    schemes = schema["components"]["securitySchemes"]
    assert schemes["managementToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["managementToken"]["description"],
    }
    for method, path, operation in _operations(schema):
        assert {"managementToken": []} in operation["security"], (method, path)


def test_request_bodies_refuse_unknown_fields_as_the_api_does(schema: dict[str, Any]) -> None:
    for method, path, operation in _operations(schema):
        if "requestBody" not in operation:
            continue
        body = _resolve(schema, operation["requestBody"]["content"]["application/json"]["schema"])
        assert body["additionalProperties"] is False, (method, path)


def test_the_schema_carries_the_bounds_the_api_checks(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    parameters = {
        p["name"]: p["schema"] for p in schema["paths"]["/api/v1/requests/"]["get"]["parameters"]
    }
    assert parameters["limit"] == {"type": "integer", "minimum": 1, "maximum": 500}
    assert parameters["status"]["oneOf"][0] == {"type": "integer", "minimum": 100, "maximum": 599}
    assert parameters["from"]["format"] == "date-time"
    route = components["RouteInRequest"]["properties"]
    assert (route["deployments"]["minItems"], route["deployments"]["maxItems"]) == (1, 16)
    # Printable ASCII without spaces, as check_deployment refuses the rest (x-selixes-model).
    deployment = components["DeploymentInRequest"]["properties"]
    assert deployment["model"]["pattern"] == "^[!-~]+$"
    settings = components["PatchedBudgetSettingsPatchRequest"]["properties"]
    assert "UTC" in _resolve(schema, settings["timezone"]["allOf"][0])["enum"]
    budget = components["BudgetCreateRequest"]
    assert budget["anyOf"]  # only an org budget may leave scope_id out
    assert budget["properties"]["scope_id"]["format"] == "uuid"
    name = components["TeamCreateRequest"]["properties"]["name"]
    assert name["maxLength"] == 100 and "pattern" in name
    key_detail = schema["paths"]["/api/v1/keys/{key_id}/"]["get"]["parameters"][0]
    assert key_detail["schema"] == {"type": "string", "format": "uuid"}
