"""A tenant's api_base may not reach our own network unless SELIXES_PRIVATE_UPSTREAMS=allow."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from gateway.models import Route
from gateway.shared.ssrf import check_upstream, is_forbidden_address
from tests.gateway.conftest import a_deployment, a_route, error_of, put_route

INSIDE = [
    "http://127.0.0.1:6379",
    "http://127.1",
    "http://2130706433/",  # 127.0.0.1 as one decimal number
    "http://0x7f000001/",
    "http://0177.0.0.1/",  # octal
    "http://0.0.0.0:8080",
    "http://10.0.0.5/v1",
    "http://172.16.3.4",
    "http://192.168.1.10:11434",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.100.100.200/",  # shared address space; a cloud's metadata service lives there
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    "http://[::1]:8000/",
    "http://[::]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:a9fe:a9fe]/",  # 169.254.169.254, IPv4-mapped and in hex
    "http://[fe80::1]/",
    "http://[fd00:ec2::254]/",
    "http://[2002:7f00:1::]/",  # 6to4 around 127.0.0.1
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 around 169.254.169.254
    "http://localhost:9090/v1",
    "http://LOCALHOST./",
    "http://api.localhost/",
    "http://metadata.google.internal/computeMetadata/v1/",
]
MALFORMED = [
    "http://user:pass@8.8.8.8/",
    "http://token@8.8.8.8/",
    "ftp://8.8.8.8/",
    "file:///etc/passwd",
    "8.8.8.8",
    "https://8.8.8.8/v1?key=1",
    "https://8.8.8.8/v1#frag",
    "https://8.8.8.8:99999/",
    "https://8.8.8.8/ v1",
    "https://exa mple.com/",
    "https://" + "a" * 2048 + ".com/",
    "http:///nohost",
]


@pytest.mark.parametrize("url", INSIDE)
def test_addresses_inside_our_network_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="not allowed"):
        check_upstream(url, allow_private=False, resolve=_no_dns)


@pytest.mark.parametrize("url", INSIDE)
def test_addresses_inside_are_accepted_when_private_upstreams_are_allowed(url: str) -> None:
    check_upstream(url, allow_private=True, resolve=_no_dns)


@pytest.mark.parametrize("url", MALFORMED)
@pytest.mark.parametrize("allow_private", [False, True])
def test_malformed_urls_and_urls_with_credentials_are_always_refused(
    url: str, allow_private: bool
) -> None:
    with pytest.raises(ValueError):
        check_upstream(url, allow_private=allow_private, resolve=_no_dns)


def _no_dns(host: str) -> list[str]:
    raise AssertionError(f"{host} should have been decided without DNS")


def _dns(answers: dict[str, list[str]]) -> Any:
    """A stand-in for DNS, the one thing across the network here."""

    def resolve(host: str) -> list[str]:
        if host not in answers:
            raise OSError("no such host")
        return answers[host]

    return resolve


def test_a_name_that_resolves_inside_is_refused() -> None:
    dns = _dns({"llm.corp.example": ["8.8.8.8", "10.1.2.3"]})
    with pytest.raises(ValueError, match=r"resolves to 10\.1\.2\.3"):
        check_upstream("https://llm.corp.example/v1", allow_private=False, resolve=dns)


def test_a_name_that_resolves_to_public_addresses_is_accepted() -> None:
    dns = _dns({"api.mistral.example": ["8.8.4.4", "2606:4700:4700::1111"]})
    check_upstream("https://api.mistral.example/v1", allow_private=False, resolve=dns)


def test_a_name_that_does_not_resolve_is_accepted_and_checked_again_at_connect() -> None:
    check_upstream("https://not-yet.example/v1", allow_private=False, resolve=_dns({}))


@pytest.mark.parametrize(
    ("address", "forbidden"),
    [
        ("8.8.8.8", False),
        ("2606:4700:4700::1111", False),
        ("127.0.0.53", True),
        ("::1", True),
        ("::ffff:10.0.0.1", True),
        ("169.254.169.254", True),
        ("192.0.2.1", True),  # documentation range: never a real upstream
    ],
)
def test_the_proxy_can_check_the_address_it_connects_to(address: str, forbidden: bool) -> None:
    assert is_forbidden_address(address) is forbidden


@pytest.mark.parametrize(
    "api_base",
    [
        "http://127.0.0.1:8000/v1",
        "http://localhost:11434",
        "http://169.254.169.254/",
        "http://[::1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://10.0.0.8/v1",
    ],
)
def test_the_api_refuses_an_inside_api_base_by_default(alice_api: APIClient, api_base: str) -> None:
    response = put_route(alice_api, "local", a_route(a_deployment(api_base=api_base)))
    assert response.status_code == 400
    assert error_of(response)["param"] == "deployments.0.api_base"
    assert not Route.objects.exists()


@pytest.mark.parametrize(
    "api_base", ["http://127.0.0.1:8000/v1", "http://localhost:11434", "http://[::1]/"]
)
def test_the_api_accepts_an_inside_api_base_when_allowed(
    alice_api: APIClient, settings: Any, api_base: str
) -> None:
    settings.SELIXES_PRIVATE_UPSTREAMS = "allow"
    body = a_route(a_deployment(provider="vllm", model="llama", api_base=api_base))
    assert put_route(alice_api, "local", body).status_code == 201


def test_the_api_refuses_credentials_in_an_api_base_even_when_allowed(
    alice_api: APIClient, settings: Any
) -> None:
    settings.SELIXES_PRIVATE_UPSTREAMS = "allow"
    body = a_route(a_deployment(api_base="http://user:pass@127.0.0.1:8000/v1"))
    response = put_route(alice_api, "local", body)
    assert response.status_code == 400
    assert "user:pass" not in response.content.decode()
    assert "password" in error_of(response)["message"]
