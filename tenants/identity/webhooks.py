"""Receive Clerk's webhooks: verify the Svix signature, then apply the event once."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from svix.webhooks import Webhook, WebhookVerificationError

from tenants.errors import json_error
from tenants.identity.events import apply_event
from tenants.identity.payloads import PayloadError, parse_event

log = logging.getLogger(__name__)
SVIX_HEADERS = ("svix-id", "svix-timestamp", "svix-signature")
MAX_SVIX_ID = 100  # WebhookDelivery.svix_id


def _verifier() -> Webhook | None:
    secret = settings.CLERK_WEBHOOK_SECRET
    if not secret:
        return None
    try:
        return Webhook(secret)
    except Exception:  # empty or not base64 after whsec_: a configuration error
        return None


@csrf_exempt
def clerk_webhook(request: HttpRequest) -> JsonResponse:
    """Verify and apply one Clerk event; a replayed svix-id is answered 200 and not applied."""
    if request.method != "POST":
        return json_error(405, "Use POST.", "method_not_allowed")
    verifier = _verifier()
    if verifier is None:
        log.error("CLERK_WEBHOOK_SECRET is missing or not a whsec_ secret; refusing webhooks")
        return json_error(503, "Clerk webhooks are not configured.", "webhooks_not_configured")
    body = request.body
    headers = {name: request.headers.get(name, "") for name in SVIX_HEADERS}
    try:
        verifier.verify(body, headers)
    # svix lets malformed headers or a non-UTF-8 body escape as ValueError.
    except (WebhookVerificationError, ValueError):
        return json_error(
            400, "The webhook signature is missing, invalid or too old.", "invalid_signature"
        )
    svix_id = headers["svix-id"]
    if len(svix_id) > MAX_SVIX_ID:
        return json_error(400, "The svix-id header is too long.", "invalid_request", "svix-id")
    try:
        event = parse_event(body)
        applied = apply_event(svix_id, event)
    except PayloadError as e:
        return json_error(400, e.message, "invalid_payload", e.param)
    except DatabaseError as e:
        # Svix retries a 5xx. Only the type is logged: a constraint message
        # would quote the email address that clashed.
        log.error("clerk webhook %s failed: %s", event["type"], type(e).__name__)
        return json_error(500, "The event could not be applied.", "internal_error")
    return JsonResponse({"received": True, "applied": applied})
