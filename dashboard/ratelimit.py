"""Limit sign-in and sign-up attempts per client IP, counted in Redis in one-hour windows."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Concatenate, ParamSpec

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from config.redis import get_redis
from tenants.client_address import client_ip

P = ParamSpec("P")
WINDOW_SECONDS = 3600


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int


def counter_key(scope: str, ip: str | None) -> str:
    return f"sel:ratelimit:{scope}:{ip or 'unknown'}"


def count_attempt(scope: str, ip: str | None) -> Verdict:
    """Count one attempt from `ip`; say whether it is still within the hourly limit."""
    key = counter_key(scope, ip)
    redis = get_redis()
    pipe = redis.pipeline(transaction=True)
    pipe.incr(key)
    pipe.ttl(key)
    count, ttl = pipe.execute()
    if ttl < 0:
        # The first attempt of a window, or a counter whose EXPIRE was lost to a
        # crash right after INCR: arm it now so no counter outlives its hour.
        redis.expire(key, WINDOW_SECONDS)
        ttl = WINDOW_SECONDS
    return Verdict(allowed=int(count) <= settings.AUTH_RATE_LIMIT_PER_HOUR, retry_after=int(ttl))


def too_many_attempts(request: HttpRequest, verdict: Verdict) -> HttpResponse:
    minutes = max(1, math.ceil(verdict.retry_after / 60))
    response = render(request, "dashboard/rate_limited.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(verdict.retry_after)
    return response


def limit_attempts(
    scope: str,
) -> Callable[
    [Callable[Concatenate[HttpRequest, P], HttpResponse]],
    Callable[Concatenate[HttpRequest, P], HttpResponse],
]:
    """Answer 429 to a POST once this IP has made too many `scope` attempts this hour."""

    def decorate(
        view: Callable[Concatenate[HttpRequest, P], HttpResponse],
    ) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
            if request.method == "POST":
                verdict = count_attempt(scope, client_ip(request))
                if not verdict.allowed:
                    return too_many_attempts(request, verdict)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
