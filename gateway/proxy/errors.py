"""The proxy's exception tree; every error reaches the client in the OpenAI shape.

    ProxyError                    status  type
    ├── InvalidRequest              400   invalid_request_error
    │   ├── BodyTooLarge            413   invalid_request_error
    │   └── HeadersTooLarge         431   invalid_request_error
    ├── AuthenticationFailed        401   authentication_error
    ├── BudgetExceeded              402   budget_exceeded       (x-should-retry: false)
    ├── NotFound                    404   not_found_error
    ├── RateLimited                 429   rate_limit_exceeded   (retry-after)
    ├── ServiceUnavailable          503   api_error
    │   ├── PiiUnavailable          503   api_error   (code pii_unavailable: no NER model)
    │   └── DeploymentsRateLimited  503   upstream_error   (retry-after: every deployment 429'd)
    ├── PiiBlocked                  400   pii_blocked (names the entity type, never the value)
    ├── PiiScanFailed               500   api_error   (code pii_scan_failed: a detector failed)
    └── UpstreamFailure             502   upstream_error   (upstream_client.py)
        ├── UpstreamTimeout         504
        ├── ForbiddenUpstream       502
        └── AllUpstreamsFailed   502/503/504 (the chain tried, in the message)

An error with `retry_after_s` set carries a `retry-after` header of whole
seconds, rounded up so that a client that obeys it is not early.

Raised anywhere inside the stage stack, caught once by the record stage,
which answers `{"error": {"message", "type", "code", "param"}}`.
"""

from __future__ import annotations

import math


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
