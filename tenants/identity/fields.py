"""Checks shared by the token and webhook readers: Clerk ids and email addresses."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

# Clerk ids fit the models' clerk_*_id columns; anything longer is not Clerk's.
MAX_CLERK_ID = 64


def clean_email(value: str | None) -> str | None:
    """Return the address lower-cased if it is a valid email, else None."""
    if value is None:
        return None
    value = value.strip().lower()
    try:
        validate_email(value)
    except ValidationError:
        return None
    return value
