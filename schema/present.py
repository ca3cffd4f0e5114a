"""Turn a cached, caller-independent record into what this caller may see.

This is the one place where personal data leaves the gateway, so masking
happens here, on every path (matters, links, timelines, citizens): without
``pii:read`` names, ID numbers, phones and addresses are masked; whistle-blowers
in 检举控告 petitions (信访工作条例 Art.30) and minors in community correction
(社区矫正法 Art.54) are masked whatever the scopes.
"""

from __future__ import annotations

from typing import Any

from onedoor.model import MatterRecord, PartyKind, PartyRecord
from policy import masking

from .context import RequestContext
from .enums import Centre, MatterStatus
from .ids import encode_id
from .matter import MATTER_TYPES, Matter, MatterEvent, Party
from .matter import PartyKind as SchemaPartyKind
from .region import region_of

__all__ = ["present", "present_party"]

_PII_FIELDS = ("Party.name", "Party.idNumber", "Party.phone", "Party.address")


def present_party(party: PartyRecord, ctx: RequestContext, *, protected: bool) -> Party:
    person = party.kind is PartyKind.PERSON
    own = party.id_number is not None and party.id_number == ctx.principal.citizen_id
    clear = not protected and (own or ctx.principal.has("pii:read"))
    if clear and person:
        ctx.unmasked_fields.update(_PII_FIELDS)
    show = clear or not person
    return Party(
        role=party.role,
        kind=SchemaPartyKind[party.kind.name],
        name=party.name if show else masking.mask_name(party.name),
        id_number=party.id_number if clear or party.id_number is None
        else masking.mask_id_number(party.id_number),
        phone=party.phone if clear or party.phone is None else masking.mask_phone(party.phone),
        address=party.address if clear or party.address is None
        else masking.mask_address(party.address),
        organisation_code=party.org_code,
    )


def _protected_flags(record: MatterRecord) -> tuple[bool, ...]:
    if record.extra.get("is_minor"):
        return (True,) * len(record.parties)
    flags = tuple(bool(f) for f in record.extra.get("whistleblower_flags", ()))
    return flags + (False,) * (len(record.parties) - len(flags))


def present(record: MatterRecord, ctx: RequestContext) -> Matter:
    cls = MATTER_TYPES[record.centre]
    protected = _protected_flags(record)
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
            present_party(p, ctx, protected=flag)
            for p, flag in zip(record.parties, protected, strict=True)
        ],
        "received_at": record.received_at,
        "due_at": record.due_at,
        "closed_at": record.closed_at,
        "overdue": record.is_overdue(ctx.now),
        "events": [MatterEvent(at=e.at, action=e.action, note=e.note) for e in record.events],
        "record": record,
    }
    specific: dict[str, Any] = {name: extra.get(name) for name in _SPECIFIC[cls.__name__]}
    if cls.__name__ == "CourtCase" and not specific["case_number"]:
        specific["case_number"] = record.reference
    if cls.__name__ == "LegalServiceRequest" and not specific["service_type"]:
        specific["service_type"] = "OTHER"
    return cls(**common, **specific)


_SPECIFIC: dict[str, tuple[str, ...]] = {
    "MediationCase": ("mediation_type", "source", "agreement_reached"),
    "LegalServiceRequest": ("service_type", "decision_due_at"),
    "Petition": ("channel", "petition_type", "acceptance_due_at", "handling_due_at"),
    "CourtCase": ("case_number", "court", "procedure"),
    "GridEvent": ("grid_code", "event_type", "reporter"),
}
