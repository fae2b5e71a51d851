"""manage.py bootstrap: an org, its admin, a project, a management token and an API key, as JSON.

CONTRACT.md section 3. Idempotent for the same email and org name: the user,
org and project are found again, and a fresh key and token are issued.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from tenants import actions
from tenants.audit import Actor
from tenants.errors import ActionError
from tenants.models import Membership, Organization, Project, Role, User

DEFAULT_PROJECT = "Default"


class Command(BaseCommand):
    help = "Create (or find) an org with an admin and a project; print a key and a token as JSON."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--org", required=True, help="organization name")
        parser.add_argument("--email", required=True, help="the admin's email")
        parser.add_argument("--password", required=True, help="the admin's password")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = self._bootstrap(
                options["org"].strip(), options["email"].strip().lower(), options["password"]
            )
        except ActionError as e:
            raise CommandError(e.message) from e
        self.stdout.write(json.dumps(result))

    @transaction.atomic
    def _bootstrap(self, org_name: str, email: str, password: str) -> dict[str, str]:
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            try:
                validate_password(password)
            except ValidationError as e:
                raise CommandError(" ".join(e.messages)) from e
            user = User.objects.create_user(email=email, password=password)
        elif not user.check_password(password):
            # Never silently reset someone's password from a script.
            raise CommandError(f"{email} exists and the password does not match.")
        actor = Actor(user=user, label=f"{email} (bootstrap)")
        slug = actions.slug_for(org_name)
        org = Organization.objects.filter(slug=slug).first()
        if org is None:
            org = actions.create_organization(user, org_name, actor)
        elif not Membership.objects.filter(org=org, user=user, role=Role.ADMIN).exists():
            raise CommandError(
                f"The organization '{org_name}' exists and {email} is not its admin."
            )
        project = Project.objects.filter(org=org, name__iexact=DEFAULT_PROJECT).first()
        if project is None:
            project = actions.create_project(org, DEFAULT_PROJECT, actor)
        token = actions.issue_management_token(org, "bootstrap", actor)
        key = actions.issue_api_key(project, "bootstrap", actor, user=user)
        return {
            "org_id": str(org.id),
            "project_id": str(project.id),
            "management_token": token.secret,
            "api_key": key.secret,
        }
