from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from .idp import FakeClock, FakeIdP


@pytest.fixture(scope="module")
def _rsa_idp() -> FakeIdP:
    return FakeIdP()  # RSA key generation is slow: one per module


@pytest.fixture
def idp(_rsa_idp: FakeIdP) -> FakeIdP:
    fresh = FakeIdP(keys=[_rsa_idp.keys[0]])
    return fresh


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def client(idp: FakeIdP) -> AsyncIterator[httpx.AsyncClient]:
    async with idp.client() as c:
        yield c
