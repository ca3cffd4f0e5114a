"""Issue 5 end to end: one window, one trip — exactly once, crash recovery,
bad input that creates nothing, tracking and audit (real sandbox sockets)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from onedoor.identifiers import make_resident_id
from onedoor.model import CST, Centre, PartyRecord
from onedoor.periods import DeadlineUnknown, due_at
from sandbox.people import village_table
from services.filing import Filing, FilingService, Submission

from .filing_harness import Gateway, start_gateway

pytestmark = pytest.mark.asyncio(loop_scope="module")
VILLAGE = next(c for c in village_table()[0] if c.startswith("632322"))
SUBMIT = """mutation F($input: SubmitMatterInput!, $key: String!) {
  submitMatter(input: $input, idempotencyKey: $key) {
    receipt centre replayed rule { id basis reason version } deadlines { name law dueAt }
    matter { id centre reference status title parties { name idNumber } }
  }
}"""
TRACK = "query T($r: String!) { track(receipt: $r) { id centre reference centreStatus } }"


def resident(n: int) -> str:
    return make_resident_id("632322", dt.date(1975, 3, 9), 100 + n)


def filing_input(applicant: str, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "applicants": [{"name": "才让", "idNumber": applicant, "phone": "13912345678"}],
        "otherParties": [{"name": "某建筑工程有限公司"}],
        "category": "劳动争议", "regionCode": VILLAGE, "description": "工地拖欠三个月工资",
        "channel": "WINDOW", "attachments": [{"name": "欠条.jpg", "sizeBytes": 20480}],
    }
    return {**base, **changes}


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def gw(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Gateway]:
    async with start_gateway(tmp_path_factory.mktemp("filing")) as gateway:
        yield gateway


@pytest.mark.parametrize(("category", "centre", "n"), [
    ("劳动争议", Centre.MEDIATION, 1),  # the centre honours an Idempotency-Key
    ("申诉求决", Centre.PETITIONS, 2),  # the centre has no idempotency at all
])
async def test_fifty_concurrent_retries_make_one_record_and_one_receipt(
        gw: Gateway, category: str, centre: Centre, n: int) -> None:
    applicant = resident(n)
    token = gw.token("citizen", sub=applicant)
    before, calls = gw.created(centre), await gw.create_calls()
    bodies = await asyncio.gather(*(
        gw.query(SUBMIT, token, input=filing_input(applicant, category=category), key=f"retry-{n}-xyz")
        for _ in range(50)))
    assert all("errors" not in b for b in bodies), bodies[0]
    payloads = [b["data"]["submitMatter"] for b in bodies]
    assert len({p["receipt"] for p in payloads}) == 1
    assert len({p["matter"]["id"] for p in payloads}) == 1
    assert sum(not p["replayed"] for p in payloads) == 1
    assert gw.created(centre) == before + 1 and await gw.create_calls() == calls + 1
    first = payloads[0]
    assert first["centre"] == centre.value and first["matter"]["parties"][0]["idNumber"] == applicant
    tracked = await gw.query(TRACK, token, r=first["receipt"])
    assert tracked["data"]["track"]["id"] == first["matter"]["id"]


async def test_payload_names_the_rule_and_the_statutory_deadline(gw: Gateway) -> None:
    applicant = resident(3)
    body = await gw.query(SUBMIT, gw.token("caseworker"), key="petition-deadline-1",
                          input=filing_input(applicant, category="检举控告", subject="征地拆迁"))
    payload = body["data"]["submitMatter"]
    assert payload["centre"] == "PETITIONS"
    assert payload["rule"]["id"] == "MATTER-PETITION" and payload["rule"]["basis"] == "MATTER"
    assert "信访工作条例" in payload["rule"]["reason"] and payload["rule"]["version"]
    (deadline,) = payload["deadlines"]
    assert "第22条" in deadline["law"]
    # 15 days from registration (Art.22), counted by onedoor.periods; null in a year with no holiday notice yet.
    try:
        expected: dt.datetime | None = due_at(dt.datetime.now(CST), days=15)
    except DeadlineUnknown:
        expected = None
    assert (deadline["dueAt"] and dt.datetime.fromisoformat(deadline["dueAt"])) == expected
    records, _ = await gw.audit.query(applicant)
    filing_records = [r for r in records if r.operation_name == "submitMatter"]
    assert any(d.reason == "triage:MATTER-PETITION" for r in filing_records for d in r.decisions)


class _CrashAfterCreate:
    """The process "dies" after the centre created the record, before it was noted."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def mark_created(self, key: str, native_id: str) -> None:
        raise SystemExit("killed between the centre's create and the response")


@pytest.mark.parametrize(("category", "centre", "n"), [
    ("申诉求决", Centre.PETITIONS, 4), ("法律援助", Centre.LEGAL_SERVICES, 5),
    ("邻里", Centre.MEDIATION, 6),
])
async def test_crash_between_create_and_answer_then_restart(
        gw: Gateway, category: str, centre: Centre, n: int) -> None:
    applicant = resident(n)
    from policy.principal import Principal
    citizen = Principal(sub=applicant, client_id="portal", scopes=frozenset({"citizen:self"}),
                        regions=(), citizen_id=applicant, authenticated=True)
    crashing = FilingService(_CrashAfterCreate(gw.store), gw.service.connectors, gw.service.audit,
                             lease_seconds=0)
    filing = Filing(applicant=PartyRecord(role="APPLICANT", name="卓玛", id_number=applicant),
                    category=category, subject="劳动争议", region_code=VILLAGE, title="请求",
                    description="请求帮助")
    before = gw.created(centre)
    with pytest.raises(SystemExit):
        await crashing.submit(citizen, filing, f"crash-key-{n}", request_id="r-crash")
    assert gw.created(centre) == before + 1
    (pending,) = [s for s in await gw.store.unfinished() if s.applicant_id == applicant]
    assert pending.state == "pending" and pending.native_id is None
    assert await gw.service.reconcile() >= 1  # the restarted gateway settles it at start
    settled = await gw.store.by_receipt(pending.receipt)
    assert isinstance(settled, Submission) and settled.state == "done" and settled.native_id
    assert gw.created(centre) == before + 1  # still exactly one record at the centre
    tracked = await gw.query(TRACK, gw.token("citizen", sub=applicant), r=pending.receipt)
    assert tracked["data"]["track"]["reference"] == settled.native_id
    again = await gw.service.submit(citizen, filing, f"crash-key-{n}", request_id="r-again")
    assert again.replayed and again.submission.receipt == pending.receipt
    assert gw.created(centre) == before + 1


BAD = [
    ({"applicants": [{"name": "张三", "idNumber": "11010519491231002Y"}]}, "input.applicants[0].idNumber",
     "format"),
    ({"applicants": [{"name": "张三", "idNumber": "110105194912310021"}]}, "input.applicants[0].idNumber",
     "checksum"),
    ({"applicants": [{"name": "张三"}]}, "input.applicants[0].idNumber", "missing"),
    ({"applicants": [{"name": "张三", "idNumber": make_resident_id("632322", dt.date(1975, 3, 9), 99),
                      "address": "路" * 201}]}, "input.applicants[0].address", "too_long"),
    ({"applicants": []}, "input.applicants", "missing"),
    ({"regionCode": "999999"}, "input.regionCode", "unknown"),
    ({"regionCode": "63-23"}, "input.regionCode", "format"),
    ({"category": "外星人入侵"}, "input.category", "unknown"),
    ({"subject": "不存在"}, "input.subject", "unknown"),
    ({"description": "  "}, "input.description", "missing"),
    ({"description": "长" * 2001}, "input.description", "too_long"),
    ({"title": "题" * 101}, "input.title", "too_long"),
    ({"attachments": [{"name": "大.mp4", "sizeBytes": 30 * 1024 * 1024}]}, "input.attachments[0].sizeBytes",
     "too_large"),
    ({"otherParties": [{"name": "某公司", "organisationCode": "91630100MA00000000"}]},
     "input.otherParties[0].organisationCode", "checksum"),
]


@pytest.mark.parametrize(("change", "field", "reason"), BAD)
async def test_bad_input_is_a_clear_error_and_creates_nothing(
        gw: Gateway, change: dict[str, Any], field: str, reason: str) -> None:
    token = gw.token("caseworker")
    calls, rows = await gw.create_calls(), await gw.store.count()
    body = await gw.query(SUBMIT, token, input=filing_input(resident(7), **change), key="bad-input-1")
    (error,) = body["errors"]
    ext = error["extensions"]
    assert ext["code"] == "BAD_USER_INPUT"
    assert {"field": field, "reason": reason} in [
        {"field": e["field"], "reason": e["reason"]} for e in ext["fieldErrors"]]
    assert " / " in error["message"]  # Chinese / English
    assert await gw.create_calls() == calls and await gw.store.count() == rows
    records, _ = await gw.audit.query(first=500)
    assert records[-1].outcome == "rejected" and records[-1].operation_name == "submitMatter"


async def test_who_may_file(gw: Gateway) -> None:
    calls = await gw.create_calls()
    someone_else = await gw.query(SUBMIT, gw.token("citizen", sub=resident(8)),
                                  input=filing_input(resident(9)), key="not-mine-123")
    assert someone_else["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    outside = await gw.query(SUBMIT, gw.token("caseworker", region="650200"),
                             input=filing_input(resident(9)), key="outside-123")
    assert outside["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    analyst = await gw.query(SUBMIT, gw.token("analyst"), input=filing_input(resident(9)),
                             key="analyst-123")
    assert analyst["errors"][0]["extensions"]["code"] == "UNAUTHORIZED_FIELD_OR_TYPE"
    short_key = await gw.query(SUBMIT, gw.token("caseworker"), input=filing_input(resident(9)), key="k")
    assert short_key["errors"][0]["extensions"]["field"] == "idempotencyKey"
    reused = filing_input(resident(9))
    first = await gw.query(SUBMIT, gw.token("caseworker"), input=reused, key="reused-key-1")
    assert "errors" not in first
    other = await gw.query(SUBMIT, gw.token("caseworker"), key="reused-key-1",
                           input={**reused, "description": "另一件事"})
    assert other["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert await gw.create_calls() == calls + 1
    stranger = await gw.query(TRACK, gw.token("citizen", sub=resident(8)),
                              r=first["data"]["submitMatter"]["receipt"])
    assert stranger["data"]["track"] is None


async def test_transfer_creates_at_the_receiving_centre(gw: Gateway) -> None:
    token = gw.token("caseworker")
    filed = await gw.query(SUBMIT, token, input=filing_input(resident(10)), key="to-transfer-1")
    source = filed["data"]["submitMatter"]["matter"]
    mutation = """mutation X($id: ID!, $to: Centre!, $why: String!) {
      transferMatter(id: $id, toCentre: $to, reason: $why) { receipt centre rule { id } matter { centre title } } }"""
    before = gw.created(Centre.LITIGATION)
    moved = await gw.query(mutation, token, id=source["id"], to="LITIGATION", why="当事人已起诉")
    payload = moved["data"]["transferMatter"]
    assert payload["centre"] == "LITIGATION" and payload["rule"]["id"] == "TRANSFER"
    assert payload["matter"]["title"].startswith("转办")
    again = await gw.query(mutation, token, id=source["id"], to="LITIGATION", why="当事人已起诉")
    assert again["data"]["transferMatter"]["receipt"] == payload["receipt"]
    assert gw.created(Centre.LITIGATION) == before + 1
    same = await gw.query(mutation, token, id=source["id"], to="MEDIATION", why="无")
    assert same["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
