"""One sandbox per test module (real loopback sockets, ephemeral ports), and the gateway's
schema executed in-process over it (:class:`Gateway`, the ``gateway`` fixture)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from connectors.base import Connector
from connectors.registry import build_connectors
from connectors.settings import demo_settings
from onedoor.model import CST, Centre
from policy.principal import Principal
from sandbox.runner import Sandbox, run_sandbox
from schema import RequestContext, build_schema
from schema.loaders import Loaders

NOW = dt.datetime(2025, 6, 30, tzinfo=CST)
SCHEMA = build_schema()
SCOPES = frozenset({"mediation:read", "legal:read", "petitions:read", "litigation:read", "governance:read",
                    "stats:read"})


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def sb(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Sandbox]:
    state: Path = tmp_path_factory.mktemp("sandbox-state")
    async with run_sandbox(None, state, seed=7, matters=6000, now=NOW) as running:
        yield running


@dataclass
class Gateway:
    """The schema over the sandbox's connectors, asked by an analyst of ``regions``."""

    connectors: dict[Centre, Connector]
    now: dt.datetime  # the world's: the sandbox is frozen at it
    regions: tuple[str, ...] = ("6323",)  # the analyst's jurisdiction

    async def run(self, query: str, **variables: Any) -> Any:
        principal = Principal(sub="analyst", client_id="tests", scopes=SCOPES, regions=self.regions,
                              authenticated=True)
        ctx = RequestContext(principal=principal, connectors=self.connectors, loaders=Loaders(self.connectors),
                             request_id="t", now=self.now)
        result = await SCHEMA.execute(query, variable_values=variables, context_value=ctx)
        assert result.errors is None, result.errors
        return result.data


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def gateway(sb: Sandbox) -> AsyncIterator[Gateway]:
    built = dict(build_connectors(demo_settings(dict(sb.urls), sb.idp_url)))
    yield Gateway(built, sb.world.now)
    for connector in built.values():
        await connector.aclose()
