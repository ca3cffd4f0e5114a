"""The per-request context: built once per request, never shared.

It carries who is asking (the principal), the connectors, this request's
DataLoaders, and what the request did (centres called, citizens touched,
partial errors) so that the audit and error stages can read it afterwards.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from graphql import GraphQLError

from connectors.base import Connector
from onedoor.centres import CENTRES
from onedoor.model import CST, Centre, MatterRecord
from policy.principal import Principal
from services.audit import AuditStore, Decision
from services.projection import ProjectionStore

from .loaders import Loaders

if TYPE_CHECKING:
    from services.filing import FilingService

__all__ = ["CENTRE_SCOPES", "RequestContext"]

# The scope that lets a caller read each centre's matters.
CENTRE_SCOPES: Mapping[Centre, str] = {c: info.read_scope for c, info in CENTRES.items()}


@dataclass
class RequestContext:
    principal: Principal
    connectors: Mapping[Centre, Connector]
    loaders: Loaders
    request_id: str
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(CST))
    # What the request did, for the audit record and the response extensions.
    omitted_centres: set[Centre] = field(default_factory=set)
    citizens_touched: set[str] = field(default_factory=set)
    unmasked_fields: set[str] = field(default_factory=set)
    centres_returned: set[Centre] = field(default_factory=set)
    records_returned: int = 0
    # Why the caller is asking (``X-Purpose`` header) when the token has no ``purpose``.
    purpose: str | None = None
    # The audit store, for auditors' queries (``auditTrail``); ``None`` in unit tests.
    audit: AuditStore | None = None
    partial_errors: list[GraphQLError] = field(default_factory=list)
    # Allow/deny decisions made while resolving (e.g. a confidential record reached
    # through ``petitions:confidential``), appended to the audit record.
    decisions: list[Decision] = field(default_factory=list)
    # Filing, tracking and live updates (issue 5); ``None`` where the app has no store.
    filing: FilingService | None = None
    # The analytic projection (issue 13), when the gateway keeps one: the dispatcher's
    # view (statistics, overdue, escalations) reads it instead of paging the centres.
    projection: ProjectionStore | None = None
    # A WebSocket's ``connection_init`` payload (strawberry sets it; the transport
    # reads the token from it once, then operations are forked from this context).
    connection_params: dict[str, object] | None = None

    def fork(self) -> RequestContext:
        """A fresh context for one operation (the operation gate forks one for
        every operation of every transport): same caller, own loaders and own
        record of what it touched, so each operation gets its own exact audit
        record and no operation on a WebSocket sees another's."""
        return RequestContext(
            principal=self.principal, connectors=self.connectors,
            loaders=Loaders(self.connectors), request_id=self.request_id,
            purpose=self.purpose, audit=self.audit, filing=self.filing, projection=self.projection,
        )

    def reset_disclosures(self) -> None:
        """Forget what was disclosed so far: the audit stage calls this after
        recording it, so that each subscription event gets a record of its own."""
        self.omitted_centres = set()
        self.citizens_touched = set()
        self.unmasked_fields = set()
        self.centres_returned = set()
        self.records_returned = 0
        self.decisions = []
        self.loaders.centres_called.clear()

    def can_read(self, centre: Centre) -> bool:
        return CENTRE_SCOPES[centre] in self.principal.scopes

    def readable(self, centres: tuple[Centre, ...] | None = None) -> tuple[Centre, ...]:
        """The requested centres the caller may read; the rest are noted as omitted."""
        wanted = centres if centres is not None else tuple(Centre)
        allowed = tuple(c for c in wanted if self.can_read(c))
        self.omitted_centres.update(c for c in wanted if c not in allowed)
        return allowed

    @property
    def self_service(self) -> bool:
        """A citizen reading their own matters (``citizen:self``, ``sub`` = resident ID)."""
        return self.principal.citizen_id is not None and self.principal.has("citizen:self")

    def may_call(self, centre: Centre) -> bool:
        """Whether any of this centre's data could be shown: only then is it called."""
        return self.can_read(centre) or self.self_service

    def visible(self, record: MatterRecord) -> bool:
        """Row-level rule: the centre's scope and the caller's jurisdiction, or the
        caller's own matter. Anything else behaves as if it did not exist."""
        if self.can_read(record.centre) and self.principal.in_jurisdiction(record.region_code):
            return True
        own = self.principal.citizen_id
        return self.self_service and any(p.id_number == own for p in record.parties)

    @property
    def centres_called(self) -> set[Centre]:
        return self.loaders.centres_called
