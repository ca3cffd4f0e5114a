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
