"""Disclosure of personal data: what one caller may see of one value, and which
records one caller may reach through a person.

Two pure rules, fed by the principal and a record's protections (computed once
per record by :func:`protections_of`):

- :func:`disclose` — every personal-data value the gateway returns passes
  here (the schema attaches it to each such field, and a test walks the schema
  to prove it). Without ``pii:read`` a value is masked unless it is the
  caller's own; a *protected* person — the reporter of a confidential
  (保密) 检举控告 petition (信访工作条例 Art.30) or a minor (社区矫正法 Art.54,
  未成年人保护法) — is masked whatever the caller's scopes, their own included;
  an organisation's name is public.
- :func:`access` — a *confidential* record (a report with a protected
  reporter, a minor's community-correction file) is not reached through a
  person's identity or by following links. Only the protected person
  themself (``citizen:self``) and, for reports, a holder of
  :data:`CONFIDENTIAL_SCOPE` reach it; the latter is to be audited.

>>> from policy.principal import Principal
>>> caseworker = Principal("cw", "c", frozenset({"pii:read"}), ("6323",))
>>> disclose(Kind.NAME, "张三", caseworker, UNPROTECTED)
'张三'
>>> disclose(Kind.NAME, "张三", caseworker, Protections(reason=Reason.WHISTLEBLOWER))
'张*'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from onedoor.model import MatterRecord, PartyKind, PartyRecord

from . import masking
from .principal import Principal

__all__ = [
    "CONFIDENTIAL_SCOPE",
    "UNPROTECTED",
    "Access",
    "Kind",
    "Protections",
    "Reason",
    "RecordProtections",
    "access",
    "disclose",
    "in_clear",
    "minor_on",
    "protections_of",
]

# Reaching a confidential report through a person or a link (case handlers of
# discipline inspection, say). Every such reach is audited.
CONFIDENTIAL_SCOPE = "petitions:confidential"
ADULT_AGE = 18


class Kind(Enum):
    """What a personal-data value is: decides how it is masked."""

    NAME = "name"
    ID_NUMBER = "idNumber"
    PHONE = "phone"
    ADDRESS = "address"


class Reason(Enum):
    """Why a person is protected: they are never unmasked."""

    WHISTLEBLOWER = "whistleblower"  # 信访工作条例 Art.30
    MINOR = "minor"  # 社区矫正法 Art.54; 未成年人保护法


@dataclass(frozen=True, slots=True)
class Protections:
    """What guards one person's data in one place (a party of a record, a citizen).

    ``subject`` is the person's resident ID (they see their own data in clear
    unless protected); ``reason`` makes the data masked for everyone;
    ``public_name`` marks an organisation, whose name is public.
    """

    subject: str | None = None
    reason: Reason | None = None
    public_name: bool = False


UNPROTECTED = Protections()

_MASKS: dict[Kind, Callable[[str], str]] = {
    Kind.NAME: masking.mask_name,
    Kind.ID_NUMBER: masking.mask_id_number,
    Kind.PHONE: masking.mask_phone,
    Kind.ADDRESS: masking.mask_address,
}


def in_clear(kind: Kind, principal: Principal, protections: Protections) -> bool:
    """Whether ``principal`` sees a value of this kind unmasked."""
    if protections.reason is not None:
        return False
    if kind is Kind.NAME and protections.public_name:
        return True
    own = (protections.subject is not None and protections.subject == principal.citizen_id
           and principal.has("citizen:self"))
    return own or principal.has("pii:read")


def disclose(kind: Kind, value: str | None, principal: Principal,
             protections: Protections) -> str | None:
    """The value as ``principal`` may see it: itself, or masked (``None`` stays ``None``)."""
    if value is None or in_clear(kind, principal, protections):
        return value
    return _MASKS[kind](value)


def minor_on(id_number: str | None, day: dt.date) -> bool:
    """Whether the resident ID's holder was under 18 on ``day`` (GB 11643 birth date)."""
    if id_number is None or len(id_number) != 18:
        return False
    try:
        born = dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return False
    try:
        adult = born.replace(year=born.year + ADULT_AGE)
    except ValueError:  # born on 29 February: adult on 1 March
        adult = dt.date(born.year + ADULT_AGE, 3, 1)
    return day < adult


@dataclass(frozen=True, slots=True)
class RecordProtections:
    """One record's protections: one :class:`Protections` per party, in order, and
    whether the record is confidential (and why)."""

    parties: tuple[Protections, ...]
    confidential: Reason | None

    @property
    def protected_ids(self) -> frozenset[str]:
        return frozenset(p.subject for p in self.parties if p.reason and p.subject)


def _party(party: PartyRecord, reason: Reason | None) -> Protections:
    if party.kind is PartyKind.ORGANISATION:
        return Protections(subject=None, reason=None, public_name=True)
    return Protections(subject=party.id_number, reason=reason)


def protections_of(record: MatterRecord) -> RecordProtections:
    """Who is protected in ``record``: flagged (保密) petitioners, every person in a
    minor's community-correction file, and anyone who was a minor when the
    matter was received. Only the first two make the record confidential."""
    extra = record.extra
    flags = tuple(bool(f) for f in extra.get("whistleblower_flags", ()))
    juvenile_file = bool(extra.get("is_minor"))
    day = record.received_at.date()
    parties: list[Protections] = []
    for i, party in enumerate(record.parties):
        reason: Reason | None = None
        if i < len(flags) and flags[i]:
            reason = Reason.WHISTLEBLOWER
        elif juvenile_file or minor_on(party.id_number, day):
            reason = Reason.MINOR
        parties.append(_party(party, reason))
    confidential = (Reason.WHISTLEBLOWER if any(flags)
                    else Reason.MINOR if juvenile_file else None)
    return RecordProtections(tuple(parties), confidential)


class Access(Enum):
    OPEN = "open"  # not confidential
    OWN = "own"  # the protected person themself (citizen:self)
    SCOPE = "scope"  # through CONFIDENTIAL_SCOPE: audit it
    HIDDEN = "hidden"  # behaves as if it did not exist


# The scope that reaches each kind of confidential record; minors' files: none.
_UNLOCK: dict[Reason, str | None] = {
    Reason.WHISTLEBLOWER: CONFIDENTIAL_SCOPE,
    Reason.MINOR: None,
}


def access(record: RecordProtections, principal: Principal) -> Access:
    """How ``principal`` may reach a record through a person's identity or a link."""
    if record.confidential is None:
        return Access.OPEN
    if principal.has("citizen:self") and principal.citizen_id in record.protected_ids:
        return Access.OWN
    scope = _UNLOCK[record.confidential]
    if scope is not None and principal.has(scope):
        return Access.SCOPE
    return Access.HIDDEN
