"""Client addresses: X-Forwarded-For is believed only from trusted proxies, and garbage never lands.

The address a request came from is kept in the audit log (an `inet` column)
and keys the sign-in and sign-up limits. A client that can name its own
address escapes the limit and forges the log; one that can send garbage
must get an answer, not a 500.
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys

import pytest
import redis
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings
from rest_framework.test import APIClient

from config.env import envnetworks
from tenants.models import AuditEvent, Organization
from tests.conftest import PASSWORD, Persona
from tests.dashboard.support import text

pytestmark = pytest.mark.django_db

# The load balancer's network, as an operator would set SELIXES_TRUSTED_PROXIES.
BEHIND_THE_BALANCER = override_settings(
    TRUSTED_PROXIES=(ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8"))
)
BALANCER = "10.1.2.3"
LIMIT = 3
# What garbage below may leave: the balancer, or a trusted hop it vouched for.
VOUCHED_FOR = {BALANCER, "10.9.9.9", "10.0.0.1", "10.1.1.1"}
GARBAGE = [
    "not-an-ip",
    "1.2.3.4, <script>",
    "<script>, 10.9.9.9",
    "203.0.113.9\x00",
    "\x00",
    "fe80::1%eth0",
    "1" * 10_000,
    ", ".join(["10.0.0.1"] * 5_000),
    "999.1.1.1, ::ffff:10.1.1.1",
]


def _sign_up(browser: Client, org: str) -> str:
    """Sign up a new org; return the address its audit log kept."""
    response = browser.post(
        "/signup/", {"email": f"owner@{org}.test", "password": PASSWORD, "organization": org}
    )
    assert response.status_code == 302, text(response)
    created = Organization.objects.get(slug=org)
    addresses = set(AuditEvent.objects.filter(org=created).values_list("ip", flat=True))
    assert len(addresses) == 1
    return str(addresses.pop())


@BEHIND_THE_BALANCER
def test_it_ignores_a_forwarded_for_sent_by_a_peer_that_is_not_a_trusted_proxy() -> None:
    spoofing = Client(REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert _sign_up(spoofing, "spoofer") == "203.0.113.7"


def test_it_ignores_forwarded_for_when_no_proxy_is_trusted() -> None:
    spoofing = Client(REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert _sign_up(spoofing, "lonely") == "10.1.2.3"


@BEHIND_THE_BALANCER
def test_behind_a_trusted_proxy_the_client_is_the_rightmost_hop_that_is_not_one() -> None:
    # The client wrote "1.1.1.1" itself; the balancer appended what it saw
    # (203.0.113.7), and an inner proxy of ours (10.4.4.4) appended its own peer.
    browser = Client(REMOTE_ADDR=BALANCER, HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.7, 10.4.4.4")
    assert _sign_up(browser, "forwarded") == "203.0.113.7"


@BEHIND_THE_BALANCER
def test_behind_a_trusted_ipv6_proxy_an_ipv4_mapped_client_is_kept_as_ipv4() -> None:
    browser = Client(REMOTE_ADDR="fd00::5", HTTP_X_FORWARDED_FOR="::ffff:203.0.113.7")
    assert _sign_up(browser, "mapped") == "203.0.113.7"


@BEHIND_THE_BALANCER
@override_settings(AUTH_RATE_LIMIT_PER_HOUR=LIMIT)
def test_a_client_cannot_escape_the_login_limit_by_naming_a_new_address_each_time(
    alice: Persona,
) -> None:
    for i in range(LIMIT):
        Client(REMOTE_ADDR=BALANCER, HTTP_X_FORWARDED_FOR=f"192.0.2.{i}, 203.0.113.7").post(
            "/login/", {"email": "alice@acme.test", "password": "guess"}
        )
    blocked = Client(REMOTE_ADDR=BALANCER, HTTP_X_FORWARDED_FOR="192.0.2.99, 203.0.113.7").post(
        "/login/", {"email": "alice@acme.test", "password": PASSWORD}
    )
    assert blocked.status_code == 429
    # Another client behind the same balancer is not locked out with it.
    other = Client(REMOTE_ADDR=BALANCER, HTTP_X_FORWARDED_FOR="198.51.100.9").post(
        "/login/", {"email": "alice@acme.test", "password": PASSWORD}
    )
    assert other.status_code == 302


@BEHIND_THE_BALANCER
@pytest.mark.parametrize("forwarded", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_forwarded_for_from_a_trusted_proxy_signs_up_with_a_valid_address_or_none(
    forwarded: str,
) -> None:
    browser = Client(REMOTE_ADDR=BALANCER, HTTP_X_FORWARDED_FOR=forwarded)
    kept = _sign_up(browser, "garbage")
    assert kept in VOUCHED_FOR


@BEHIND_THE_BALANCER
@override_settings(AUTH_RATE_LIMIT_PER_HOUR=LIMIT)
@pytest.mark.parametrize("forwarded", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_forwarded_for_never_becomes_a_rate_limit_key(
    alice: Persona, redis_client: redis.Redis, forwarded: str
) -> None:
    response = Client(REMOTE_ADDR=BALANCER, HTTP_X_FORWARDED_FOR=forwarded).post(
        "/login/", {"email": "alice@acme.test", "password": "guess"}
    )
    assert response.status_code == 400
    keys = {key.decode() for key in redis_client.scan_iter("sel:ratelimit:login:*")}
    assert keys <= {f"sel:ratelimit:login:{ip}" for ip in VOUCHED_FOR}
    assert len(keys) == 1


@BEHIND_THE_BALANCER
@pytest.mark.parametrize("forwarded", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_forwarded_for_on_an_api_call_is_audited_with_a_valid_address(
    alice_api: APIClient, alice: Persona, forwarded: str
) -> None:
    created = alice_api.post(
        "/api/v1/projects/",
        {"name": "Audited"},
        format="json",
        REMOTE_ADDR=BALANCER,
        HTTP_X_FORWARDED_FOR=forwarded,
    )
    assert created.status_code == 201, created.content
    event = AuditEvent.objects.filter(org=alice.org, action="project.created").latest("created_at")
    assert str(event.ip) in VOUCHED_FOR


def test_trusted_proxies_are_read_as_ips_and_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SELIXES_TRUSTED_PROXIES", " 10.0.0.0/8, 192.0.2.7 ,fd00::/8,10.1.2.3/16")
    assert [str(net) for net in envnetworks("SELIXES_TRUSTED_PROXIES")] == [
        "10.0.0.0/8",
        "192.0.2.7/32",
        "fd00::/8",
        "10.1.0.0/16",
    ]


@pytest.mark.parametrize("entry", ["lb.internal", "10.0.0.0/33", "*"])
def test_it_refuses_to_start_with_a_trusted_proxy_that_is_not_an_address(
    monkeypatch: pytest.MonkeyPatch, entry: str
) -> None:
    monkeypatch.setenv("SELIXES_TRUSTED_PROXIES", f"10.0.0.0/8,{entry}")
    with pytest.raises(ImproperlyConfigured, match="SELIXES_TRUSTED_PROXIES"):
        envnetworks("SELIXES_TRUSTED_PROXIES")


def test_it_refuses_to_start_with_the_old_trust_everyone_switch() -> None:
    started = subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        env={**os.environ, "SELIXES_TRUST_FORWARDED_FOR": "true"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert started.returncode != 0
    assert "SELIXES_TRUSTED_PROXIES" in started.stderr
