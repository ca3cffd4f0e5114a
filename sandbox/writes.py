"""The write side of the sandbox: records created through the centres' create
APIs, kept in a small mutable overlay on top of the read-only :class:`World`.

The World is generated columns and cannot grow, so every centre's read paths
(get by id, search by party) consult this overlay first. Created ids use the
centre's own native format with sequence numbers past the generated ones, so
``World.row_of`` never confuses the two.

Cross-references added to an existing record (each centre's own "add a link"
endpoint, used when a matter is transferred away) live in a second overlay keyed
by (centre, native id), so they apply to generated and created records alike;
each centre's renderer appends them to the record's native links. Adding the
same native link twice stores it once, which makes a retried write harmless.

Status changes (``POST /_sandbox/matters/{id}/status``) exist so tests and demos
can move a record along its native lifecycle; centres that have webhooks
(MEDIATION, LITIGATION, GOVERNANCE) then call every registered URL back, as the
real systems do, each callback signed with the secret that centre shares with
the gateway (``X-OneDoor-Signature``, API.md). PETITIONS and LEGAL_SERVICES have
none: the gateway must poll them. A created record changes in place; a generated
one gets a :class:`Moved` overlay (its status now, the steps added, its closing
time) that every renderer applies and that :meth:`WriteStore.search_world`
honours in status filters.

>>> store = WriteStore(world)
>>> record, replayed = store.add(Centre.MEDIATION, fields, key="k1")
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from onedoor.model import Centre
from onedoor.regions import PROVINCE_ABBREVIATIONS
from sandbox.lifecycle import STATUSES
from sandbox.world import CENTRES, World, to_cst

__all__ = ["SIGNATURE_HEADER", "WEBHOOK_CENTRES", "Moved", "WriteStore", "Written", "control_app",
           "signature"]

WEBHOOK_CENTRES = frozenset({Centre.MEDIATION, Centre.LITIGATION, Centre.GOVERNANCE})
_LEGAL_PREFIX = {"legal_aid": "FY", "consultation": "ZX"}
SIGNATURE_HEADER = "X-OneDoor-Signature"


@dataclass
class Written:
    """One created record in centre-neutral fields; each centre renders it natively.

    ``fields`` holds what the create request carried (title, category, region_code,
    applicant, others, kind, channel, description, external_ref, related …).
    """

    centre: Centre
    native_id: str
    fields: dict[str, Any]
    received: int
    status: str
    steps: list[tuple[int, str]] = field(default_factory=list)
    closed: int | None = None

    def party_ids(self) -> list[str]:
        people = [self.fields.get("applicant") or {}, *(self.fields.get("others") or [])]
        return [str(p["id_number"]) for p in people if p.get("id_number")]


@dataclass
class Moved:
    """Where a *generated* record's lifecycle is now, after status changes: the world
    keeps its generated history; renderers append ``steps`` and show ``status`` and
    ``closed`` (``None``: open again) instead of the generated ones."""

    centre: Centre
    native_id: str
    status: str
    steps: list[tuple[int, str]] = field(default_factory=list)
    closed: int | None = None


class WriteStore:
    """Created records, idempotency keys and webhook subscriptions of all centres.

    ``webhook_secrets``: the secret each centre with webhooks signs its callbacks
    with (configured on both sides, as with a real centre); a centre without one
    sends them unsigned, and the gateway refuses them.
    """

    def __init__(self, world: World, webhook_secrets: Mapping[Centre, str] | None = None) -> None:
        self.world = world
        self.webhook_secrets = dict(webhook_secrets or {})
        self.records: dict[Centre, dict[str, Written]] = {c: {} for c in Centre}
        self.keys: dict[tuple[Centre, str], str] = {}
        self.hooks: dict[Centre, list[str]] = {c: [] for c in Centre}
        self.created: Counter[Centre] = Counter()
        self.links: dict[tuple[Centre, str], list[dict[str, Any]]] = {}
        self.moved: dict[tuple[Centre, str], Moved] = {}
        # Every change, in order, per centre (ids may repeat): the changed-since feeds
        # read it (sandbox/feeds.py); a position in it is a change's sequence number.
        self.journal: dict[Centre, list[str]] = {c: [] for c in Centre}
        # Callbacks on their way (held so the event loop does not drop them mid-flight).
        self.deliveries: set[asyncio.Task[int]] = set()

    def _native_id(self, centre: Centre, fields: dict[str, Any], now: int) -> str:
        seq = self.world.count(centre) + len(self.records[centre]) + 1
        county = str(fields["region_code"])[:6]
        year = to_cst(now).year
        if centre is Centre.MEDIATION:
            return f"TJ{county}{year}{seq:05d}"
        if centre is Centre.LEGAL_SERVICES:
            prefix = _LEGAL_PREFIX.get(str(fields.get("kind")), "ZX")
            return f"{prefix}{year}{county}{seq:06d}"
        if centre is Centre.PETITIONS:
            return f"XF{county}{year}{seq:06d}"
        if centre is Centre.LITIGATION:
            court = PROVINCE_ABBREVIATIONS[county[:2]] + county[2:]
            return f"（{year}）{court}{fields.get('kind') or '诉前调'}{seq}号"
        return f"WG{county}{year}{seq:06d}"

    def add(self, centre: Centre, fields: dict[str, Any], *, status: str, first_step: str,
            key: str | None = None) -> tuple[Written, bool]:
        """Create a record; with ``key`` (the centre's idempotency mechanism) a repeat
        returns the first record and ``True`` instead of creating another."""
        if key is not None and (known := self.keys.get((centre, key))) is not None:
            return self.records[centre][known], True
        now = int(time.time())
        native_id = self._native_id(centre, fields, now)
        record = Written(centre, native_id, dict(fields), now, status, [(now, first_step)])
        self.records[centre][native_id] = record
        self.created[centre] += 1
        self.touch(centre, native_id)
        self.call_back(centre, native_id, "created")
        if key is not None:
            self.keys[(centre, key)] = native_id
        return record, False

    def touch(self, centre: Centre, native_id: str) -> None:
        """Note that a record changed (created, moved, linked)."""
        self.journal[centre].append(native_id)

    def get(self, centre: Centre, native_id: str) -> Written | None:
        return self.records[centre].get(native_id)

    def search(self, centre: Centre, party_ids: list[str] | None,
               prefixes: list[str] | None) -> list[Written]:
        """Created records matching the party and region filters, newest first."""
        found = []
        for record in self.records[centre].values():
            if party_ids is not None and not set(party_ids) & set(record.party_ids()):
                continue
            region = str(record.fields["region_code"])
            if prefixes is not None and not any(region.startswith(p) for p in prefixes):
                continue
            found.append(record)
        return sorted(found, key=lambda r: (r.received, r.native_id), reverse=True)

    def add_link(self, centre: Centre, native_id: str, link: dict[str, Any]) -> bool:
        """Keep a native cross-reference for a record; ``False`` if it was already kept
        (idempotent by content, as the centres compare a link's fields)."""
        held = self.links.setdefault((centre, native_id), [])
        if link in held:
            return False
        held.append(dict(link))
        self.touch(centre, native_id)
        self.call_back(centre, native_id, "linked")
        return True

    def call_back(self, centre: Centre, native_id: str, change: str) -> None:
        """A centre with webhooks calls every registered URL back after a create or an
        added link, as after a status move, so a copy kept by push (the gateway's
        projection) learns of it at once. Delivered in the background: the centre
        answers its caller first, as real systems queue their callbacks."""
        if centre not in WEBHOOK_CENTRES or not self.hooks[centre]:
            return
        record = self.get(centre, native_id) or self.moved.get((centre, native_id))
        if record is None:
            row = self.world.row_of(centre, native_id)
            status = self.world.matter(row).status if row is not None else ""
        else:
            status = record.status
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # a store used outside a server (scripts, doctests) has nobody to call
            return
        body = _webhook_body(centre, native_id, status, int(time.time()), change)
        task = loop.create_task(
            _deliver(list(self.hooks[centre]), body, self.webhook_secrets.get(centre)))
        self.deliveries.add(task)
        task.add_done_callback(self.deliveries.discard)

    def with_links(self, centre: Centre, native_id: str, native: list[Any]) -> list[Any]:
        """A record's native links followed by the added ones it does not already hold."""
        added = self.links.get((centre, native_id)) if self.links else None
        return native + [x for x in added if x not in native] if added else native

    def lifecycle(self, centre: Centre, native_id: str) -> Written | Moved | None:
        """What a status change moves: a created record itself, or a generated record's
        overlay (made on first use); ``None`` for a record the centre does not hold."""
        if (written := self.get(centre, native_id)) is not None:
            return written
        row = self.world.row_of(centre, native_id)
        if row is None:
            return None
        key = (centre, native_id)
        if key not in self.moved:
            m = self.world.matter(row)
            self.moved[key] = Moved(centre, native_id, m.status, closed=m.closed)
        return self.moved[key]

    def search_world(self, centre: Centre, *, statuses: list[int] | None = None,
                     **filters: Any) -> npt.NDArray[np.int64]:
        """``World.search`` with status changes applied: a generated record is filtered
        by the status it has now, not the one it was generated with."""
        moved: dict[int, str] = {}
        for (c, native_id), m in self.moved.items():
            if c is centre and (row := self.world.row_of(c, native_id)) is not None:
                moved[row] = m.status
        if statuses is None or not moved:
            return self.world.search(centre, statuses=statuses, **filters)
        rows = self.world.search(centre, **filters)  # every status: the current one decides
        current = self.world.cols.status[rows].astype(np.int64)
        table = STATUSES[CENTRES.index(centre)]
        for row, status in moved.items():
            current[rows == row] = table.index(status)
        return np.asarray(rows[np.isin(current, statuses)], np.int64)

    def find(self, native_id: str) -> Written | None:
        return next((r[native_id] for r in self.records.values() if native_id in r), None)


# What changed, in each centre's own vocabulary (API.md, "Signed callbacks").
_CHANGES = {
    Centre.MEDIATION: {"status": "case.status_changed", "created": "case.created", "linked": "case.related_added"},
    Centre.LITIGATION: {"status": "CASE_STATE_CHANGED", "created": "CASE_CREATED", "linked": "CASE_RELATED_ADDED"},
    Centre.GOVERNANCE: {"status": "STATUS_CHANGED", "created": "REPORTED", "linked": "REFERRAL_ADDED"},
}


def _webhook_body(centre: Centre, native_id: str, status: str, at: int, change: str = "status") -> dict[str, Any]:
    """Each centre's own callback shape."""
    kind = _CHANGES[centre][change]
    if centre is Centre.MEDIATION:
        return {"event": kind, "caseNo": native_id, "statusCode": status,
                "time": to_cst(at).strftime("%Y-%m-%d %H:%M:%S")}
    if centre is Centre.LITIGATION:
        return {"type": kind, "caseNumber": native_id, "state": status, "ts": at * 1000}
    return {"eventNo": native_id, "status": status, "at": to_cst(at).isoformat(), "change": kind}


def control_app(centre: Centre, store: WriteStore, steps: dict[str, str],
                closed: frozenset[str] = frozenset()) -> Starlette:
    """``/_sandbox/webhooks`` and ``/_sandbox/matters/{id}/status`` of one centre.

    ``steps`` maps a native status to the step name recorded in the history.
    """

    async def webhooks(request: Request) -> Response:
        if centre not in WEBHOOK_CENTRES:
            return JSONResponse({"error": f"{centre.value} has no webhooks; poll it"},
                                status_code=501)
        if request.method == "GET":
            return JSONResponse({"urls": store.hooks[centre]})
        try:
            url = json.loads(await request.body())["url"]
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                raise ValueError(url)
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": "body must be {\"url\": \"http(s)://…\"}"},
                                status_code=400)
        if url not in store.hooks[centre]:
            store.hooks[centre].append(url)
        return JSONResponse({"urls": store.hooks[centre]}, status_code=201)

    async def status(request: Request) -> Response:
        native_id = request.path_params["native_id"]
        if store.get(centre, native_id) is None and store.world.row_of(centre, native_id) is None:
            return JSONResponse({"error": "no such record"}, status_code=404)
        try:
            wanted = json.loads(await request.body())["status"]
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": "body must be {\"status\": code}"}, status_code=400)
        if wanted not in steps:
            return JSONResponse({"error": f"unknown status; one of {sorted(steps)}"},
                                status_code=400)
        record = store.lifecycle(centre, native_id)
        assert record is not None  # checked above
        now = max(int(time.time()), record.steps[-1][0] if record.steps else 0)
        record.status = wanted
        record.steps.append((now, steps[wanted]))
        record.closed = now if wanted in closed else None
        store.touch(centre, native_id)
        delivered = 0
        if centre in WEBHOOK_CENTRES:
            body = _webhook_body(centre, record.native_id, record.status, record.steps[-1][0])
            delivered = await _deliver(store.hooks[centre], body, store.webhook_secrets.get(centre))
        return JSONResponse({"id": record.native_id, "status": wanted, "delivered": delivered})

    async def created(_: Request) -> Response:
        return JSONResponse({"centre": centre.value, "created": store.created[centre],
                             "ids": list(store.records[centre])})

    return Starlette(routes=[
        Route("/_sandbox/webhooks", webhooks, methods=["GET", "POST"]),
        Route("/_sandbox/matters/{native_id:path}/status", status, methods=["POST"]),
        Route("/_sandbox/created", created),
    ])


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """``t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>``, as API.md specifies."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


async def _deliver(urls: list[str], body: dict[str, Any], secret: str | None) -> int:
    """POST the callback to every URL, signed when the centre has a secret; a receiver
    that fails does not stop the others. Each attempt is signed afresh (its own time)."""
    payload = json.dumps(body, ensure_ascii=False).encode()
    delivered = 0
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0)) as client:
        for url in urls:
            headers = {"Content-Type": "application/json"}
            if secret is not None:
                headers[SIGNATURE_HEADER] = signature(secret, payload, int(time.time()))
            try:
                response = await client.post(url, content=payload, headers=headers)
                delivered += response.status_code < 300
            except httpx.HTTPError:
                continue
    return delivered


def iso(ts: int | None) -> str | None:
    return None if ts is None else to_cst(ts).isoformat()


def day(ts: int) -> dt.date:
    return to_cst(ts).date()
