"""What the tenant tree tells the apps above it, which tenants do not import."""

from __future__ import annotations

from django.dispatch import Signal

# Sent by tenants.actions.revoke_api_key inside the revoking transaction, with
# key= (the locked ApiKey) and actor=, so what a receiver writes commits or
# rolls back with the revocation (gateway.budgets deletes the key's budgets).
api_key_revoked = Signal()
