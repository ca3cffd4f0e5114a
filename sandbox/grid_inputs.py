"""Inputs of the GOVERNANCE subgraph's one mutation, ``reportGridEvent`` (Relay style:
a ``clientMutationId`` makes a retried report return the first event)."""

from __future__ import annotations

import strawberry

__all__ = ["EventPartyInput", "ReferralInput", "ReportGridEventInput"]


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
