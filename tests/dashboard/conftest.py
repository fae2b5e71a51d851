"""Fixtures for the dashboard tests: objects of Acme that other people must not reach."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tenants import actions
from tenants.models import Invitation, Membership, Role, Team
from tests.conftest import Persona

# The mock provider process, for the routing health page's pings.
from tests.gateway.mock_provider.conftest import mock_url  # noqa: F401  # a fixture, used by name


@dataclass
class AcmeObjects:
    """One of each Acme object a URL can name."""

    team_id: str
    project_id: str
    alice_key_id: str
    bob_key_id: str
    bob_membership_id: str
    alice_membership_id: str
    invitation_id: str
    alice_user_id: str
    token_id: str


@pytest.fixture
def acme(alice: Persona, bob: Persona) -> AcmeObjects:
    team: Team = actions.create_team(alice.org, "Platform", alice.actor)
    alice_key = actions.issue_api_key(alice.project, "alice key", alice.actor, user=alice.user)
    bob_key = actions.issue_api_key(alice.project, "bob key", bob.actor, user=bob.user)
    token = actions.issue_management_token(alice.org, "terraform", alice.actor)
    invitation, _ = actions.invite_member(alice.org, "dana@acme.test", Role.MEMBER, alice.actor)
    assert isinstance(invitation, Invitation)
    return AcmeObjects(
        team_id=str(team.id),
        project_id=str(alice.project.id),
        alice_key_id=alice_key.id,
        bob_key_id=bob_key.id,
        bob_membership_id=str(Membership.objects.get(org=alice.org, user=bob.user).id),
        alice_membership_id=str(Membership.objects.get(org=alice.org, user=alice.user).id),
        invitation_id=str(invitation.id),
        alice_user_id=str(alice.user.id),
        token_id=token.id,
    )
