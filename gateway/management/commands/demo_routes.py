"""manage.py demo_routes: point an org's demo model aliases at the built-in mock provider.

`make run` uses it so a request works offline: `gpt-demo` speaks to the mock
as an OpenAI-compatible server, `claude-demo` as Anthropic (served by the
platform key SELIXES_PLATFORM_KEY_ANTHROPIC that make run sets).
"""

from __future__ import annotations

import uuid
from argparse import ArgumentParser
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand

from gateway.actions import replace_route
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
                provider="openai_compatible", model="gpt-mock", api_base=f"{base}/v1", price=price
            ),
            "claude-demo": DeploymentSpec(
                provider="anthropic", model="claude-mock", api_base=base, price=price
            ),
        }
        for alias, deployment in routes.items():
            replace_route(org, alias, RouteSpec("priority", [deployment]), actor)
        self.stdout.write(", ".join(routes))
