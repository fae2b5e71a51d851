"""Login and sign-up attempts are limited per client IP, in Redis counters that expire."""

from __future__ import annotations

import pytest
import redis
from django.test import Client, override_settings

from tenants.models import User
from tests.conftest import PASSWORD, Persona
from tests.dashboard.support import text

LIMIT = 3


@override_settings(AUTH_RATE_LIMIT_PER_HOUR=LIMIT)
def test_login_attempts_over_the_hourly_limit_get_429(
    alice: Persona, redis_client: redis.Redis
) -> None:
    browser = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(LIMIT):
        wrong = browser.post("/login/", {"email": "alice@acme.test", "password": "guess"})
        assert wrong.status_code == 400
    blocked = browser.post("/login/", {"email": "alice@acme.test", "password": PASSWORD})

    assert blocked.status_code == 429
    assert "Too many attempts" in text(blocked)
    assert 0 < int(blocked["Retry-After"]) <= 3600
    assert "_auth_user_id" not in browser.session
    ttl = redis_client.ttl("sel:ratelimit:login:203.0.113.7")
    assert isinstance(ttl, int)
    assert 0 < ttl <= 3600


@override_settings(AUTH_RATE_LIMIT_PER_HOUR=LIMIT)
def test_the_login_limit_counts_each_client_ip_apart(alice: Persona) -> None:
    for _ in range(LIMIT + 1):
        Client(REMOTE_ADDR="203.0.113.7").post("/login/", {"email": "x@y.test", "password": "z"})
    other = Client(REMOTE_ADDR="198.51.100.9").post(
        "/login/", {"email": "alice@acme.test", "password": PASSWORD}
    )
    assert other.status_code == 302


@override_settings(AUTH_RATE_LIMIT_PER_HOUR=LIMIT)
def test_looking_at_the_login_page_is_not_an_attempt(alice: Persona) -> None:
    browser = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(LIMIT + 2):
        assert browser.get("/login/").status_code == 200
    assert (
        browser.post("/login/", {"email": "alice@acme.test", "password": PASSWORD}).status_code
        == 302
    )


@override_settings(AUTH_RATE_LIMIT_PER_HOUR=LIMIT)
@pytest.mark.django_db
def test_sign_up_attempts_over_the_hourly_limit_get_429(redis_client: redis.Redis) -> None:
    browser = Client(REMOTE_ADDR="203.0.113.8")
    for i in range(LIMIT):
        browser.post(
            "/signup/", {"email": f"u{i}@x.test", "password": "short", "organization": "X"}
        )
    blocked = browser.post(
        "/signup/", {"email": "real@x.test", "password": PASSWORD, "organization": "Real"}
    )
    assert blocked.status_code == 429
    assert not User.objects.filter(email="real@x.test").exists()
    assert redis_client.ttl("sel:ratelimit:signup:203.0.113.8") > 0
