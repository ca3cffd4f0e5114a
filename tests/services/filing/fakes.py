"""In-memory writable centres and an audit sink for the filing service's own tests.

``WritableFake`` keeps records like a centre with an idempotency key (a repeat of a
reference returns the first record), keeps added links once, and can be switched
``down`` to answer every write with :class:`CentreUnavailable`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence

from connectors.base import Health, ListQuery, MatterDraft, MatterPage
from connectors.errors import CentreBadResponse, CentreUnavailable
from onedoor.model import CST, Centre, LinkRecord, MatterRecord, MatterStatus, PartyRecord
from policy.principal import Principal
from services.audit import AuditEntry
from services.filing import Filing, Submission
from services.filing.service import draft_to_json

APPLICANT = "632301198001011237"
CLERK = Principal(sub="clerk-1", client_id="window", scopes=frozenset({"matters:write"}),
                  regions=("632301",), citizen_id=None, authenticated=True)


class WritableFake:
    idempotent_writes = True

    def __init__(self, centre: Centre) -> None:
        self.centre = centre
        self.records: dict[str, MatterRecord] = {}
        self.by_reference: dict[str, str] = {}
        self.creates = 0
        self.link_writes = 0
        self.down = False
        self.refuse = False  # answers 400 to creates, as a centre rejecting the body does

    def seed(self, native_id: str) -> MatterRecord:
        """A record the centre already holds (as if generated)."""
        record = MatterRecord(centre=self.centre, native_id=native_id, reference=native_id, category="劳动争议",
                              title="原事项", status=MatterStatus.ACCEPTED, centre_status="受理",
                              region_code="632301001001", received_at=dt.datetime(2025, 1, 2, tzinfo=CST),
                              parties=(PartyRecord(role="APPLICANT", name="张三", id_number=APPLICANT),))
        self.records[native_id] = record
        return record

    async def create(self, draft: MatterDraft) -> MatterRecord:
        if self.down:
            raise CentreUnavailable(self.centre, detail="fake down")
        if self.refuse:
            raise CentreBadResponse(self.centre, http_status=400, detail="POST -> 400")
        self.creates += 1
        known = self.by_reference.get(draft.reference)
        if known is not None:
            return self.records[known]
        native_id = f"{self.centre.value[:2]}-{len(self.records) + 1}"
        record = dataclasses.replace(self.seed(native_id), title=draft.title, links=draft.links)
        self.records[native_id] = record
        self.by_reference[draft.reference] = native_id
        return record

    async def find_created(self, draft: MatterDraft) -> MatterRecord | None:
        return None

    async def add_link(self, native_id: str, link: LinkRecord) -> MatterRecord:
        if self.down:
            raise CentreUnavailable(self.centre, detail="fake down")
        self.link_writes += 1
        if native_id not in self.records:
            raise CentreBadResponse(self.centre, http_status=404, detail="POST -> 404")
        record = self.records[native_id]
        if link not in record.links:
            record = self.records[native_id] = dataclasses.replace(record, links=(*record.links, link))
        return record

    async def get_many(self, native_ids: Sequence[str]) -> Mapping[str, MatterRecord]:
        return {i: self.records[i] for i in native_ids if i in self.records}

    async def find_by_citizens(self, id_numbers: Sequence[str]) -> Mapping[str, Sequence[MatterRecord]]:
        return {}

    async def list_matters(self, query: ListQuery) -> MatterPage:
        return MatterPage((), 0)

    async def health(self) -> Health:
        return Health(self.centre, ok=True, latency_ms=0)

    async def aclose(self) -> None:
        return None


def writable_centres() -> dict[Centre, WritableFake]:
    return {c: WritableFake(c) for c in Centre}


class AuditSink:
    """The audit holder the service writes through (``.store.append``)."""

    def __init__(self) -> None:
        self.store = self
        self.entries: list[AuditEntry] = []

    async def append(self, entry: AuditEntry) -> None:
        self.entries.append(entry)


def filing(**changes: object) -> Filing:
    base = Filing(applicant=PartyRecord(role="APPLICANT", name="张三", id_number=APPLICANT),
                  category="劳动争议", region_code="632301001001", title="拖欠工资", description="三个月")
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def pending_row(key: str, centre: Centre, *, lease_until: dt.datetime | None,
                draft_links: tuple[LinkRecord, ...] = (), source: str | None = None) -> Submission:
    """A row as a request leaves it right after its claim (``pending``)."""
    draft = MatterDraft(reference=f"R-{key}", category="劳动争议", title="拖欠工资", description="三个月",
                        region_code="632301001001",
                        applicant=PartyRecord(role="APPLICANT", name="张三", id_number=APPLICANT),
                        links=draft_links)
    return Submission(key=key, receipt=f"R-{key}", fingerprint="f", owner="clerk-1", applicant_id=APPLICANT,
                      region_code="632301001001", centre=centre.value, rule_id="MATTER-DISPUTE",
                      draft=draft_to_json(draft), source=source, lease_until=lease_until)
