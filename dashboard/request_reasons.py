"""What a request log's error codes mean, in words, for the request pages.

The codes are the proxy's (docs/API.md section 3): the answer's `code`, and
each failed attempt's outcome. Only codes and counts are ever logged, never a
payload or a key, so this is all the page can say, and it is enough to act on.
"""

from __future__ import annotations

REASONS: dict[str, str] = {
    "no_provider_key": "No key to send: the deployment names none of your provider keys and"
    " the platform has no key for its provider. Add a provider key and choose it in the route.",
    "deployment_misconfigured": "The deployment cannot be called as saved (address, API version"
    " or key do not fit its provider). Edit the route.",
    "upstream_timeout": "The provider did not answer within the deployment's timeout.",
    "upstream_unreachable": "The provider's address could not be reached.",
    "upstream_forbidden": "The provider refused the key (401 or 403): check the provider key.",
    "malformed_response": "The provider answered something that is not its API's format.",
    "stream_broken": "The stream broke off, or reported more tokens than were reserved.",
    "all_deployments_failed": "Every deployment of the route failed; the attempts say why.",
    "all_deployments_rate_limited": "Every deployment is waiting out its provider's retry-after.",
    "provider_rejected": "The provider refused the request itself (not retried elsewhere).",
    "model_not_found": "No route for this model alias.",
    "invalid_api_key": "Missing, unknown or revoked Selixes API key.",
    "budget_exceeded": "A budget could not cover the request's worst case.",
    "rate_limit_exceeded": "A key's or project's requests or tokens per minute ran out.",
    "price_unknown": "No price for the deployment's model: give the route a price.",
    "pii_blocked": "The PII policy blocks an entity type found in the prompt.",
    "budget_store_unavailable": "Redis could not be reached to check budgets and limits.",
    "budget_counters_rebuilding": "The org's budget counters are being rebuilt from the ledger.",
    "internal_error": "An unexpected error in the proxy; quote the request id to support.",
}


def reason(code: str) -> str:
    """Say what an error code or attempt outcome means ("" for one without words here)."""
    if code.startswith("http_") and code[5:].isdigit():
        return f"The provider answered HTTP {code[5:]}."
    return REASONS.get(code, "")
