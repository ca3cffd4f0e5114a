"""The schema's reading of the projection: a centre still in its first load (no
watermark yet) is neither counted nor listed — it is reported missing instead."""

from __future__ import annotations

import datetime as dt

from onedoor.model import CST, Centre
from schema.projected import projected_cells, projected_overdue
from services.projection import ProjectionStore, Watermark

from .conftest import make_row

SPAN = (dt.datetime(2025, 1, 1, tzinfo=CST), dt.datetime(2025, 12, 31, 23, 59, 59, tzinfo=CST))
NOW = dt.datetime(2025, 6, 1, tzinfo=CST)


async def test_a_centre_not_yet_loaded_is_left_out(store: ProjectionStore) -> None:
    due = dt.datetime(2025, 4, 5, tzinfo=CST)
    await store.upsert([make_row("TJ1", due=due), make_row("XF1", centre=Centre.PETITIONS, due=due)])
    await store.set_watermark(Watermark(Centre.MEDIATION, "PUSH", NOW))
    await store.set_watermark(Watermark(Centre.PETITIONS, "EXPORT", None))  # loading
    projected = await projected_cells(store, "63", SPAN, NOW)
    assert {key.centre for key in projected.cells} == {Centre.MEDIATION}
    assert projected.records == {Centre.MEDIATION: 1}
    assert [o.record.native_id for o in await projected_overdue(store, "63", NOW)] == ["TJ1"]


def test_rows_index_the_valid_codes_of_organisation_parties_only() -> None:
    from onedoor.model import MatterRecord, MatterStatus, PartyKind, PartyRecord
    from schema.projected import row_mapper

    acme, shop = "91632301MA7ABCDE1E", "92632301MA7ABCDE1B"
    record = MatterRecord(
        centre=Centre.LITIGATION, native_id="（2025）青2301民初7号", reference="（2025）青2301民初7号",
        category="劳动争议", title="", status=MatterStatus.ACCEPTED, centre_status="ACCEPTED",
        region_code="632301001001", received_at=NOW, parties=(
            PartyRecord("PLAINTIFF", "张三", id_number="11010519491231002X"),
            PartyRecord("DEFENDANT", "恒泰公司", PartyKind.ORGANISATION, org_code=acme.lower()),
            PartyRecord("DEFENDANT", "恒泰公司", PartyKind.ORGANISATION, org_code=acme),
            # A sole trader recorded as its proprietor: a person, never a key.
            PartyRecord("DEFENDANT", "李四", PartyKind.PERSON, id_number="11010519491231002X", org_code=shop),
            PartyRecord("DEFENDANT", "某公司", PartyKind.ORGANISATION, org_code=acme[:-1] + "F"),  # bad check
        ))
    row = row_mapper(b"k" * 32)(record)
    assert row.orgs == (acme,)
    assert "11010519491231002X" not in repr(row) and "张三" not in repr(row)


async def test_an_organisations_keys_leave_out_centres_loading_or_not_asked(store: ProjectionStore) -> None:
    from schema.projected import projected_organisation

    acme = "91632301MA7ABCDE1E"
    await store.upsert([make_row("TJ1", orgs=(acme,)), make_row("XF1", centre=Centre.PETITIONS, orgs=(acme,)),
                        make_row("FY1", centre=Centre.LEGAL_SERVICES, orgs=(acme,), region="650201001001")])
    await store.set_watermark(Watermark(Centre.MEDIATION, "PUSH", NOW))
    await store.set_watermark(Watermark(Centre.LEGAL_SERVICES, "CURSOR", NOW))
    await store.set_watermark(Watermark(Centre.PETITIONS, "EXPORT", None))  # loading
    keys, loading = await projected_organisation(store, acme, ("6323", "632301", "6502"), set(Centre))
    assert keys == [(Centre.MEDIATION, "TJ1"), (Centre.LEGAL_SERVICES, "FY1")]
    assert loading == [Centre.PETITIONS, Centre.LITIGATION, Centre.GOVERNANCE]
    keys, loading = await projected_organisation(store, acme, ("6323",), {Centre.LEGAL_SERVICES, Centre.PETITIONS})
    assert (keys, loading) == ([], [Centre.PETITIONS])
