"""Turn a cached, caller-independent record into what this caller may see.

Objects are built here with raw values and each person's
:class:`~policy.disclosure.Protections`; the fields themselves disclose
(:mod:`schema.disclosed`), so masking happens on every path that resolves a
personal-data field — matters, links, timelines, traces, citizens. Whistle-blowers
in 检举控告 petitions (信访工作条例 Art.30) and minors (社区矫正法 Art.54) are
masked whatever the scopes.

:func:`confidential_access` is the one gate for reaching a confidential record
through a person or a link; a reach through ``petitions:confidential`` is noted
for the audit stage.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, TypeVar

from onedoor import deadlines
from onedoor.model import MatterRecord, PartyRecord
from policy.disclosure import Access, Protections, access, protections_of
from services.audit import Decision

from .context import RequestContext
from .enums import Centre, MatterStatus, PetitionChannel, PetitionType
from .ids import encode_id
from .matter import MATTER_TYPES, Matter, MatterEvent, Party
from .matter import PartyKind as SchemaPartyKind
from .region import region_of

__all__ = ["confidential_access", "present", "present_party"]


def present_party(party: PartyRecord, protections: Protections) -> Party:
    return Party(
        role=party.role,
        kind=SchemaPartyKind[party.kind.name],
        name=party.name,
        id_number=party.id_number,
        phone=party.phone,
        address=party.address,
        organisation_code=party.org_code,
        protections=protections,
    )


def confidential_access(record: MatterRecord, ctx: RequestContext,
                        path: list[str | int]) -> Access:
    """Whether the caller reaches ``record`` through a person or a link; a reach
    through the confidential scope is recorded as an ``allow`` decision."""
    found = access(protections_of(record), ctx.principal)
    if found is Access.SCOPE:
        decision = Decision("allow", "confidential_record",
                            field=".".join(str(p) for p in path if isinstance(p, str)) or None,
                            centre=record.centre.value)
        if decision not in ctx.decisions:
            ctx.decisions.append(decision)
    return found


def present(record: MatterRecord, ctx: RequestContext) -> Matter:
    cls = MATTER_TYPES[record.centre]
    protections = protections_of(record)
    # The audit record names every person whose data this answer carries.
    ctx.citizens_touched.update(p.id_number for p in record.parties if p.id_number)
    ctx.centres_returned.add(record.centre)
    ctx.records_returned += 1
    extra = record.extra
    common: dict[str, Any] = {
        "id": encode_id(record.centre, record.native_id),
        "centre": Centre[record.centre.name],
        "reference": record.reference,
        "category": record.category,
        "title": record.title,
        "status": MatterStatus[record.status.name],
        "centre_status": record.centre_status,
        "region": region_of(record.region_code),
        "parties": [
            present_party(p, guard)
            for p, guard in zip(record.parties, protections.parties, strict=True)
        ],
        "received_at": record.received_at,
        "due_at": record.due_at,
        "closed_at": record.closed_at,
        "overdue": deadlines.is_overdue(record, ctx.now),
        "events": [MatterEvent(at=e.at, action=e.action, note=e.note) for e in record.events],
        "record": record,
    }
    specific: dict[str, Any] = {name: extra.get(name) for name in _SPECIFIC[cls.__name__]}
    if cls.__name__ == "CourtCase" and not specific["case_number"]:
        specific["case_number"] = record.reference
    if cls.__name__ == "LegalServiceRequest" and not specific["service_type"]:
        specific["service_type"] = "OTHER"
    if cls.__name__ == "Petition":
        specific["channel"] = _member(PetitionChannel, specific["channel"])
        specific["petition_type"] = _member(PetitionType, specific["petition_type"])
    return cls(**common, **specific)


E = TypeVar("E", bound=Enum)


def _member(enum: type[E], value: object) -> E | None:
    """A centre's vocabulary as the schema's enum; a word the enum lacks is OTHER."""
    if value is None:
        return None
    return enum.__members__.get(str(value)) or enum["OTHER"]


_SPECIFIC: dict[str, tuple[str, ...]] = {
    "MediationCase": ("mediation_type", "source", "agreement_reached", "agreement_effective_on",
                      "confirmation_apply_by"),
    "LegalServiceRequest": ("service_type", "decision_due_at", "assignment_due_at"),
    "Petition": ("channel", "petition_type", "acceptance_due_at", "handling_due_at", "extension_days",
                 "review_request_by", "review_requested_on", "review_due_at", "review_decided_on",
                 "second_review_request_by", "second_review_requested_on", "second_review_due_at",
                 "second_review_decided_on"),
    "CourtCase": ("case_number", "court", "procedure"),
    "GridEvent": ("grid_code", "event_type", "reporter"),
}
