"""Shared fixtures for tests that need a real PostgreSQL or Redis on loopback.

Without the server such a test SKIPS with the reason shown in the ``-ra``
summary; with ``ONEDOOR_REQUIRE_SERVICES=1`` (CI, where the services run)
it FAILS instead, so a missing service can never pass a build silently.
Override the addresses with ``ONEDOOR_TEST_POSTGRES_URL`` / ``ONEDOOR_TEST_REDIS_URL``.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest

POSTGRES_URL = os.environ.get("ONEDOOR_TEST_POSTGRES_URL",
                              "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("ONEDOOR_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _reachable(url: str, default_port: int) -> str | None:
    """None when a TCP connection succeeds, else why not."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or default_port
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return None
    except OSError as exc:
        return f"{host}:{port} unreachable ({exc.strerror or exc})"


def require_service(name: str, url: str, default_port: int) -> str:
    """The URL if the service answers; otherwise skip, or fail when services are required."""
    problem = _reachable(url, default_port)
    if problem is None:
        return url
    message = f"{name} not available at {problem}"
    if os.environ.get("ONEDOOR_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message} and ONEDOOR_REQUIRE_SERVICES=1", pytrace=False)
    pytest.skip(f"{message} (set ONEDOOR_REQUIRE_SERVICES=1 to make this a failure)")


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """e.g. ``postgresql://postgres@127.0.0.1:5432/test``; isolate with a unique schema."""
    return require_service("PostgreSQL", POSTGRES_URL, 5432)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """e.g. ``redis://127.0.0.1:6379/15``; isolate with a unique key prefix."""
    return require_service("Redis", REDIS_URL, 6379)
