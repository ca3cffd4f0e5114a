"""The synthetic world: determinism, valid identifiers, consistent lifecycles and links."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from onedoor.identifiers import normalise_resident_id
from onedoor.model import CATEGORIES, CST, Centre
from onedoor.periods import last_day
from sandbox.columns import LAWSUIT, STORIES
from sandbox.lifecycle import CASE_TYPES, STATUSES
from sandbox.mediation import render_case
from sandbox.world import CENTRES, World

NOW = dt.datetime(2025, 6, 30, tzinfo=CST)


@pytest.fixture(scope="module")
def world() -> World:
    return World(seed=11, now=NOW)


def test_same_seed_same_world(world: World) -> None:
    again = World(seed=11, now=NOW)
    rows = list(world.rows(Centre.MEDIATION))[:50:7]
    assert [world.native_id(r) for r in rows] == [again.native_id(r) for r in rows]
    assert [render_case(world, world.matter(r)) for r in rows] == [
        render_case(again, again.matter(r)) for r in rows]
    other = World(seed=12, now=NOW)
    assert [world.people.id_number(i) for i in range(20)] != [
        other.people.id_number(i) for i in range(20)]


def test_default_scale(world: World) -> None:
    assert world.people.n == 3000
    assert world.size == 10_000
    assert sum(world.count(c) for c in Centre) == 10_000
    assert all(world.count(c) > 1000 for c in Centre)


def test_resident_ids_are_valid_and_unique(world: World) -> None:
    ids = [world.people.id_number(i) for i in range(world.people.n)]
    assert len(set(ids)) == len(ids)
    for index, ident in enumerate(ids[:500]):
        assert normalise_resident_id(ident) == ident
        citizen = world.citizen(index)
        assert ident[:6] == citizen.region_code[:6]
        assert ident[6:14] == f"{citizen.birth:%Y%m%d}"
        assert int(ident[16]) % 2 == (1 if citizen.male else 0)
        assert 2 <= len(citizen.name) <= 4
        assert world.people.index_of(ident) == index


def test_native_ids_round_trip(world: World) -> None:
    for centre in Centre:
        rows = world.rows(centre)
        for row in (rows[0], rows[len(rows) // 2], rows[-1]):
            assert world.row_of(centre, world.native_id(row)) == row
    assert world.row_of(Centre.MEDIATION, "TJ000000202400001") is None
    assert world.row_of(Centre.LITIGATION, "garbage") is None


def test_statuses_agree_with_dates(world: World) -> None:
    cols = world.cols
    terminal = {0: {"AJSL", "ZZ"}, 1: {"closed", "rejected", "terminated"}, 2: {"06", "07"},
                3: {"MEDIATED", "JUDGED", "CLOSED", "WITHDRAWN", "DISMISSED"},
                4: {"CANCELLED", "CLOSED", "EVALUATED"}}
    for c, names in terminal.items():
        rows = np.arange(*cols.starts[c:c + 2])
        is_terminal = np.isin(cols.status[rows], [STATUSES[c].index(n) for n in names])
        assert np.array_equal(is_terminal, cols.closed[rows] >= 0)
        assert (cols.recv[rows] < world.now_ts).all()
        closed = rows[cols.closed[rows] >= 0]
        assert (cols.closed[closed] >= cols.recv[closed]).all()
        assert 0 < cols.overdue[rows].mean() < 0.6


def test_petition_deadlines(world: World) -> None:
    for row in list(world.rows(Centre.PETITIONS))[:300]:
        m = world.matter(row)
        received = dt.datetime.fromtimestamp(m.received, CST).date()
        assert m.due is not None
        # Counted by onedoor.periods (民法典 Art.201-203): a last day on a rest day moves past it.
        assert dt.datetime.fromtimestamp(m.due - 1, CST).date() == last_day(received, days=15)
        if m.due2 is not None:
            assert m.accepted is not None
            accepted = dt.datetime.fromtimestamp(m.accepted, CST).date()
            handling = 60 + m.extension_days  # an approved Art.34 extension, at most 30 days
            assert m.extension_days in (0, 30)
            assert dt.datetime.fromtimestamp(m.due2 - 1, CST).date() == last_day(accepted, days=handling)


def test_links_are_symmetric_and_follow_the_stories(world: World) -> None:
    cols = world.cols
    linked = np.flatnonzero(cols.link >= 0)
    assert len(linked) > 1000
    assert (cols.link[cols.link[linked]] == linked).all()
    assert (cols.citizen[cols.link[linked]] == cols.citizen[linked]).all()
    assert set(cols.story[linked].tolist()) == set(range(len(STORIES))) | {LAWSUIT}
    lawsuits = np.flatnonzero(cols.story == LAWSUIT)
    for row in [*linked[:400], *lawsuits]:
        m = world.matter(int(row))
        story = (0, 3) if m.story == LAWSUIT else STORIES[m.story]  # 调解不成起诉: mediation → court
        assert CENTRES.index(m.centre) == story[m.side]
        partner = world.matter(m.partner_row or 0)
        assert partner.partner_id == m.native_id
        if m.story in (1, 2, LAWSUIT) and m.side == 0:  # agreement / failure precedes the next step
            assert m.status == ("AJSL" if m.story == 1 else "ZZ")
            assert m.closed is not None and m.closed <= partner.received
        if m.story == LAWSUIT:
            assert m.category == partner.category and (m.side == 0 or CASE_TYPES[m.sub] == "民初")


def test_most_sampled_citizens_span_three_centres(world: World) -> None:
    sample = world.sample_citizens(200)
    assert len(sample) == 200
    for ident in sample[:50]:
        citizen = world.citizen_by_id(ident)
        assert citizen is not None
        assert len(world.centres_of(citizen.index)) >= 3
        assert len({c for c, _ in world.matters_of(ident)}) >= 3
    assert len(world.sample_citizens(10**6)) > 0.4 * world.people.n


def test_petitions_store_legacy_spellings(world: World) -> None:
    cols = world.cols
    pet = np.arange(*cols.starts[2:4])
    legacy = pet[cols.idvar[pet] == 1]
    lower = pet[cols.idvar[pet] == 2]
    assert len(legacy) > 20 and len(lower) > 5
    m = world.matter(int(legacy[0]))
    assert len(m.stored_id) == 15
    assert int(legacy[0]) in world.search(Centre.PETITIONS, party_ids=[m.stored_id])
    assert int(legacy[0]) not in world.search(Centre.PETITIONS, party_ids=[m.citizen.id_number])
    assert world.matter(int(lower[0])).stored_id.endswith("x")


def test_search_sorted_and_filtered(world: World) -> None:
    rows = world.search(Centre.MEDIATION, prefixes=["6323"], overdue=True)
    assert len(rows) > 0
    assert (np.diff(world.cols.recv[rows]) <= 0).all()
    ids = [world.native_id(int(r)) for r in rows]
    assert all(i[2:6] == "6323" for i in ids)
    assert world.cols.overdue[rows].all()
    t0 = world.now_ts - 90 * 86_400
    recent = world.search(Centre.LITIGATION, received_from=t0)
    assert (world.cols.recv[recent] >= t0).all()
    assert len(recent) < world.count(Centre.LITIGATION)


def test_minors_in_community_correction(world: World) -> None:
    from sandbox.legal import render_application

    rows = world.search(Centre.LEGAL_SERVICES, subs=[3])
    minors = [r for r in rows if render_application(world, world.matter(int(r)))["is_minor"]]
    assert minors


def test_a_million_matters() -> None:
    big = World(seed=3, matters=1_000_000, now=NOW)
    assert big.size == 1_000_000
    assert int(big.cols.starts[-1]) == 1_000_000
    assert big.people.n == 300_000
    row = big.rows(Centre.GOVERNANCE)[-1]
    assert big.row_of(Centre.GOVERNANCE, big.native_id(row)) == row
    assert len(big.search(Centre.PETITIONS, prefixes=["43"], overdue=True)) > 1000


def test_appeals_are_numbered_at_the_intermediate_court(world: World) -> None:
    """民终: province letter + the prefecture's two digits (青23), at the 中级人民法院; others at the county court."""
    for row in list(world.rows(Centre.LITIGATION))[:400]:
        m = world.matter(row)
        court = m.native_id.split("）", 1)[1]
        code, name = world.court_name(m.region_code[:6], CASE_TYPES[m.sub])
        assert court.startswith(code)
        if CASE_TYPES[m.sub] == "民终":
            assert len(code) == 3 and code[1:] == m.region_code[2:4] and name.endswith("中级人民法院")
        else:
            assert len(code) == 5 and code[1:] == m.region_code[2:6]
        assert world.row_of(Centre.LITIGATION, m.native_id) == row


def test_family_and_neighbour_disputes_are_between_people(world: World) -> None:
    """An employer may be the other side of a wage, contract or consumer dispute, never of a
    marriage or a quarrel between neighbours; other disputes still meet organisations."""
    from sandbox.common import counter_party

    personal = {CATEGORIES.index("婚姻家庭"), CATEGORIES.index("邻里")}
    kinds: dict[bool, set[bool]] = {True: set(), False: set()}
    for centre in (Centre.MEDIATION, Centre.LEGAL_SERVICES, Centre.LITIGATION):
        for row in world.rows(centre):
            m = world.matter(row)
            if m.other is None and m.citizen is not None:
                kinds[m.category in personal].add(counter_party(world, m).is_org)
            else:
                kinds[m.category in personal].add(False)
    assert kinds[True] == {False}  # only people
    assert kinds[False] == {True, False}
