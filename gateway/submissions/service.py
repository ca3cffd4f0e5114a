"""Filing a matter exactly once: claim, lease, create at the centre, audit, done.

    filed = await service.submit(principal, filing, "client-key-1", request_id="r1")
    filed.submission.receipt, filed.record, filed.decision.rule_id

Concurrent retries of one key in this process queue on a per-key lock; across
processes the row's lease decides who calls the centre. A create whose answer
is lost is settled without a second record: centres with an idempotency key
get the same create again; the others are searched for the receipt they echo.
Nothing here knows GraphQL: failures are :class:`FilingError` with a stable code.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import secrets
from collections.abc import Mapping
from typing import Any, Protocol, cast

from connectors.base import Connector, MatterDraft, WritableConnector
from connectors.errors import CentreError
from onedoor.model import CATEGORIES, CST, Centre, MatterRecord, PartyKind, PartyRecord

from ..audit import AuditEntry, AuditStore, Decision
from ..principal import Principal
from ..triage import Deadline, Facts, NoRoute, RulesFile
from ..triage import Decision as Route
from .store import Submission, SubmissionStore
from .updates import MatterUpdates

__all__ = ["Filed", "Filing", "FilingError", "FilingService"]

log = logging.getLogger("onedoor.filing")


class FilingError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclasses.dataclass(frozen=True, slots=True)
class Filing:
    """A validated filing (the schema validates; this is what it hands over)."""

    applicant: PartyRecord
    category: str
    region_code: str
    title: str
    description: str
    others: tuple[PartyRecord, ...] = ()
    subject: str | None = None  # the dispute category a petition or aid request is about
    channel: str = "WINDOW"
    court_related: bool = False
    against_authority: bool = False
    attachments: tuple[tuple[str, int], ...] = ()

    def fingerprint(self) -> str:
        text = json.dumps(dataclasses.asdict(self), sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def facts(self) -> Facts:
        return Facts(self.category, self.region_code, self.channel, self.court_related,
                     self.against_authority)


@dataclasses.dataclass(frozen=True, slots=True)
class Filed:
    submission: Submission
    record: MatterRecord | None
    route: Route
    deadlines: list[Deadline]
    replayed: bool


class StoreHolder(Protocol):
    store: AuditStore | None


def draft_to_json(draft: MatterDraft) -> str:
    return json.dumps(dataclasses.asdict(draft), ensure_ascii=False, default=lambda e: e.value)


def draft_from_json(text: str) -> MatterDraft:
    data: dict[str, Any] = json.loads(text)

    def party(p: dict[str, Any]) -> PartyRecord:
        return PartyRecord(**{**p, "kind": PartyKind(p["kind"])})

    return MatterDraft(**{**data, "applicant": party(data["applicant"]),
                          "others": tuple(party(p) for p in data["others"])})


def _new_receipt() -> str:
    return f"YC{dt.datetime.now(CST):%Y%m%d}{secrets.token_hex(5).upper()}"


class FilingService:
    def __init__(self, store: SubmissionStore, connectors: Mapping[Centre, Connector],
                 audit: StoreHolder, rules: RulesFile | None = None, *,
                 lease_seconds: float = 60.0, poll_seconds: float = 10.0) -> None:
        self.store = store
        self.connectors = connectors
        self.audit = audit
        self.rules = rules or RulesFile()
        self.lease_seconds = lease_seconds
        self.updates = MatterUpdates(connectors, poll_seconds=poll_seconds)
        self._locks: dict[str, asyncio.Lock] = {}

    def route(self, filing: Filing) -> Route:
        try:
            return self.rules.current().route(filing.facts())
        except NoRoute:
            raise FilingError("NO_ROUTE", "没有可受理该事项的中心 / no centre takes this kind of matter") from None

    def deadlines(self, route: Route, record: MatterRecord | None) -> list[Deadline]:
        received = record.received_at if record else dt.datetime.now(CST)
        return self.rules.current().deadlines(route.centre, route.kind, received)

    def _writer(self, centre: Centre) -> WritableConnector:
        return cast(WritableConnector, self.connectors[centre])

    async def submit(self, principal: Principal, filing: Filing, key: str, *, request_id: str,
                     route: Route | None = None, source: str | None = None) -> Filed:
        route = route or self.route(filing)
        scoped = f"{principal.sub or '-'}\x1f{key}"
        lock = self._locks.setdefault(scoped, asyncio.Lock())
        async with lock:
            return await self._submit(principal, filing, scoped, route, request_id, source)

    async def _submit(self, principal: Principal, filing: Filing, scoped: str, route: Route,
                      request_id: str, source: str | None) -> Filed:
        receipt = _new_receipt()
        draft = MatterDraft(
            reference=receipt, title=filing.title,
            category=filing.subject or (filing.category if filing.category in CATEGORIES else "其他"),
            description=filing.description, region_code=filing.region_code,
            applicant=filing.applicant, others=filing.others, kind=route.kind,
            channel=filing.channel)
        claim = Submission(
            key=scoped, receipt=receipt, fingerprint=filing.fingerprint(), owner=principal.sub or "-",
            applicant_id=filing.applicant.id_number or "", region_code=filing.region_code,
            centre=route.centre.value, rule_id=route.rule_id, draft=draft_to_json(draft),
            source=source)
        stored, new = await self.store.claim(claim)
        if stored.fingerprint != claim.fingerprint:
            raise FilingError("IDEMPOTENCY_KEY_REUSED",
                              "该幂等键已用于另一份申请 / this idempotency key was used for a different filing")
        if stored.state in ("created", "done"):
            record = await self._load(stored)
            if stored.state == "created":
                await self._finish(stored, record, "reconciled", principal, request_id)
            return Filed(stored, record, route, self.deadlines(route, record), replayed=True)
        if not await self.store.lease(scoped, self._lease_end()):
            raise FilingError("SUBMISSION_IN_PROGRESS",
                              "该申请正在办理，请稍后用同一幂等键重试 / this filing is being processed; "
                              "retry later with the same idempotency key")
        try:
            record = await self._settle(stored, look_first=not new)
        except CentreError as exc:
            await self.store.mark_failed(scoped, exc.code)
            await self._audit(stored, "failed", exc.code, principal, request_id)
            raise
        await self.store.mark_created(scoped, record.native_id)
        await self._finish(stored, record, "ok", principal, request_id)
        return Filed(stored.with_state("done", native_id=record.native_id), record, route,
                     self.deadlines(route, record), replayed=not new)

    def _lease_end(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.lease_seconds)

    async def _settle(self, stored: Submission, *, look_first: bool) -> MatterRecord:
        """Create at the centre; a row seen before may already have its record there."""
        draft = draft_from_json(stored.draft)
        writer = self._writer(Centre(stored.centre))
        if look_first and not writer.idempotent_writes:
            found = await writer.find_created(draft)
            if found is not None:
                return found
        try:
            return await writer.create(draft)
        except CentreError:
            if writer.idempotent_writes:
                raise
            # the create may have landed with its answer lost: look before reporting failure
            found = await writer.find_created(draft)
            if found is None:
                raise
            return found

    async def _load(self, stored: Submission) -> MatterRecord | None:
        if stored.native_id is None:
            return None
        found = await self.connectors[Centre(stored.centre)].get_many([stored.native_id])
        return found.get(stored.native_id)

    async def _finish(self, stored: Submission, record: MatterRecord | None, outcome: str,
                      principal: Principal | None, request_id: str | None) -> None:
        try:
            await self._audit(stored, outcome, None, principal, request_id, result=1)
        except Exception as exc:  # the record exists: reconcile appends the audit record later
            log.error("filing audit failed (%s); %s stays created", type(exc).__name__,
                      stored.receipt)
            return
        await self.store.mark_done(stored.key)

    async def _audit(self, stored: Submission, outcome: str, error: str | None,
                     principal: Principal | None, request_id: str | None, result: int = 0) -> None:
        if self.audit.store is None:
            raise RuntimeError("audit store not open")
        decisions = (Decision("deny" if error else "allow", f"triage:{stored.rule_id}",
                              centre=stored.centre),
                     *((Decision("deny", f"centre:{error}", centre=stored.centre),) if error else ()))
        operation = "transferMatter" if stored.source else "submitMatter"
        await self.audit.store.append(AuditEntry(
            sub=principal.sub if principal else stored.owner,
            client_id=principal.client_id if principal else None, operation_name=operation,
            document_hash=None, purpose=f"filing {stored.receipt}",
            citizens=(stored.applicant_id,) if stored.applicant_id else (),
            centres=(stored.centre,), decisions=decisions, result_count=result, outcome=outcome,
            request_id=request_id))

    async def reconcile(self) -> int:
        """Settle submissions a crash left unfinished (start-up): returns how many."""
        settled = 0
        for stored in await self.store.unfinished():
            try:
                record = await self._load(stored) if stored.state == "created" else None
                if stored.state == "pending":
                    if not await self.store.lease(stored.key, self._lease_end()):
                        continue  # another process holds it
                    record = await self._settle(stored, look_first=True)
                    await self.store.mark_created(stored.key, record.native_id)
                await self._finish(stored, record, "reconciled", None, None)
                settled += 1
            except CentreError as exc:
                log.warning("reconcile %s: centre %s", stored.receipt, exc.code)
        return settled

    async def track(self, receipt: str) -> tuple[Submission, MatterRecord | None] | None:
        stored = await self.store.by_receipt(receipt)
        if stored is None:
            return None
        return stored, await self._load(stored)
