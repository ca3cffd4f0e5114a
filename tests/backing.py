"""Real services for tests that cross the wire: skip, or fail when required.

``require_redis_url()`` / ``require_postgres_url()`` return the service's URL
when a TCP connection to it succeeds. Otherwise the test SKIPS with the reason
visible in the ``-ra`` summary — or FAILS when ``ONEDOOR_REQUIRE_SERVICES=1``
(CI, where the services run), so a missing service never passes a build
silently. Addresses: ``ONEDOOR_TEST_REDIS_URL`` / ``ONEDOOR_TEST_POSTGRES_URL``.

Example::

    async def test_round_trip() -> None:
        url = require_redis_url()
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest

__all__ = ["POSTGRES_URL", "REDIS_URL", "require_postgres_url", "require_redis_url", "require_service"]

POSTGRES_URL = os.environ.get("ONEDOOR_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("ONEDOOR_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _problem(url: str, default_port: int) -> str | None:
    """None when a TCP connection succeeds, else why not."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or default_port
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return None
    except OSError as exc:
        return f"{host}:{port} unreachable ({exc.strerror or exc})"


def require_service(name: str, url: str, default_port: int) -> str:
    problem = _problem(url, default_port)
    if problem is None:
        return url
    message = f"{name} not available at {problem}"
    if os.environ.get("ONEDOOR_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message} and ONEDOOR_REQUIRE_SERVICES=1", pytrace=False)
    pytest.skip(f"{message} (set ONEDOOR_REQUIRE_SERVICES=1 to make this a failure)")


def require_redis_url() -> str:
    """e.g. ``redis://127.0.0.1:6379/15``; isolate with a unique key prefix."""
    return require_service("Redis", REDIS_URL, 6379)


def require_postgres_url() -> str:
    """e.g. ``postgresql://postgres@127.0.0.1:5432/test``; isolate with a unique schema."""
    return require_service("PostgreSQL", POSTGRES_URL, 5432)
