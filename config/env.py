"""Read settings from the environment, as healthchecks does: tiny typed helpers."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def envsecret(name: str, default: str | None = None) -> str | None:
    """Return NAME, or the contents of the file named by NAME_FILE (Docker/K8s secrets)."""
    value = os.environ.get(name)
    if value:
        return value
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return default


def envstr(name: str, default: str) -> str:
    return os.environ.get(name) or default


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be a boolean, got {value!r}")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def envfloat(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in (os.environ.get(name) or default).split(",") if item.strip()]


def envnetworks(name: str) -> tuple[IPNetwork, ...]:
    """Parse a comma-separated list of IPs and CIDR networks; a bad entry stops the start."""
    networks: list[IPNetwork] = []
    for entry in envlist(name):
        try:
            # strict=False: "10.0.0.5/8" means the /8 it sits in, as operators write it.
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as e:
            raise ImproperlyConfigured(f"{name}: {entry!r} is not an IP address or network") from e
    return tuple(networks)


def required(name: str) -> str:
    value = envsecret(name)
    if not value:
        raise RuntimeError(f"{name} must be set (see infra/.env.example)")
    return value


def kombu_redis_url(redis_url: str) -> str:
    """Translate a redis-py Unix socket URL (unix://path) into kombu's spelling."""
    if redis_url.startswith("unix://"):
        return "redis+socket://" + redis_url.removeprefix("unix://")
    return redis_url
