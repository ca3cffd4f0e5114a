"""Shared fixtures for tests that need a real PostgreSQL or Redis on loopback.

The skip-or-fail rule lives in :mod:`tests.services`: without the server such a
test SKIPS with the reason shown in the ``-ra`` summary; with
``ONEDOOR_REQUIRE_SERVICES=1`` (CI) it FAILS instead.
"""

from __future__ import annotations

import pytest

from tests.backing import require_postgres_url, require_redis_url


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """e.g. ``postgresql://postgres@127.0.0.1:5432/test``; isolate with a unique schema."""
    return require_postgres_url()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """e.g. ``redis://127.0.0.1:6379/15``; isolate with a unique key prefix."""
    return require_redis_url()
