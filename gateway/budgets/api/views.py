"""Management API endpoints for budgets and budget settings (CONTRACT.md section 4)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response

from gateway.budgets import actions
from gateway.budgets.api.serializers import (
    BudgetCreateSerializer,
    BudgetSerializer,
    BudgetSettingsPatchSerializer,
    BudgetSettingsSerializer,
    budget_out,
    settings_out,
)
from gateway.budgets.models import Budget
from gateway.budgets.specs import BudgetSettingsSpec
from gateway.budgets.status import budget_statuses
from gateway.specs import PriceSpec
from tenants.api.auth import OrgContext, role_may
from tenants.api.schema import errors
from tenants.models import Organization
from tenants.roles import Area
from tenants.scoping import for_org, get_for_org


def _context(request: Request) -> OrgContext:
    return cast(OrgContext, request.auth)


def _shown(org: Organization, budget: Budget) -> Response:
    (one,) = budget_statuses(org, [budget])
    return Response(BudgetSerializer(budget_out(one)).data)


@extend_schema(methods=["GET"], responses=BudgetSerializer(many=True))
@extend_schema(
    methods=["POST"],
    request=BudgetCreateSerializer,
    responses={201: BudgetSerializer, **errors(404, 409)},
    description="Add a budget. 404 when scope_id is not a team, project, member or key of this"
    " organization; 409 when the scope already has a budget for this period.",
)
@api_view(["GET", "POST"])
@permission_classes([role_may(Area.BUDGETS)])
def budgets(request: Request) -> Response:
    ctx = _context(request)
    if request.method == "GET":
        rows = list(for_org(Budget.objects.all(), ctx.org).order_by("created_at", "id"))
        out = [budget_out(s) for s in budget_statuses(ctx.org, rows)]
        return Response(BudgetSerializer(out, many=True).data)
    body = BudgetCreateSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    budget = actions.create_budget(ctx.org, body.spec(), ctx.actor)
    response = _shown(ctx.org, budget)
    response.status_code = status.HTTP_201_CREATED
    return response


@extend_schema(methods=["GET"], responses=BudgetSerializer)
@extend_schema(
    methods=["DELETE"],
    responses={204: None},
    description="Delete the budget; the proxy stops enforcing it within a second.",
)
@api_view(["GET", "DELETE"])
@permission_classes([role_may(Area.BUDGETS)])
def budget_detail(request: Request, budget_id: str) -> Response:
    ctx = _context(request)
    budget = get_for_org(Budget.objects.all(), ctx.org, id=budget_id)
    if request.method == "GET":
        return _shown(ctx.org, budget)
    actions.delete_budget(budget, ctx.actor)
    return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(methods=["GET"], responses=BudgetSettingsSerializer)
@extend_schema(
    methods=["PATCH"],
    request=BudgetSettingsPatchSerializer,
    responses=BudgetSettingsSerializer,
    description="Change what is given; null clears default_price or default_max_output_tokens.",
)
@api_view(["GET", "PATCH"])
@permission_classes([role_may(Area.BUDGETS)])
def budget_settings(request: Request) -> Response:
    ctx = _context(request)
    org = Organization.objects.get(id=ctx.org.id)
    if request.method == "PATCH":
        body = BudgetSettingsPatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        org = actions.update_budget_settings(
            org, _settings_spec(org, body.validated_data), ctx.actor
        )
    return Response(BudgetSettingsSerializer(settings_out(org)).data)


def _settings_spec(org: Organization, data: dict[str, Any]) -> BudgetSettingsSpec:
    """The org's settings with what the body gives replaced; absent fields stay as they are."""
    changes: dict[str, Any] = {
        name: data[name] for name in ("timezone", "default_max_output_tokens") if name in data
    }
    if "default_price" in data:
        price = data["default_price"]
        changes["default_price"] = (
            PriceSpec(price["input_per_mtok"], price["output_per_mtok"]) if price else None
        )
    return replace(BudgetSettingsSpec.of(org), **changes)
