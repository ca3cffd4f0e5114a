"""Shared connector helpers: paging strategies."""

from __future__ import annotations

import asyncio

from connectors._common import collect_offset_pages


async def test_offset_pages_for_a_screenful_are_requested_together() -> None:
    in_flight = 0
    peak = 0
    calls: list[tuple[int, int]] = []

    async def fetch(start: int, size: int) -> tuple[list[object], int, int | None]:
        nonlocal in_flight, peak
        calls.append((start, size))
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0)
        in_flight -= 1
        total = 130
        return [object()] * max(0, min(size, total - start)), total, None

    items, total = await collect_offset_pages(fetch, 100, 50)  # type: ignore[arg-type]
    assert (len(items), total) == (100, 130)
    assert sorted(calls) == [(0, 50), (50, 50)] and peak == 2  # one round trip
    calls.clear()
    items, total = await collect_offset_pages(fetch, 2000, 50)  # type: ignore[arg-type]
    # A cap, not a screenful: page one learns the total, then only real pages.
    assert len(items) == 130 and sorted(calls) == [(0, 50), (50, 50), (100, 30)]


def test_a_batch_must_account_for_every_requested_id() -> None:
    import pytest

    from connectors.errors import CentreBadResponse
    from connectors.mediation import parse_batch

    with pytest.raises(CentreBadResponse):
        parse_batch({"items": [], "missing": ["A"]}, ["A", "B"])
    assert parse_batch({"items": [], "missing": ["A", "B"]}, ["A", "B"]) == []


def test_filter_params_spell_the_unified_filters_or_say_nothing_can_match() -> None:
    import dataclasses
    import datetime as dt

    from connectors._common import FilterSpelling, filter_params
    from connectors.base import ListQuery
    from onedoor.model import MatterStatus

    spelling = FilterSpelling(
        region="r", status="s", category="c", received_from="f", received_to="t", overdue="o",
        statuses={MatterStatus.ACCEPTED: ("A1", "A2")}, moment=lambda m: m.date().isoformat(),
        yes_no=("1", "0"))
    when = dt.datetime(2025, 3, 1, 12, tzinfo=dt.UTC)
    assert filter_params(ListQuery(
        region_prefixes=("6323", "6301"), statuses=(MatterStatus.ACCEPTED,), categories=("劳动争议",),
        received_from=when, received_to=when, overdue=False), spelling) == [
        ("r", "6323"), ("r", "6301"), ("s", "A1"), ("s", "A2"), ("c", "劳动争议"),
        ("f", "2025-03-01"), ("t", "2025-03-01"), ("o", "0")]
    assert filter_params(ListQuery(), spelling) == []  # no filter at all
    assert filter_params(ListQuery(statuses=(MatterStatus.REJECTED,)), spelling) is None
    assert filter_params(ListQuery(region_prefixes=()), spelling) is None
    assert filter_params(ListQuery(categories=()), spelling) is None
    coded = dataclasses.replace(spelling, categories={"劳动争议": ("10",)})
    assert filter_params(ListQuery(categories=("劳动争议",)), coded) == [("c", "10")]
    assert filter_params(ListQuery(categories=("不存在",)), coded) is None
