"""Management API endpoints for routes and provider keys (CONTRACT.md section 4)."""

from __future__ import annotations

from typing import cast

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response

from gateway import actions
from gateway.api.serializers import (
    ProviderKeyCreateSerializer,
    ProviderKeySerializer,
    RouteInSerializer,
    RouteSerializer,
)
from gateway.models import ProviderKey, Route
from gateway.specs import clean_alias
from tenants.api.auth import OrgContext, role_may
from tenants.api.schema import errors
from tenants.errors import Invalid
from tenants.roles import Area
from tenants.scoping import for_org, get_for_org


def _context(request: Request) -> OrgContext:
    return cast(OrgContext, request.auth)


def _routes() -> QuerySet[Route]:
    return Route.objects.prefetch_related("deployments")


@extend_schema(responses=RouteSerializer(many=True))
@api_view(["GET"])
@permission_classes([role_may(Area.ROUTES)])
def routes(request: Request) -> Response:
    rows = for_org(_routes(), _context(request).org).order_by("model")
    return Response(RouteSerializer(rows, many=True).data)


@extend_schema(methods=["GET"], responses=RouteSerializer)
@extend_schema(
    methods=["PUT"],
    request=RouteInSerializer,
    responses={200: RouteSerializer, 201: RouteSerializer, **errors(409)},
    description="Create the route of this alias, or replace all of it, deployments included.",
)
@extend_schema(methods=["DELETE"], responses={204: None})
@api_view(["GET", "PUT", "DELETE"])
@permission_classes([role_may(Area.ROUTES)])
def route_detail(request: Request, model: str) -> Response:
    ctx = _context(request)
    if request.method == "PUT":
        body = RouteInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        route, created = actions.replace_route(ctx.org, model, body.spec(), ctx.actor)
        fresh = _routes().get(id=route.id)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(RouteSerializer(fresh).data, status=code)
    # An alias no route can have (a NUL reaches PostgreSQL as a 500) names nothing.
    try:
        clean_alias(model)
    except Invalid:
        raise Http404 from None
    route = get_for_org(_routes(), ctx.org, model=model)
    if request.method == "GET":
        return Response(RouteSerializer(route).data)
    actions.delete_route(route, ctx.actor)
    return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(methods=["GET"], responses=ProviderKeySerializer(many=True))
@extend_schema(
    methods=["POST"],
    request=ProviderKeyCreateSerializer,
    responses={201: ProviderKeySerializer},
    description="Store a provider key (BYOK), encrypted; it is never returned.",
)
@api_view(["GET", "POST"])
@permission_classes([role_may(Area.PROVIDER_KEYS)])
def provider_keys(request: Request) -> Response:
    ctx = _context(request)
    if request.method == "GET":
        rows = for_org(ProviderKey.objects.all(), ctx.org).order_by("-created_at")
        return Response(ProviderKeySerializer(rows, many=True).data)
    body = ProviderKeyCreateSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    data = body.validated_data
    key = actions.add_provider_key(
        ctx.org, data["provider"], data["api_key"], ctx.actor, name=data["name"]
    )
    return Response(ProviderKeySerializer(key).data, status=status.HTTP_201_CREATED)


@extend_schema(methods=["GET"], responses=ProviderKeySerializer)
@extend_schema(
    methods=["DELETE"],
    responses={204: None, **errors(409)},
    description="Revoke the key; refused with 409 while a route's deployment uses it.",
)
@api_view(["GET", "DELETE"])
@permission_classes([role_may(Area.PROVIDER_KEYS)])
def provider_key_detail(request: Request, key_id: str) -> Response:
    ctx = _context(request)
    key = get_for_org(ProviderKey.objects.all(), ctx.org, id=key_id)
    if request.method == "GET":
        return Response(ProviderKeySerializer(key).data)
    actions.revoke_provider_key(key, ctx.actor)
    return Response(status=status.HTTP_204_NO_CONTENT)
