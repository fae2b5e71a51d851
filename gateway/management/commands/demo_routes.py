"""manage.py demo_routes: point an org's demo model aliases at the built-in mock provider.

`make run` uses it so a request works offline: `gpt-demo` speaks to the mock
as an OpenAI-compatible server, `claude-demo` as Anthropic. Both carry a
provider key of the org's own (BYOK, named "mock provider"), as any route to
an address of the tenant's choosing must: the platform's keys only ever go to
the providers' own endpoints (gateway.shared.managed_access).
"""

from __future__ import annotations

import uuid
from argparse import ArgumentParser
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand

from gateway.actions import add_provider_key, replace_route
from gateway.models import ProviderKey
from gateway.specs import DeploymentSpec, PriceSpec, RouteSpec
from tenants.audit import Actor
from tenants.models import Organization


class Command(BaseCommand):
    help = "Create or refresh the demo routes of an org, served by the mock provider."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--org-id", required=True)
        parser.add_argument("--mock-url", required=True, help="e.g. http://127.0.0.1:9090")

    def handle(self, *args: Any, **options: Any) -> None:
        org = Organization.objects.get(id=uuid.UUID(options["org_id"]))
        base = options["mock_url"].rstrip("/")
        actor = Actor.system("make run")
        # The mock is in no price list; priced like small hosted models, so costs show.
        price = PriceSpec(Decimal("0.150000"), Decimal("0.600000"))
        routes = {
            "gpt-demo": DeploymentSpec(
                provider="openai_compatible",
                model="gpt-mock",
                api_base=f"{base}/v1",
                provider_key_id=_mock_key(org, "openai_compatible", actor),
                price=price,
            ),
            "claude-demo": DeploymentSpec(
                provider="anthropic",
                model="claude-mock",
                api_base=base,
                provider_key_id=_mock_key(org, "anthropic", actor),
                price=price,
            ),
        }
        for alias, deployment in routes.items():
            replace_route(org, alias, RouteSpec("priority", [deployment]), actor)
        self.stdout.write(", ".join(routes))


MOCK_KEY_NAME = "mock provider"


def _mock_key(org: Organization, provider: str, actor: Actor) -> uuid.UUID:
    """The org's key for the mock (which takes any key), made once and reused on every start."""
    existing = ProviderKey.objects.filter(
        org=org, provider=provider, name=MOCK_KEY_NAME, revoked_at=None
    ).first()
    if existing is not None:
        return existing.id
    return add_provider_key(org, provider, "mock-provider-key", actor, name=MOCK_KEY_NAME).id
