"""The proxy's exception tree; every error reaches the client in the OpenAI shape.

    class                        status  type                   code
    ProxyError                      500  api_error              internal_error
    ├── InvalidRequest              400  invalid_request_error  invalid_request
    │   ├── BodyTooLarge            413  invalid_request_error  body_too_large
    │   ├── HeadersTooLarge         431  invalid_request_error  headers_too_large
    │   ├── PriceUnknown            400  invalid_request_error  price_unknown
    │   ├── UnboundedRequest        400  invalid_request_error  unbudgetable_request
    │   ├── UnpricedField           400  invalid_request_error  unpriced_request_field
    │   └── UnsupportedByProvider   400  invalid_request_error  unsupported_by_provider
    ├── ProviderRejected            400  invalid_request_error  provider_rejected
    │                                    (or the provider's 404, 413, 422)
    ├── AuthenticationFailed        401  authentication_error   invalid_api_key
    ├── BudgetExceeded              402  budget_exceeded        budget_exceeded
    │                                    (x-should-retry: false)
    ├── NotFound                    404  not_found_error        not_found
    ├── RateLimited                 429  rate_limit_exceeded    rate_limit_exceeded
    │                                    (retry-after, or x-should-retry: false)
    ├── ServiceUnavailable          503  api_error              service_unavailable
    │   ├── PiiUnavailable          503  api_error              pii_unavailable
    │   └── DeploymentsRateLimited  503  upstream_error         all_deployments_rate_limited
    ├── MissingProviderKey          503  upstream_error         no_provider_key
    ├── MisconfiguredDeployment     502  upstream_error         deployment_misconfigured
    ├── PiiBlocked                  400  pii_blocked            pii_blocked
    ├── PiiScanFailed               500  api_error              pii_scan_failed
    ├── UpstreamFailure             502  upstream_error         upstream_unreachable
    │   ├── UpstreamTimeout         504  upstream_error         upstream_timeout
    │   └── ForbiddenUpstream       502  upstream_error         upstream_forbidden
    └── AllUpstreamsFailed          502  upstream_error         all_deployments_failed
                                         (or 503/504 when every attempt was one)

Exceptions that never reach a client as themselves: the code that catches
them turns them into one of the above (or into an error event mid-stream).

    AttemptFailed                one deployment failed before any byte reached the
                                 client: the failover loop tries the next one
    StreamProtocolError          a provider's answer we cannot parse
    ├── MalformedAnswer          a whole answer not in the provider's documented shape
    └── UpstreamStreamError      the provider reported an error inside its stream
    NerUnavailable               no NER model: PiiUnavailable or PiiScanFailed
    CryptoError                  a sealed key that cannot be opened (gateway.shared.crypto,
                                 shared with web): MissingProviderKey or a broken policy
    PricingError                 a price file is invalid: the process does not start

An error with `retry_after_s` set carries a `retry-after` header of whole
seconds, rounded up so that a client that obeys it is not early.

Raised anywhere inside the stage stack, caught once by the record stage,
which answers `{"error": {"message", "type", "code", "param"}}`. The tree
above is checked against the classes by tests/gateway/proxy/test_error_tree.py.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from gateway.shared.crypto import CryptoError

if TYPE_CHECKING:
    from gateway.proxy.providers.base import UpstreamError

__all__ = [
    "AllUpstreamsFailed",
    "AttemptFailed",
    "AuthenticationFailed",
    "BodyTooLarge",
    "BudgetExceeded",
    "CryptoError",
    "DeploymentsRateLimited",
    "ForbiddenUpstream",
    "HeadersTooLarge",
    "InvalidRequest",
    "MalformedAnswer",
    "MisconfiguredDeployment",
    "MissingProviderKey",
    "NerUnavailable",
    "NotFound",
    "PiiBlocked",
    "PiiScanFailed",
    "PiiUnavailable",
    "PriceUnknown",
    "PricingError",
    "ProviderRejected",
    "ProxyError",
    "RateLimited",
    "ServiceUnavailable",
    "StreamProtocolError",
    "UnboundedRequest",
    "UnpricedField",
    "UnsupportedByProvider",
    "UpstreamFailure",
    "UpstreamStreamError",
    "UpstreamTimeout",
]


class ProxyError(Exception):
    status = 500
    type = "api_error"
    code = "internal_error"
    retry_after_s: float | None = None

    def __init__(self, message: str, *, code: str | None = None, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.param = param

    def headers(self) -> list[tuple[bytes, bytes]]:
        if self.retry_after_s is None:
            return []
        return [(b"retry-after", str(max(1, math.ceil(self.retry_after_s))).encode())]

    def body(self) -> dict[str, dict[str, str | None]]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "code": self.code,
                "param": self.param,
            }
        }


class InvalidRequest(ProxyError):
    status = 400
    type = "invalid_request_error"
    code = "invalid_request"


class BodyTooLarge(InvalidRequest):
    status = 413
    code = "body_too_large"


class HeadersTooLarge(InvalidRequest):
    status = 431
    code = "headers_too_large"


class AuthenticationFailed(ProxyError):
    status = 401
    type = "authentication_error"
    code = "invalid_api_key"


class NotFound(ProxyError):
    status = 404
    type = "not_found_error"
    code = "not_found"


class ServiceUnavailable(ProxyError):
    status = 503
    type = "api_error"
    code = "service_unavailable"


class BudgetExceeded(ProxyError):
    status = 402
    type = "budget_exceeded"
    code = "budget_exceeded"

    def headers(self) -> list[tuple[bytes, bytes]]:
        # Waiting does not refill a budget; SDKs that honour this do not retry.
        return [(b"x-should-retry", b"false")]


class RateLimited(ProxyError):
    status = 429
    type = "rate_limit_exceeded"
    code = "rate_limit_exceeded"

    def __init__(self, message: str, retry_after_s: int | None, *, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after_s = retry_after_s

    def headers(self) -> list[tuple[bytes, bytes]]:
        if self.retry_after_s is None:  # it alone is over the limit: waiting never helps
            return [(b"x-should-retry", b"false")]
        return super().headers()


class PiiUnavailable(ServiceUnavailable):
    """The policy needs NER and the model is not loaded: nothing unscanned is forwarded."""

    code = "pii_unavailable"


class DeploymentsRateLimited(ServiceUnavailable):
    """Every deployment of the route is inside a provider's retry-after: none is tried."""

    type = "upstream_error"
    code = "all_deployments_rate_limited"

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class PiiBlocked(ProxyError):
    status = 400
    type = "pii_blocked"
    code = "pii_blocked"


class PiiScanFailed(ProxyError):
    """A detector failed; the request fails closed (CONTRACT.md section 5, issue 5)."""

    status = 500
    type = "api_error"
    code = "pii_scan_failed"


class PriceUnknown(InvalidRequest):
    """No price is known for any candidate: a request whose cost cannot be known is never sent."""

    code = "price_unknown"


class UnboundedRequest(InvalidRequest):
    """The provider may add content to the prompt while the request runs: no budget can cover it."""

    code = "unbudgetable_request"


class UnpricedField(InvalidRequest):
    """A field would make the provider bill at a rate no price here covers."""

    code = "unpriced_request_field"


class UnsupportedByProvider(InvalidRequest):
    """The request asks for something this provider cannot do (embeddings on Anthropic...)."""

    code = "unsupported_by_provider"


class ProviderRejected(ProxyError):
    """The provider refused the request itself (bad parameters): retrying elsewhere won't help."""

    status = 400
    type = "invalid_request_error"
    code = "provider_rejected"

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status if status in (400, 404, 413, 422) else 400


class MissingProviderKey(ProxyError):
    """No key to send for the deployment: none configured, revoked, or it cannot be opened."""

    status = 503
    type = "upstream_error"
    code = "no_provider_key"


class MisconfiguredDeployment(ProxyError):
    """The deployment lacks what its provider needs (an Azure api_base...)."""

    status = 502
    type = "upstream_error"
    code = "deployment_misconfigured"


class UpstreamFailure(ProxyError):
    """An attempt that failed before the provider answered; the next deployment may serve."""

    status = 502
    type = "upstream_error"
    code = "upstream_unreachable"


class UpstreamTimeout(UpstreamFailure):
    status = 504
    code = "upstream_timeout"


class ForbiddenUpstream(UpstreamFailure):
    status = 502
    code = "upstream_forbidden"


class AllUpstreamsFailed(ProxyError):
    """Every candidate deployment failed (or none was left to try); the chain is in the message."""

    status = 502
    type = "upstream_error"
    code = "all_deployments_failed"

    def __init__(self, message: str, status: int, retry_after_s: float | None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after_s = retry_after_s


class AttemptFailed(Exception):
    """One deployment failed before any byte reached the client; the next one may serve."""

    def __init__(self, outcome: str, status: int, retry_after_s: float | None = None) -> None:
        super().__init__(outcome)
        self.outcome = outcome
        self.status = status
        self.retry_after_s = retry_after_s


class StreamProtocolError(Exception):
    """The provider sent something we cannot parse (malformed chunk, cut mid-event)."""


class MalformedAnswer(StreamProtocolError):
    """A non-streamed answer that is not the provider's documented shape."""


class UpstreamStreamError(StreamProtocolError):
    """The provider reported an error inside a stream it had already started."""

    def __init__(self, error: UpstreamError) -> None:
        super().__init__(error.message)
        self.error = error


class NerUnavailable(Exception):
    """The model is not installed or failed its integrity check; callers fail closed."""


class PricingError(ValueError):
    """A pricing file is missing, unreadable or invalid; the message says where and why."""
