"""An in-memory centre for schema tests: the Connector protocol over a list of
records, counting calls the way /_sandbox/stats counts requests."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence

from connectors.base import Health, ListQuery, MatterPage
from connectors.errors import CentreError
from onedoor.model import (
    CST,
    Centre,
    EventRecord,
    LinkRecord,
    MatterRecord,
    MatterStatus,
    PartyRecord,
    ResidentRecord,
)


class FakeCentre:
    def __init__(
        self,
        centre: Centre,
        records: Sequence[MatterRecord],
        residents: Sequence[ResidentRecord] = (),
    ) -> None:
        self.centre = centre
        self.records = list(records)
        self.residents = {r.id_number: r for r in residents}
        self.calls: Counter[str] = Counter()
        self.batches: list[int] = []
        self.fail: CentreError | None = None

    def _check(self, kind: str) -> None:
        self.calls[kind] += 1
        if self.fail is not None:
            raise self.fail

    async def get_many(self, native_ids: Sequence[str]) -> Mapping[str, MatterRecord]:
        self._check("get_many")
        self.batches.append(len(native_ids))
        wanted = set(native_ids)
        return {r.native_id: r for r in self.records if r.native_id in wanted}

    async def find_by_citizens(
        self, id_numbers: Sequence[str]
    ) -> Mapping[str, Sequence[MatterRecord]]:
        self._check("find_by_citizens")
        return {
            i: [r for r in self.records if any(p.id_number == i for p in r.parties)]
            for i in id_numbers
        }

    async def list_matters(self, query: ListQuery) -> MatterPage:
        self._check("list_matters")
        hits = [
            r for r in self.records
            if (query.region_prefixes is None
                or any(r.region_code.startswith(p) for p in query.region_prefixes))
            and (query.statuses is None or r.status in query.statuses)
            and (query.categories is None or r.category in query.categories)
            and (query.received_from is None or r.received_at >= query.received_from)
            and (query.received_to is None or r.received_at <= query.received_to)
        ]
        hits.sort(key=lambda r: r.native_id, reverse=True)
        hits.sort(key=lambda r: r.received_at, reverse=True)
        return MatterPage(items=tuple(hits[: query.limit]), total=len(hits))

    async def get_residents(self, id_numbers: Sequence[str]) -> Mapping[str, ResidentRecord]:
        self._check("get_residents")
        return {i: self.residents[i] for i in id_numbers if i in self.residents}

    async def health(self) -> Health:
        return Health(self.centre, ok=True, latency_ms=0.0)

    async def aclose(self) -> None:
        return None


def record(
    centre: Centre,
    native_id: str,
    *,
    at: dt.datetime,
    region: str = "632301001001",
    party: str | None = None,
    links: Sequence[LinkRecord] = (),
    status: MatterStatus = MatterStatus.ACCEPTED,
) -> MatterRecord:
    parties = (PartyRecord(role="APPLICANT", name="张三", id_number=party,
                           phone="13812345678"),) if party else ()
    return MatterRecord(
        centre=centre, native_id=native_id, reference=native_id, category="劳动争议",
        title=f"事项 {native_id}", status=status, centre_status="native", region_code=region,
        received_at=at, parties=parties, events=(EventRecord(at=at, action="登记"),),
        links=tuple(links),
    )


def at(day: int, hour: int = 9) -> dt.datetime:
    return dt.datetime(2024, 3, day, hour, tzinfo=CST)
