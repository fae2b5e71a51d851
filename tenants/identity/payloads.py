"""The parts of Clerk's webhook payloads we read, as TypedDicts, checked on the way in.

Each reader takes the event's `data` object and returns the TypedDict, or
raises PayloadError naming the first field that is missing or of the wrong
type, so a bad event is answered 400 before anything is written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TypedDict

from tenants.identity.fields import MAX_CLERK_ID, clean_email


class PayloadError(ValueError):
    """A webhook body we cannot apply; `param` names the offending field."""

    def __init__(self, param: str | None, message: str) -> None:
        super().__init__(message)
        self.param = param
        self.message = message


class ClerkEvent(TypedDict):
    type: str
    data: dict[str, object]


class EmailAddress(TypedDict):
    id: str
    email_address: str


class UserPayload(TypedDict):
    """`user.created` / `user.updated`: Clerk's User object."""

    id: str
    primary_email_address_id: str | None
    email_addresses: list[EmailAddress]
    first_name: str | None
    last_name: str | None


class DeletedPayload(TypedDict):
    """`*.deleted` for users and organizations: `{id, object, deleted: true}`."""

    id: str


class OrganizationPayload(TypedDict):
    """`organization.*`, and the organization embedded in a membership."""

    id: str
    name: str | None
    slug: str | None


class PublicUserData(TypedDict):
    user_id: str
    identifier: str | None
    first_name: str | None
    last_name: str | None


class MembershipPayload(TypedDict):
    """`organizationMembership.*`: Clerk's OrganizationMembership object."""

    role: str | None
    organization: OrganizationPayload
    public_user_data: PublicUserData


class InvitationPayload(TypedDict):
    """`organizationInvitation.*`: Clerk's OrganizationInvitation object (times in ms)."""

    id: str
    email_address: str
    role: str | None
    organization_id: str
    status: str | None
    expires_at: int | None
    created_at: int | None


def _object(value: object, path: str) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise PayloadError(path, f"'{path}' must be an object.")
    return value


def _optional_str(obj: Mapping[str, object], key: str, path: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise PayloadError(f"{path}.{key}", f"'{path}.{key}' must be a string.")
    return value


def _required_str(obj: Mapping[str, object], key: str, path: str) -> str:
    value = _optional_str(obj, key, path)
    if not value:
        raise PayloadError(f"{path}.{key}", f"'{path}.{key}' is required.")
    return value


def _clerk_id(obj: Mapping[str, object], key: str, path: str) -> str:
    value = _required_str(obj, key, path)
    if len(value) > MAX_CLERK_ID:
        raise PayloadError(f"{path}.{key}", f"'{path}.{key}' is not a Clerk id.")
    return value


def _optional_int(obj: Mapping[str, object], key: str, path: str) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise PayloadError(f"{path}.{key}", f"'{path}.{key}' must be an integer.")
    return value


def _required_email(obj: Mapping[str, object], key: str, path: str) -> str:
    email = clean_email(_required_str(obj, key, path))
    if email is None:
        raise PayloadError(f"{path}.{key}", f"'{path}.{key}' must be an email address.")
    return email


def parse_event(body: bytes) -> ClerkEvent:
    """Read the event envelope `{type, data}` from a verified body."""
    try:
        raw = json.loads(body)
    except (ValueError, RecursionError) as e:
        raise PayloadError(None, "The body is not valid JSON.") from e
    envelope = _object(raw, "body")
    event_type = _required_str(envelope, "type", "body")
    if len(event_type) > 100:
        raise PayloadError("type", "'type' is too long.")
    return {"type": event_type, "data": dict(_object(envelope.get("data"), "data"))}


def read_user(data: Mapping[str, object]) -> UserPayload:
    addresses = data.get("email_addresses") or []
    if not isinstance(addresses, list):
        raise PayloadError("data.email_addresses", "'data.email_addresses' must be a list.")
    emails: list[EmailAddress] = []
    for index, item in enumerate(addresses):
        path = f"data.email_addresses[{index}]"
        entry = _object(item, path)
        emails.append(
            {
                "id": _required_str(entry, "id", path),
                "email_address": _required_str(entry, "email_address", path),
            }
        )
    return {
        "id": _clerk_id(data, "id", "data"),
        "primary_email_address_id": _optional_str(data, "primary_email_address_id", "data"),
        "email_addresses": emails,
        "first_name": _optional_str(data, "first_name", "data"),
        "last_name": _optional_str(data, "last_name", "data"),
    }


def primary_email(user: UserPayload) -> str | None:
    """Return the user's primary email address, if Clerk names one that is valid."""
    for entry in user["email_addresses"]:
        if entry["id"] == user["primary_email_address_id"]:
            return clean_email(entry["email_address"])
    return None


def read_deleted(data: Mapping[str, object]) -> DeletedPayload:
    return {"id": _clerk_id(data, "id", "data")}


def read_organization(data: Mapping[str, object], path: str = "data") -> OrganizationPayload:
    return {
        "id": _clerk_id(data, "id", path),
        "name": _optional_str(data, "name", path),
        "slug": _optional_str(data, "slug", path),
    }


def read_membership(data: Mapping[str, object]) -> MembershipPayload:
    person = _object(data.get("public_user_data"), "data.public_user_data")
    path = "data.public_user_data"
    return {
        "role": _optional_str(data, "role", "data"),
        "organization": read_organization(
            _object(data.get("organization"), "data.organization"), "data.organization"
        ),
        "public_user_data": {
            "user_id": _clerk_id(person, "user_id", path),
            "identifier": _optional_str(person, "identifier", path),
            "first_name": _optional_str(person, "first_name", path),
            "last_name": _optional_str(person, "last_name", path),
        },
    }


def read_invitation(data: Mapping[str, object]) -> InvitationPayload:
    return {
        "id": _clerk_id(data, "id", "data"),
        "email_address": _required_email(data, "email_address", "data"),
        "role": _optional_str(data, "role", "data"),
        "organization_id": _clerk_id(data, "organization_id", "data"),
        "status": _optional_str(data, "status", "data"),
        "expires_at": _optional_int(data, "expires_at", "data"),
        "created_at": _optional_int(data, "created_at", "data"),
    }
