"""policy.disclosure: the one rule for personal data, as pure functions."""

from __future__ import annotations

import datetime as dt
from types import MappingProxyType

import pytest

from onedoor.identifiers import make_resident_id
from onedoor.model import CST, Centre, MatterRecord, MatterStatus, PartyKind, PartyRecord
from policy.disclosure import (
    CONFIDENTIAL_SCOPE,
    UNPROTECTED,
    Access,
    Kind,
    Protections,
    Reason,
    access,
    disclose,
    minor_on,
    protections_of,
)
from policy.principal import SCOPES, Principal

ADULT = make_resident_id("632301", dt.date(1980, 1, 1), 11)
CHILD = make_resident_id("632301", dt.date(2012, 5, 5), 21)
LEAP = make_resident_id("632301", dt.date(2008, 2, 29), 31)


def _principal(*scopes: str, citizen: str | None = None) -> Principal:
    return Principal("u", "c", frozenset(scopes), ("6323",), citizen_id=citizen)


def _record(parties: tuple[PartyRecord, ...], *, received: dt.date = dt.date(2024, 3, 1),
            **extra: object) -> MatterRecord:
    return MatterRecord(
        centre=Centre.PETITIONS, native_id="X", reference="X", category="其他", title="t",
        status=MatterStatus.ACCEPTED, centre_status="受理", region_code="632301001001",
        received_at=dt.datetime.combine(received, dt.time(9), CST), parties=parties,
        extra=MappingProxyType(dict(extra)),
    )


@pytest.mark.parametrize(("principal", "protections", "shown"), [
    (_principal(), UNPROTECTED, "张*"),
    (_principal("pii:read"), UNPROTECTED, "张三"),
    (_principal("citizen:self", citizen=ADULT), Protections(subject=ADULT), "张三"),
    # a citizen_id without citizen:self is not the data subject's own token
    (_principal(citizen=ADULT), Protections(subject=ADULT), "张*"),
    (_principal("pii:read", CONFIDENTIAL_SCOPE), Protections(reason=Reason.WHISTLEBLOWER), "张*"),
    (_principal("citizen:self", citizen=ADULT),
     Protections(subject=ADULT, reason=Reason.MINOR), "张*"),
    (_principal(), Protections(public_name=True), "张三"),
])
def test_disclose_names(principal: Principal, protections: Protections, shown: str) -> None:
    assert disclose(Kind.NAME, "张三", principal, protections) == shown


def test_disclose_keeps_none_and_masks_each_kind() -> None:
    nobody = _principal()
    assert disclose(Kind.PHONE, None, nobody, UNPROTECTED) is None
    assert disclose(Kind.ID_NUMBER, ADULT, nobody, UNPROTECTED) == ADULT[:4] + "*" * 10 + ADULT[-4:]
    assert disclose(Kind.PHONE, "13812345678", nobody, UNPROTECTED) == "138****5678"
    # an organisation's phone is not public
    assert disclose(Kind.PHONE, "13812345678", nobody, Protections(public_name=True)) == "138****5678"


def test_minor_on_counts_birthdays_including_29_february() -> None:
    assert minor_on(CHILD, dt.date(2026, 12, 2))
    assert not minor_on(ADULT, dt.date(2026, 12, 2))
    assert minor_on(LEAP, dt.date(2026, 2, 28)) and not minor_on(LEAP, dt.date(2026, 3, 1))
    assert not minor_on(None, dt.date(2026, 1, 1)) and not minor_on("123", dt.date(2026, 1, 1))


def test_protections_of_a_report_and_of_a_juvenile_record() -> None:
    reporter = PartyRecord("PETITIONER", "王五", id_number=ADULT)
    accused = PartyRecord("RESPONDENT", "某公司", kind=PartyKind.ORGANISATION)
    report = protections_of(_record((reporter, accused), whistleblower_flags=(True, False)))
    assert report.confidential is Reason.WHISTLEBLOWER and report.protected_ids == {ADULT}
    assert report.parties[1].public_name and report.parties[1].reason is None
    # A minor when the matter was received: masked there, but the record is not confidential.
    young = protections_of(_record((PartyRecord("APPLICANT", "李小", id_number=CHILD),)))
    assert young.parties[0].reason is Reason.MINOR and young.confidential is None
    correction = protections_of(_record((PartyRecord("APPLICANT", "赵六", id_number=ADULT),),
                                        is_minor=True))
    assert correction.confidential is Reason.MINOR and correction.protected_ids == {ADULT}


def test_access_to_confidential_records() -> None:
    reporter = PartyRecord("PETITIONER", "王五", id_number=ADULT)
    report = protections_of(_record((reporter,), whistleblower_flags=(True,)))
    juvenile = protections_of(_record((reporter,), is_minor=True))
    plain = protections_of(_record((reporter,)))
    everything = _principal("petitions:read", "pii:read", "audit:read", "legal:read")
    assert access(plain, everything) is Access.OPEN
    assert access(report, everything) is Access.HIDDEN
    assert access(report, _principal(CONFIDENTIAL_SCOPE)) is Access.SCOPE
    assert access(report, _principal("citizen:self", citizen=ADULT)) is Access.OWN
    assert access(report, _principal("citizen:self", citizen=CHILD)) is Access.HIDDEN
    assert access(juvenile, _principal(CONFIDENTIAL_SCOPE)) is Access.HIDDEN  # no scope opens it
    assert access(juvenile, _principal("citizen:self", citizen=ADULT)) is Access.OWN


def test_the_confidential_scope_is_a_known_scope() -> None:
    assert CONFIDENTIAL_SCOPE in SCOPES
