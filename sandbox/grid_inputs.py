"""Inputs of the GOVERNANCE subgraph's mutations, ``reportGridEvent`` (Relay style:
a ``clientMutationId`` makes a retried report return the first event) and
``addReferral`` (idempotent by content: the same referral twice is kept once)."""

from __future__ import annotations

import strawberry

__all__ = ["AddReferralInput", "EventPartyInput", "ReferralInput", "ReportGridEventInput"]


@strawberry.input
class EventPartyInput:
    name: str
    id_number: str | None = None
    phone: str | None = None
    role: str = "COMPLAINANT"


@strawberry.input
class ReferralInput:
    kind: str
    ref_no: str
    system: str | None = None  # the other system, where the kind does not name it (TRANSFER_*)


@strawberry.input
class ReportGridEventInput:
    title: str
    event_type: str
    region_code: str
    reporter: str
    parties: list[EventPartyInput]
    grid_code: str | None = None
    description: str | None = None
    referrals: list[ReferralInput] | None = None
    client_mutation_id: str | None = None


@strawberry.input
class AddReferralInput:
    event_no: str
    kind: str
    ref_no: str
    system: str | None = None
    client_mutation_id: str | None = None
