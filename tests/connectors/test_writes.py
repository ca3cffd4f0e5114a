"""The write side of every connector against the sandbox centres (real sockets):
a created record reads back by id and by party; centres with an idempotency
mechanism return the first record for a repeat; the others are found again by
the reference they echo."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from connectors.base import MatterDraft, WritableConnector
from connectors.registry import build_connectors
from connectors.settings import demo_settings
from onedoor.identifiers import make_resident_id
from onedoor.model import Centre, PartyRecord
from sandbox.people import village_table
from sandbox.runner import Sandbox, run_sandbox

pytestmark = pytest.mark.asyncio(loop_scope="module")
APPLICANT = make_resident_id("632301", dt.date(1980, 5, 17), 201)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def sb(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Sandbox]:
    state: Path = tmp_path_factory.mktemp("writes")
    async with run_sandbox(None, state, seed=3, matters=2000) as running:
        yield running


def draft(reference: str, kind: str | None = None) -> MatterDraft:
    region = next(c for c in village_table()[0] if c.startswith("632301"))
    return MatterDraft(
        reference=reference, category="劳动争议", title="拖欠工资", description="三个月工资未付",
        region_code=region, kind=kind,
        applicant=PartyRecord(role="APPLICANT", name="张三", id_number=APPLICANT, phone="13800000000"),
        others=(PartyRecord(role="RESPONDENT", name="李四"),),
    )


@pytest.mark.parametrize("centre", list(Centre))
async def test_create_reads_back_and_is_settled_once(sb: Sandbox, centre: Centre) -> None:
    connectors = build_connectors(demo_settings(sb.urls, sb.idp_url))
    try:
        connector = connectors[centre]
        assert isinstance(connector, WritableConnector)
        wanted = draft(f"ref-{centre.value}")
        created = await connector.create(wanted)
        assert created.centre is centre and created.parties[0].id_number == APPLICANT
        assert (await connector.get_many([created.native_id]))[created.native_id] == created
        mine = (await connector.find_by_citizens([APPLICANT]))[APPLICANT]
        assert created.native_id in {r.native_id for r in mine}
        assert sb.writes is not None
        if connector.idempotent_writes:
            again = await connector.create(wanted)
            assert again.native_id == created.native_id
        else:
            found = await connector.find_created(wanted)
            assert found is not None and found.native_id == created.native_id
            assert await connector.find_created(draft("never-sent")) is None
        assert sb.writes.created[centre] == 1
    finally:
        for c in connectors.values():
            await c.aclose()
