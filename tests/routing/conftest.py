"""Fixtures of the routing tests: the mock provider process (for health pings)."""

from tests.mock_provider.conftest import mock_url  # noqa: F401  # a fixture, used by name
