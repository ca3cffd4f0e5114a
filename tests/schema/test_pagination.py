"""The k-way merge pages a multi-centre list exactly like sorting everything."""

from __future__ import annotations

import datetime as dt
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.base import ListQuery, MatterPage
from connectors.errors import CentreUnavailable
from onedoor.model import CST, Centre, MatterRecord
from schema.pagination import is_after, merge_centres, position_of, sort_records

from .fakes import FakeCentre, record

_BASE = dt.datetime(2024, 1, 1, tzinfo=CST)


def _world(draw_times: list[tuple[int, int]]) -> dict[Centre, FakeCentre]:
    centres = {c: FakeCentre(c, []) for c in Centre}
    for n, (centre_index, minute) in enumerate(draw_times):
        centre = list(Centre)[centre_index]
        centres[centre].records.append(
            record(centre, f"N{n:04d}", at=_BASE + dt.timedelta(minutes=minute))
        )
    return centres


async def _walk(centres: dict[Centre, FakeCentre], first: int) -> list[MatterRecord]:
    async def fetch(centre: Centre, query: ListQuery) -> MatterPage:
        return await centres[centre].list_matters(query)

    seen: list[MatterRecord] = []
    after = None
    for _ in range(1000):
        page = await merge_centres(fetch, list(Centre), ListQuery(), first, after)
        seen.extend(page.items)
        if not page.has_next:
            return seen
        after = position_of(page.items[-1])
    raise AssertionError("pagination did not terminate")


@settings(max_examples=60, deadline=None)
@given(
    times=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 30)), max_size=60),
    first=st.integers(1, 7),
)
async def test_walking_pages_equals_sorting_everything(times: list[tuple[int, int]], first: int) -> None:
    # Few distinct minutes → many ties in received_at, the hard case for cursors.
    centres = _world(times)
    walked = await _walk(centres, first)
    everything = sort_records(r for c in centres.values() for r in c.records)
    assert [r.key for r in walked] == [r.key for r in everything]


async def test_each_centre_is_asked_for_one_page_only() -> None:
    rng = random.Random(7)
    centres = _world([(rng.randrange(5), rng.randrange(10_000)) for _ in range(500)])

    async def fetch(centre: Centre, query: ListQuery) -> MatterPage:
        assert query.limit == 10  # one page's worth, never the whole list
        return await centres[centre].list_matters(query)

    page = await merge_centres(fetch, list(Centre), ListQuery(), 10, None)
    assert len(page.items) == 10 and page.has_next
    assert page.totals is not None and sum(page.totals.values()) == 500
    assert all(c.calls["list_matters"] == 1 for c in centres.values())


async def test_a_failing_centre_is_reported_and_the_rest_merge() -> None:
    centres = _world([(i % 5, i) for i in range(20)])
    centres[Centre.PETITIONS].fail = CentreUnavailable(Centre.PETITIONS)

    async def fetch(centre: Centre, query: ListQuery) -> MatterPage:
        return await centres[centre].list_matters(query)

    page = await merge_centres(fetch, list(Centre), ListQuery(), 50, None)
    assert set(page.errors) == {Centre.PETITIONS}
    assert {r.centre for r in page.items} == set(Centre) - {Centre.PETITIONS}
    assert len(page.items) == 16


def test_is_after_orders_ties_by_centre_then_native_id_descending() -> None:
    t = _BASE
    a = record(Centre.MEDIATION, "B", at=t)
    b = record(Centre.MEDIATION, "A", at=t)
    c = record(Centre.LEGAL_SERVICES, "Z", at=t)
    assert sort_records([c, b, a]) == [a, b, c]
    assert is_after(b, position_of(a)) and is_after(c, position_of(b))
    assert not is_after(a, position_of(a))
