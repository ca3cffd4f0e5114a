"""GOVERNANCE (综治中心 / 网格): an Apollo Federation v2 subgraph (strawberry).

Grid events, residents (实有人口) and risk warnings. ``_entities`` resolves
``Resident`` by ``idNumber`` and ``GridEvent`` by ``eventNo``; unknown keys
resolve to ``null``. Under the ``partial`` fault every second found entity
of a request is dropped (``null``), like a flaky batch read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import strawberry
import strawberry.federation
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.types import Info

from onedoor.model import CST, Centre
from onedoor.regions import counties, get_region
from sandbox import intake
from sandbox.common import counter_party, step_times
from sandbox.control import is_partial
from sandbox.grid_inputs import AddReferralInput, ReportGridEventInput
from sandbox.lifecycle import EVENT_TYPES, STATUSES
from sandbox.people import GIVEN, SURNAMES
from sandbox.world import Matter, World, to_cst
from sandbox.writes import WriteStore, Written, control_app

__all__ = ["create_app", "schema"]

Ctx = dict[str, Any]
_STEPS = ("上报", "核实", "立案", "派遣", "处置", "反馈", "核查结案", "评价")
_LEVELS = ("RED", "ORANGE", "YELLOW", "BLUE")


@strawberry.federation.type(keys=["idNumber"])
class Resident:
    id_number: str
    name: str
    phone: str | None
    address: str | None
    region_code: str
    grid_code: str | None

    @classmethod
    def resolve_reference(cls, info: Info[Ctx, None], **rep: Any) -> Resident | None:
        citizen = info.context["world"].people.index_of(str(rep.get("idNumber", "")))
        if citizen is None or _drop(info):
            return None
        c = info.context["world"].citizen(citizen)
        return Resident(id_number=c.id_number, name=c.name, phone=c.phone, address=c.address,
                        region_code=c.region_code, grid_code=c.grid_code)


@strawberry.type
class EventParty:
    name: str
    id_number: str | None
    phone: str | None
    role: str


@strawberry.type
class EventStep:
    at: str
    step: str
    note: str | None


@strawberry.type
class Referral:
    kind: str
    ref_no: str
    system: str | None = None  # MEDIATION | LEGAL_SERVICE | PETITION | COURT, for TRANSFER_* kinds

    def as_json(self) -> dict[str, str]:
        native = {"kind": self.kind, "refNo": self.ref_no}
        return native | {"system": self.system} if self.system else native


def _referral(native: dict[str, Any]) -> Referral:
    return Referral(kind=native["kind"], ref_no=native["refNo"], system=native.get("system"))


def _linked(store: WriteStore, event: GridEvent) -> GridEvent:
    """The event with the referrals added through ``addReferral`` appended."""
    if not store.links:
        return event  # nothing added anywhere (the common case): skip the comparison
    native = [r.as_json() for r in event.referrals]
    added = store.with_links(Centre.GOVERNANCE, event.event_no, native)[len(native):]
    event.referrals = [*event.referrals, *map(_referral, added)]
    return event


@strawberry.federation.type(keys=["eventNo"])
class GridEvent:
    event_no: str
    title: str
    event_type: str
    status: str
    region_code: str
    grid_code: str
    reporter: str
    reported_at: str
    due_at: str | None
    closed_at: str | None
    parties: list[EventParty]
    steps: list[EventStep]
    referrals: list[Referral]

    @classmethod
    def resolve_reference(cls, info: Info[Ctx, None], **rep: Any) -> GridEvent | None:
        world: World = info.context["world"]
        store: WriteStore = info.context["writes"]
        event_no = str(rep.get("eventNo", ""))
        if store.get(Centre.GOVERNANCE, event_no) is None and (
                world.row_of(Centre.GOVERNANCE, event_no) is None or _drop(info)):
            return None
        return _one(world, store, event_no)


def _one(world: World, store: WriteStore, event_no: str) -> GridEvent | None:
    """A created or generated event, with its added referrals; ``None`` if unknown."""
    written = store.get(Centre.GOVERNANCE, event_no)
    if written is not None:
        return _linked(store, render_written(written))
    row = world.row_of(Centre.GOVERNANCE, event_no)
    return None if row is None else _generated(world, store, row)


def _generated(world: World, store: WriteStore, row: int) -> GridEvent:
    """A generated event as it is now: status changes and added referrals applied."""
    event = render_event(world, world.matter(row))
    moved = store.moved.get((Centre.GOVERNANCE, event.event_no))
    if moved is not None:
        event.status, event.closed_at = moved.status, _iso(moved.closed)
        event.steps = [*event.steps, *(EventStep(at=to_cst(t).isoformat(), step=s, note=None)
                                       for t, s in moved.steps)]
    return _linked(store, event)


@strawberry.federation.type(keys=["warningNo"])
class RiskWarning:
    warning_no: str
    level: str
    region_code: str
    summary: str
    raised_at: str

    @classmethod
    def resolve_reference(cls, info: Info[Ctx, None], **rep: Any) -> RiskWarning | None:
        wanted = rep.get("warningNo")
        return next((w for w in info.context["warnings"] if w.warning_no == wanted), None)


@strawberry.type
class GridEventPage:
    total_count: int
    items: list[GridEvent]


def _drop(info: Info[Ctx, None]) -> bool:
    ctx = info.context
    ctx["found"] = ctx.get("found", 0) + 1
    return bool(ctx["partial"] and ctx["found"] % 2 == 0)


def _iso(ts: int | None) -> str | None:
    return None if ts is None else to_cst(ts).isoformat()


def _dispatch(m: Matter, names: list[str]) -> tuple[int, int] | None:
    """派遣 at the dispatch itself: the moment the dispatch limit is met by."""
    return (names.index("派遣"), m.accepted) if "派遣" in names and m.accepted is not None else None


def render_event(world: World, m: Matter) -> GridEvent:
    rng = m.rng
    worker = SURNAMES[int(rng.integers(len(SURNAMES)))] + GIVEN[int(rng.integers(len(GIVEN)))]
    index = STATUSES[4].index(m.status)
    names = ["上报", "核实", "注销"] if m.status == "CANCELLED" else list(
        _STEPS[: index + 1 if index < 3 else index])
    steps = [EventStep(at=t.isoformat(), step=s, note=None)
             for t, s in zip(step_times(m, len(names), world.now_ts, _dispatch(m, names)), names, strict=True)]
    other = counter_party(world, m)
    referrals = []
    if m.side == 0 and m.story in (0, 5) and m.partner_id is not None:
        referrals.append(Referral(kind="MEDIATION" if m.story == 0 else "PETITION",
                                  ref_no=m.partner_id))
    event_type = EVENT_TYPES[m.category]
    return GridEvent(
        event_no=m.native_id, title=f"{get_region(m.region_code).name}{event_type}问题",
        event_type=event_type, status=m.status, region_code=m.region_code,
        grid_code=m.citizen.grid_code, reporter=worker, reported_at=to_cst(m.received).isoformat(),
        due_at=_iso(m.due), closed_at=_iso(m.closed),
        parties=[EventParty(name=m.citizen.name, id_number=m.stored_id, phone=m.citizen.phone,
                            role="COMPLAINANT"),
                 EventParty(name=other.name, id_number=other.id_number, phone=other.phone,
                            role="RESPONDENT")],
        steps=steps, referrals=referrals,
    )


def render_written(w: Written) -> GridEvent:
    """A grid event reported through ``reportGridEvent``."""
    f = w.fields
    limit = 3 if f["category"] in EVENT_TYPES[:-3] else 7  # dispatch: disputes 3 days, else 7
    parties = [EventParty(name=p["name"], id_number=p.get("id_number"), phone=p.get("phone"),
                          role=p.get("role") or "COMPLAINANT") for p in (f["applicant"], *f["others"])]
    return GridEvent(
        event_no=w.native_id, title=f.get("title") or f"{f['category']}问题",
        event_type=f["category"], status=w.status, region_code=f["region_code"],
        grid_code=f.get("grid_code") or f["region_code"], reporter=f.get("reporter") or "",
        reported_at=to_cst(w.received).isoformat(), due_at=_iso(w.received + limit * 86_400), closed_at=_iso(w.closed),
        parties=parties, steps=[EventStep(at=to_cst(t).isoformat(), step=s, note=None) for t, s in w.steps],
        referrals=[_referral(r) for r in f.get("related") or []])


@strawberry.type  # Relay style: the same clientMutationId returns the first event again
class ReportGridEventPayload:
    client_mutation_id: str | None
    grid_event: GridEvent


@strawberry.type
class AddReferralPayload:
    client_mutation_id: str | None
    grid_event: GridEvent | None  # null: no such event


@strawberry.type
class Mutation:
    @strawberry.mutation
    def report_grid_event(self, info: Info[Ctx, None],
                          input: ReportGridEventInput) -> ReportGridEventPayload:
        if input.event_type not in EVENT_TYPES or not input.parties:
            raise ValueError("unknown eventType or no parties")
        people = [{"name": p.name, "id_number": p.id_number, "phone": p.phone, "role": p.role} for p in input.parties]
        fields = {"title": input.title, "category": input.event_type,
                  "region_code": input.region_code, "grid_code": input.grid_code,
                  "reporter": input.reporter, "description": input.description,
                  "applicant": people[0], "others": people[1:],
                  "related": [Referral(kind=r.kind, ref_no=r.ref_no, system=r.system).as_json()
                              for r in input.referrals or []]}
        store: WriteStore = info.context["writes"]
        record, _ = store.add(Centre.GOVERNANCE, fields, status="REPORTED", first_step="上报",
                              key=input.client_mutation_id)
        return ReportGridEventPayload(client_mutation_id=input.client_mutation_id,
                                      grid_event=_linked(store, render_written(record)))

    @strawberry.mutation
    def add_referral(self, info: Info[Ctx, None], input: AddReferralInput) -> AddReferralPayload:
        """Add a referral to an existing event; the same one twice is kept once, so a retry
        is harmless. An unknown ``eventNo`` answers ``gridEvent: null`` (as ``_entities``)."""
        store: WriteStore = info.context["writes"]
        world: World = info.context["world"]
        if not (input.kind and input.ref_no):
            raise ValueError("kind and refNo are required")
        if _one(world, store, input.event_no) is not None:
            referral = Referral(kind=input.kind, ref_no=input.ref_no, system=input.system or None)
            store.add_link(Centre.GOVERNANCE, input.event_no, referral.as_json())
        return AddReferralPayload(client_mutation_id=input.client_mutation_id,
                                  grid_event=_one(world, store, input.event_no))


def _ts(raw: str | None) -> int | None:
    if raw is None:
        return None
    value = dt.datetime.fromisoformat(raw)
    return int((value if value.tzinfo else value.replace(tzinfo=CST)).timestamp())


def _indices(values: list[str] | None, table: tuple[str, ...], name: str) -> list[int] | None:
    if values is None:
        return None
    unknown = [v for v in values if v not in table]
    if unknown:
        raise ValueError(f"unknown {name}: {unknown}")
    return [table.index(v) for v in values]


@strawberry.type
class Query:
    @strawberry.field
    def grid_events(self, info: Info[Ctx, None], id_numbers: list[str] | None = None,
                    region_prefixes: list[str] | None = None,
                    statuses: list[str] | None = None, event_types: list[str] | None = None,
                    reported_from: str | None = None, reported_to: str | None = None,
                    overdue: bool | None = None, offset: int = 0,
                    limit: int = 20) -> GridEventPage:
        if not offset >= 0 and 1 <= limit <= 100:
            raise ValueError("offset must be ≥ 0 and limit within [1, 100]")
        world: World = info.context["world"]
        store: WriteStore = info.context["writes"]
        rows = store.search_world(
            Centre.GOVERNANCE, party_ids=id_numbers, prefixes=region_prefixes,
            statuses=_indices(statuses, STATUSES[4], "status"),
            categories=_indices(event_types, EVENT_TYPES, "eventType"),
            received_from=_ts(reported_from), received_to=_ts(reported_to), overdue=overdue)
        narrowed = any(v is not None for v in (statuses, event_types, reported_from, reported_to,
                                                overdue))
        new = [] if narrowed else info.context["writes"].search(Centre.GOVERNANCE, id_numbers,
                                                                region_prefixes)
        items = [_linked(store, render_written(w)) for w in new[offset: offset + limit]]
        items += [_generated(world, store, int(r))
                  for r in rows[max(0, offset - len(new)): max(0, offset + limit - len(new))]]
        return GridEventPage(total_count=len(rows) + len(new), items=items)

    @strawberry.field
    def risk_warnings(self, info: Info[Ctx, None], region_prefixes: list[str] | None = None,
                      limit: int = 20) -> list[RiskWarning]:
        warnings: list[RiskWarning] = info.context["warnings"]
        chosen = [w for w in warnings if region_prefixes is None
                  or any(w.region_code.startswith(p) for p in region_prefixes)]
        return chosen[: max(0, limit)]


schema = strawberry.federation.Schema(query=Query, mutation=Mutation, types=[Resident, GridEvent, RiskWarning],
                                      federation_version="2.11")


def risk_warnings(world: World) -> list[RiskWarning]:
    """Two warnings per county in the last 60 days, newest first."""
    rng = np.random.default_rng((world.seed, 7_777))
    out = []
    for county in counties():
        for k in range(2):
            raised = world.now_ts - int(rng.integers(3600, 60 * 86_400))
            kind = EVENT_TYPES[int(rng.integers(len(EVENT_TYPES)))]
            out.append(RiskWarning(
                warning_no=f"YJ{county.code}{to_cst(raised).year}{k + 1:04d}",
                level=_LEVELS[int(rng.integers(4))], region_code=county.code,
                summary=f"{county.name}{kind}类矛盾纠纷近期集中上升，需加强研判", raised_at=to_cst(
                    raised).isoformat()))
    return sorted(out, key=lambda w: w.raised_at, reverse=True)


class _App(GraphQL[Ctx, None]):
    def __init__(self, world: World, writes: WriteStore) -> None:
        super().__init__(schema, graphql_ide=None)
        self.world = world
        self.writes = writes
        self.warnings = risk_warnings(world)

    async def get_context(self, request: Request | WebSocket,
                          response: Response | WebSocket) -> Ctx:
        return {"request": request, "response": response, "world": self.world, "writes": self.writes,
                "warnings": self.warnings, "partial": is_partial(request.scope), "found": 0}


def create_app(world: World, *, writes: WriteStore | None = None) -> Starlette:
    graphql = _App(world, writes or WriteStore(world))
    return Starlette(routes=[Route("/graphql", graphql, methods=["GET", "POST"])])


def control(world: World, writes: WriteStore) -> Starlette:
    return control_app(Centre.GOVERNANCE, writes, intake.STEPS[4], intake.CLOSED[4])
