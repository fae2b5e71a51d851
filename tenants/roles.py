"""The role matrix: which role may read or change which area of an org.

The one definition both the dashboard (dashboard.decorators.org_view) and the
REST API (tenants.api.auth.RoleMatrixPermission) enforce, so the two cannot
drift. Derived from what the dashboard enforced before it read this table;
where the dashboard had no page yet (billing), the entry is
the least privilege a finance or security reviewer would expect.

    area            admin   member  billing
    overview        write   read    read
    members         write   read    -
    projects        write   read    -       (teams, projects, their rate limits)
    keys            write   own     -       (members create and revoke their own keys)
    routes          write   read    -       (routes, routing health)
    provider_keys   write   -       -
    budgets         write   read    -       (budgets, budget settings)
    pii_policy      write   read    -
    requests        write   read    -       (request log, usage, traces)
    tokens          write   -       -
    audit           write   -       -
    observability   write   -       -       (the toggle; traces are read as the request log is)
    billing         write   -       write
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from uuid import UUID

from tenants.models import Role


class Area(enum.StrEnum):
    OVERVIEW = "overview"
    MEMBERS = "members"
    PROJECTS = "projects"
    KEYS = "keys"
    ROUTES = "routes"
    PROVIDER_KEYS = "provider_keys"
    BUDGETS = "budgets"
    PII_POLICY = "pii_policy"
    REQUESTS = "requests"
    TOKENS = "tokens"
    AUDIT = "audit"
    OBSERVABILITY = "observability"
    BILLING = "billing"


class Access(enum.IntEnum):
    """How far a role reaches into an area; each level includes the ones below."""

    NONE = 0
    READ = 1
    OWN = 2  # read everything, change only what is one's own
    WRITE = 3


_ADMIN_ONLY: Mapping[str, Access] = {Role.ADMIN: Access.WRITE}
_STAFF_READ: Mapping[str, Access] = {Role.ADMIN: Access.WRITE, Role.MEMBER: Access.READ}

MATRIX: Mapping[Area, Mapping[str, Access]] = {
    Area.OVERVIEW: {Role.ADMIN: Access.WRITE, Role.MEMBER: Access.READ, Role.BILLING: Access.READ},
    Area.MEMBERS: _STAFF_READ,
    Area.PROJECTS: _STAFF_READ,
    Area.KEYS: {Role.ADMIN: Access.WRITE, Role.MEMBER: Access.OWN},
    Area.ROUTES: _STAFF_READ,
    Area.PROVIDER_KEYS: _ADMIN_ONLY,
    Area.BUDGETS: _STAFF_READ,
    Area.PII_POLICY: _STAFF_READ,
    Area.REQUESTS: _STAFF_READ,
    Area.TOKENS: _ADMIN_ONLY,
    Area.AUDIT: _ADMIN_ONLY,
    Area.OBSERVABILITY: _ADMIN_ONLY,
    Area.BILLING: {Role.ADMIN: Access.WRITE, Role.BILLING: Access.WRITE},
}


def access_of(role: str, area: Area) -> Access:
    """Return how far `role` reaches into `area`; a role the table does not name gets nothing."""
    return MATRIX[area].get(role, Access.NONE)


def may(role: str, area: Area, needed: Access) -> bool:
    return access_of(role, area) >= needed


def may_change_key(role: str, user_id: UUID | None, key_owner_id: UUID | None) -> bool:
    """Admins change any key; a role with Access.OWN only the keys owned by `user_id`."""
    if may(role, Area.KEYS, Access.WRITE):
        return True
    return may(role, Area.KEYS, Access.OWN) and user_id is not None and key_owner_id == user_id
