"""Filing a matter exactly once: claim, lease, create at the centre, link, audit, done.

    filed = await service.submit(principal, filing, "client-key-1", request_id="r1")
    filed.submission.receipt, filed.record, filed.decision.rule_id

Concurrent retries of one key in this process queue on a per-key lock; across
processes the row's lease decides who calls the centre. A create whose answer
is lost is settled without a second record: centres with an idempotency key
get the same create again; the others are searched for the receipt they echo.

A transfer (a row with ``source``) creates the new matter carrying its
``TRANSFERRED_FROM`` back-reference, then adds ``TRANSFERRED_TO`` to the source
matter at its own centre; only then is the row done. That write is idempotent
at every centre, so when the source centre is down the row stays ``created``
(the caller still gets the new matter, with the missing link reported) and a
later :meth:`FilingService.reconcile` pass simply sends it again. Reconcile runs
at start and periodically (:mod:`.reconciler`) and takes only rows whose lease
has expired and whose key no request of this process holds.
Nothing here knows GraphQL: failures are :class:`FilingError` with a stable code.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import secrets
from collections.abc import Mapping
from typing import Any, Protocol, cast

from connectors.base import Connector, MatterDraft, WritableConnector
from connectors.errors import CentreBadResponse, CentreError
from onedoor.model import (
    CATEGORIES,
    CST,
    Centre,
    LinkRecord,
    LinkRelation,
    MatterRecord,
    PartyKind,
    PartyRecord,
)
from policy.principal import Principal

from ..audit import AuditEntry, AuditStore, Decision
from ..triage import Deadline, Facts, NoRoute, RulesFile
from ..triage import Decision as Route
from .locks import KeyLocks
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
    links: tuple[LinkRecord, ...] = ()  # the new record's cross-references (a transfer's source)

    def fingerprint(self) -> str:
        # Links follow from the key (a transfer's key names its source), so they are left
        # out: a transfer claimed before links were sent still matches its retry.
        data = dataclasses.asdict(self)
        del data["links"]
        text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
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
    # a transfer whose source centre could not record the link yet (retried in the background)
    link_error: CentreError | None = None


class StoreHolder(Protocol):
    store: AuditStore | None


def refused(error: CentreError) -> bool:
    """The centre answered and said no (a 4xx other than throttling): sending the
    same request again cannot succeed, unlike a centre that was down or slow."""
    status = error.http_status
    return (isinstance(error, CentreBadResponse) and status is not None
            and 400 <= status < 500 and status not in (408, 429))


def draft_to_json(draft: MatterDraft) -> str:
    return json.dumps(dataclasses.asdict(draft), ensure_ascii=False, default=lambda e: e.value)


def draft_from_json(text: str) -> MatterDraft:
    """The stored draft; rows written before drafts carried links load with none."""
    data: dict[str, Any] = json.loads(text)

    def party(p: dict[str, Any]) -> PartyRecord:
        return PartyRecord(**{**p, "kind": PartyKind(p["kind"])})

    links = tuple(LinkRecord(LinkRelation(x["relation"]), Centre(x["centre"]), x["native_id"])
                  for x in data.get("links", ()))
    return MatterDraft(**{**data, "applicant": party(data["applicant"]),
                          "others": tuple(party(p) for p in data["others"]), "links": links})


def _sources(stored: Submission) -> tuple[LinkRecord, ...]:
    """Matters this row was transferred from: each gets TRANSFERRED_TO the new one."""
    if not stored.source:
        return ()
    return tuple(link for link in draft_from_json(stored.draft).links
                 if link.relation is LinkRelation.TRANSFERRED_FROM)


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
        self._locks = KeyLocks()  # one request per key in this process; pruned when idle

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
        async with self._locks.hold(scoped):
            return await self._submit(principal, filing, scoped, route, request_id, source)

    async def _submit(self, principal: Principal, filing: Filing, scoped: str, route: Route,
                      request_id: str, source: str | None) -> Filed:
        receipt = _new_receipt()
        draft = MatterDraft(
            reference=receipt, title=filing.title,
            category=filing.subject or (filing.category if filing.category in CATEGORIES else "其他"),
            description=filing.description, region_code=filing.region_code,
            applicant=filing.applicant, others=filing.others, kind=route.kind,
            channel=filing.channel, links=filing.links)
        until = self._lease_end()
        claim = Submission(  # a new row is ours from the insert on: reconcile leaves it alone
            key=scoped, receipt=receipt, fingerprint=filing.fingerprint(), owner=principal.sub or "-",
            applicant_id=filing.applicant.id_number or "", region_code=filing.region_code,
            centre=route.centre.value, rule_id=route.rule_id, draft=draft_to_json(draft),
            source=source, lease_until=until)
        stored, new = await self.store.claim(claim)
        if stored.fingerprint != claim.fingerprint:
            raise FilingError("IDEMPOTENCY_KEY_REUSED",
                              "该幂等键已用于另一份申请 / this idempotency key was used for a different filing")
        if stored.state in ("created", "done"):
            return await self._replay(stored, principal, route, request_id)
        if not new and not await self.store.lease(scoped, until):
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
        done, link_error = await self._complete(stored, record.native_id, "ok", principal, request_id, until)
        return Filed(stored.with_state("done" if done else "created", native_id=record.native_id), record,
                     route, self.deadlines(route, record), replayed=not new, link_error=link_error)

    async def _replay(self, stored: Submission, principal: Principal, route: Route,
                      request_id: str) -> Filed:
        """A retry of a filing the centre already holds; a ``created`` row's missing step
        is finished here by whoever gets its lease (else another process is on it)."""
        record = await self._load(stored)
        link_error = None
        if stored.state == "created" and stored.native_id is not None:
            until = self._lease_end()
            if await self.store.lease(stored.key, until):
                _, link_error = await self._complete(stored, stored.native_id, "reconciled", principal,
                                                     request_id, until)
        return Filed(stored, record, route, self.deadlines(route, record), replayed=True,
                     link_error=link_error)

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

    async def _complete(self, stored: Submission, native_id: str, outcome: str,
                        principal: Principal | None, request_id: str | None,
                        until: dt.datetime) -> tuple[bool, CentreError | None]:
        """The steps after the create, under the row's lease taken ``until``: a transfer's
        link at the source, the audit record, done. Whatever fails leaves the row
        ``created`` with its lease given back, for the next pass: (done, link error)."""
        sources = _sources(stored)
        link_error: CentreError | None = None
        try:
            await self._link_sources(stored, native_id, sources)
        except CentreError as exc:
            link_error = exc
            log.warning("filing %s: source link not written (%s, %s)", stored.receipt, exc.code,
                        "refused: finished without it" if refused(exc) else "stays created")
        # A refused link (the source record is gone) will never be written: the row is
        # finished with the refusal in its audit record instead of retried forever.
        final = link_error is not None and refused(link_error)
        audited = False
        if link_error is None or principal is not None or final:  # a retry's failure is only logged
            try:
                await self._audit(stored, outcome if link_error is None else "partial", None, principal,
                                  request_id, result=1, linked=(sources, link_error))
                audited = True
            except Exception as exc:  # the record exists: a later pass appends the audit record
                log.error("filing audit failed (%s); %s stays created", type(exc).__name__, stored.receipt)
        if (link_error is None or final) and audited:
            await self.store.mark_done(stored.key)
            return True, link_error
        await self.store.release(stored.key, until)
        return False, link_error

    async def _link_sources(self, stored: Submission, native_id: str,
                            sources: tuple[LinkRecord, ...]) -> None:
        here = LinkRecord(LinkRelation.TRANSFERRED_TO, Centre(stored.centre), native_id)
        for source in sources:
            connector = self.connectors[source.centre]
            await cast(WritableConnector, connector).add_link(source.native_id, here)
            forget = getattr(connector, "invalidate", None)  # a caching connector's copy predates it
            if callable(forget):
                forget([source.native_id])
            self.updates.changed(source.centre, source.native_id)  # and the other replicas' copies

    async def _audit(self, stored: Submission, outcome: str, error: str | None,
                     principal: Principal | None, request_id: str | None, result: int = 0,
                     linked: tuple[tuple[LinkRecord, ...], CentreError | None] = ((), None)) -> None:
        if self.audit.store is None:
            raise RuntimeError("audit store not open")
        sources, link_error = linked
        decisions = (Decision("deny" if error else "allow", f"triage:{stored.rule_id}",
                              centre=stored.centre),
                     *((Decision("deny", f"centre:{error}", centre=stored.centre),) if error else ()),
                     *(Decision("deny", f"link:{link_error.code}", centre=s.centre.value) if link_error
                       else Decision("allow", f"link:{LinkRelation.TRANSFERRED_TO.value}", centre=s.centre.value)
                       for s in sources))
        operation = "transferMatter" if stored.source else "submitMatter"
        await self.audit.store.append(AuditEntry(
            sub=principal.sub if principal else stored.owner,
            client_id=principal.client_id if principal else None, operation_name=operation,
            document_hash=None, purpose=f"filing {stored.receipt}",
            citizens=(stored.applicant_id,) if stored.applicant_id else (),
            centres=(stored.centre, *(s.centre.value for s in sources)), decisions=decisions,
            result_count=result, outcome=outcome, request_id=request_id))

    async def reconcile(self) -> int:
        """Settle rows left unfinished — by a crash (``pending``) or a failed step after the
        create (``created``: a transfer's source link, the audit record) — whose lease has
        expired and whose key no request of this process holds. Returns how many are done."""
        settled = 0
        for row in await self.store.unfinished():
            if self._locks.busy(row.key):
                continue  # a request of this process is on it: it finishes or gives the row back
            async with self._locks.hold(row.key):
                settled += await self._reconcile_one(row.key)
        return settled

    async def _reconcile_one(self, key: str) -> int:
        until = self._lease_end()
        if not await self.store.lease(key, until):
            return 0  # held by a request here or elsewhere, or finished meanwhile
        stored = await self.store.get(key)  # the row as it is now that the lease is ours
        if stored is None or stored.state not in ("pending", "created"):
            await self.store.release(key, until)  # failed: only the filer's retry tries again
            return 0
        try:
            native_id = stored.native_id
            if stored.state == "pending" or native_id is None:
                record = await self._settle(stored, look_first=True)
                await self.store.mark_created(key, record.native_id)
                native_id = record.native_id
            done, _ = await self._complete(stored, native_id, "reconciled", None, None, until)
        except CentreError as exc:
            if stored.state == "pending" and refused(exc):
                # The centre rejected the create itself; the same draft cannot succeed
                # later. The filer's retry gets the failure, as after a refusal in-request.
                await self.store.mark_failed(key, exc.code)
                await self._audit(stored, "failed", exc.code, None, None)
                log.warning("reconcile %s: refused by the centre (%s); marked failed",
                            stored.receipt, exc.code)
                return 0
            await self.store.release(key, until)
            log.warning("reconcile %s: centre %s", stored.receipt, exc.code)
            return 0
        return int(done)

    async def track(self, receipt: str) -> tuple[Submission, MatterRecord | None] | None:
        stored = await self.store.by_receipt(receipt)
        if stored is None:
            return None
        return stored, await self._load(stored)
