"""One sandbox per test module (real loopback sockets, ephemeral ports)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from onedoor.model import CST
from sandbox.runner import Sandbox, run_sandbox

NOW = dt.datetime(2025, 6, 30, tzinfo=CST)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def sb(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Sandbox]:
    state: Path = tmp_path_factory.mktemp("sandbox-state")
    async with run_sandbox(None, state, seed=7, matters=6000, now=NOW) as running:
        yield running
