"""Organisations in the sandbox: valid credit codes in every centre whose format carries
one, read back by the connectors as organisation parties, and a pool of employers per
county so one organisation turns up at more than one centre (a wage claim mediated,
then litigated)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from connectors.legal import parse_application
from connectors.litigation import parse_case as parse_court_case
from connectors.mediation import parse_case as parse_mediation_case
from onedoor.identifiers import uscc_is_valid
from onedoor.model import Centre, MatterRecord, PartyKind
from sandbox import legal, litigation, mediation
from sandbox.people import EMPLOYERS_PER_COUNTY, employer
from sandbox.world import Matter, World

Read = Callable[[World, Matter], MatterRecord]
_READ: dict[Centre, Read] = {
    Centre.MEDIATION: lambda w, m: parse_mediation_case(mediation.render_case(w, m)),
    Centre.LEGAL_SERVICES: lambda w, m: parse_application(legal.render_application(w, m)),
    Centre.LITIGATION: lambda w, m: parse_court_case(litigation.render_case(w, m)),
}


def _records(world: World) -> list[MatterRecord]:
    return [read(world, world.matter(row)) for centre, read in _READ.items() for row in world.rows(centre)]


def test_each_centre_with_a_credit_code_field_records_organisations_with_valid_codes() -> None:
    world = World(seed=3, matters=3000)
    by_centre: dict[Centre, int] = defaultdict(int)
    for record in _records(world):
        for party in record.parties:
            if party.kind is PartyKind.ORGANISATION:
                assert party.org_code is not None and uscc_is_valid(party.org_code), party
                assert party.org_code[2:8] == record.region_code[:6]  # registered in the county
                by_centre[record.centre] += 1
    assert set(by_centre) == set(_READ) and min(by_centre.values()) > 50


def test_one_employer_appears_at_several_centres_and_stories_keep_theirs() -> None:
    world = World(seed=3, matters=3000)
    centres: dict[str, set[Centre]] = defaultdict(set)
    matters: dict[str, int] = defaultdict(int)
    for record in _records(world):
        for party in record.parties:
            if party.org_code:
                centres[party.org_code].add(record.centre)
                matters[party.org_code] += 1
    several = [code for code, seen in centres.items() if len(seen) >= 2]
    assert len(several) > len(centres) / 2  # most organisations are met at more than one centre
    assert max(matters.values()) >= 10
    # Both ends of a story (a mediation and the lawsuit after it) name the same organisation.
    for row in world.rows(Centre.MEDIATION):
        m = world.matter(row)
        if m.partner_row is not None and m.other is None and world.matter(m.partner_row).centre is Centre.LITIGATION:
            mine = _READ[Centre.MEDIATION](world, m).parties[-1]
            theirs = _READ[Centre.LITIGATION](world, world.matter(m.partner_row)).parties[-1]
            assert (mine.name, mine.org_code) == (theirs.name, theirs.org_code)


def test_a_county_pool_has_distinct_names_and_codes() -> None:
    pool = [employer(7, "632301", k) for k in range(EMPLOYERS_PER_COUNTY)]
    assert len({name for name, _ in pool}) == len({code for _, code in pool}) == EMPLOYERS_PER_COUNTY
    assert {code[:2] for _, code in pool} == {"91", "92", "93"}
    assert all(uscc_is_valid(code) and name.startswith("同仁市") for name, code in pool)
