"""Issue 12: the ``overdue`` field, the ``matters(filter: {overdue})`` filter and the
``overdue(regionCode:)`` list agree, for every centre, over the sandbox world.

The field and the list are computed by the gateway (onedoor.deadlines); the filter is
pushed down to each centre, whose own flag the sandbox computes with onedoor.periods.
The gateway's clock is the world's ``now`` (the sandbox is frozen at it).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pytest

from onedoor.model import CST, Centre
from sandbox.lifecycle import CASE_TYPES
from sandbox.people import village_table
from sandbox.runner import Sandbox

from .conftest import Gateway

pytestmark = pytest.mark.asyncio(loop_scope="module")

REGION = "632300"  # Huangnan: every centre has a few hundred matters here
OPEN = {"REGISTERED", "ACCEPTED", "IN_PROGRESS", "TRANSFERRED"}
PAGE = """query($centre: Centre!, $overdue: Boolean, $after: String) {
  matters(filter: {regionPrefix: "@REGION", centres: [$centre], overdue: $overdue}, first: 100, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { id status overdue } } }""".replace("@REGION", REGION)
LIST = 'query { overdue(regionCode: "@REGION") { id centre deadlineKind } }'.replace("@REGION", REGION)


async def matters(gateway: Gateway, centre: Centre, overdue: bool | None) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    after = None
    while True:
        page = (await gateway.run(PAGE, centre=centre.name, overdue=overdue, after=after))["matters"]
        found.update({n["id"]: n for n in page["nodes"]})
        if not page["pageInfo"]["hasNextPage"]:
            assert len(found) == page["totalCount"]
            return found
        after = page["pageInfo"]["endCursor"]


async def test_field_filter_and_list_agree_for_every_centre(gateway: Gateway) -> None:
    listed = (await gateway.run(LIST))["overdue"]
    disagreements: dict[str, int] = {}
    for centre in Centre:
        every = await matters(gateway, centre, None)
        flagged = {i for i, n in every.items() if n["overdue"]}
        filtered_true = set(await matters(gateway, centre, True))
        filtered_false = set(await matters(gateway, centre, False))
        open_flagged = {i for i in flagged if every[i]["status"] in OPEN}
        in_list = {item["id"] for item in listed if item["centre"] == centre.name}
        disagreements[centre.name] = len(
            (flagged ^ filtered_true) | ((set(every) - flagged) ^ filtered_false) | (open_flagged ^ in_list))
        assert len(every) > 50 and 0 < len(flagged) < len(every), centre  # the test has teeth
    assert not any(disagreements.values()), disagreements


BOUNDED = """query($centre: Centre!, $to: DateTime!) {
  matters(filter: {regionPrefix: "@REGION", centres: [$centre], receivedTo: $to}, first: 3) {
    nodes { id receivedAt } } }""".replace("@REGION", REGION)


async def test_received_to_is_exact_to_the_second_at_every_centre(gateway: Gateway) -> None:
    """PETITIONS filters by date (ksrq/jsrq); its times (kssj/jssj) make the bound as exact as elsewhere."""
    for centre in Centre:
        newest = (await gateway.run(BOUNDED, centre=centre.name, to=gateway.now.isoformat()))["matters"]["nodes"]
        received = dt.datetime.fromisoformat(newest[0]["receivedAt"])
        just_before = (received - dt.timedelta(seconds=1)).isoformat()
        page = (await gateway.run(BOUNDED, centre=centre.name, to=just_before))["matters"]["nodes"]
        assert newest[0]["id"] not in {n["id"] for n in page}, centre
        assert all(dt.datetime.fromisoformat(n["receivedAt"]) < received for n in page), centre


STATISTICS = """query($push: Boolean!) {
  statistics(regionCode: "@REGION", from: "2024-07-01", to: "2025-03-31", groupBy: [CENTRE], pushDown: $push) {
    sources { centre source }
    groups { centre figures { registered accepted forwarded assigned transferred transferBase closed closedOnTime
      overdueOpen mediations agreements escalated onTimeClosureRate transferRate mediationSuccessRate } } } }
""".replace("@REGION", REGION)
OVERDUE_IN_PERIOD = """query($centre: Centre!, $after: String) {
  matters(filter: {regionPrefix: "@REGION", centres: [$centre], overdue: true,
                   receivedFrom: "2024-07-01T00:00:00+08:00", receivedTo: "2025-03-31T23:59:59+08:00"},
          first: 100, after: $after) { pageInfo { hasNextPage endCursor } nodes { status } } }
""".replace("@REGION", REGION)


async def test_statistics_agree_on_both_paths_and_with_the_overdue_filter(gateway: Gateway) -> None:
    """MEDIATION and LITIGATION answer from their summary endpoints (push-down) or from their
    lists (gateway): every figure agrees. Each centre's 超期未结数 is the open matters the
    ``overdue: true`` filter returns for the same cohort."""
    pushed = await gateway.run(STATISTICS, push=True)
    counted = await gateway.run(STATISTICS, push=False)
    assert {s["source"] for s in pushed["statistics"]["sources"] if s["centre"] in ("MEDIATION", "LITIGATION")} \
        == {"PUSH_DOWN"}
    assert {s["source"] for s in counted["statistics"]["sources"]} == {"GATEWAY"}
    by_path = [{g["centre"]: g["figures"] for g in r["statistics"]["groups"]} for r in (pushed, counted)]
    assert by_path[0] == by_path[1]
    for centre, figures in by_path[1].items():
        open_overdue, after = 0, None
        while True:
            page = (await gateway.run(OVERDUE_IN_PERIOD, centre=centre, after=after))["matters"]
            open_overdue += sum(n["status"] in OPEN for n in page["nodes"])
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert figures["overdueOpen"] == open_overdue, centre
        assert figures["closedOnTime"] <= figures["closed"]
    assert by_path[1]["MEDIATION"]["transferBase"] == by_path[1]["MEDIATION"]["registered"]
    assert by_path[1]["LITIGATION"]["transferBase"] == 0


CONFIRMATIONS = """query($after: String) {
  matters(filter: {regionPrefix: "@REGION", centres: [MEDIATION], statuses: [CLOSED]}, first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { ... on MediationCase { agreementReached agreementEffectiveOn confirmationApplyBy
      confirmationAppliedInTime closedAt links { relation } } } } }""".replace("@REGION", REGION)


async def test_mediation_agreements_show_the_judicial_confirmation_window(gateway: Gateway) -> None:
    """人民调解法 Art.33: the sandbox's parties apply 1-25 days after the agreement, so every linked
    confirmation is in time; an agreement without one has a window but no answer."""
    nodes, after = [], None
    while True:
        page = (await gateway.run(CONFIRMATIONS, after=after))["matters"]
        nodes += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    agreed = [n for n in nodes if n["agreementReached"]]
    assert agreed and all(n["agreementEffectiveOn"] == n["closedAt"][:10] and n["confirmationApplyBy"]
                          for n in agreed)
    confirmed = [n for n in agreed if any(k["relation"] == "CONFIRMED_BY" for k in n["links"])]
    assert confirmed and all(n["confirmationAppliedInTime"] is True for n in confirmed)
    assert all(n["confirmationAppliedInTime"] is None for n in agreed if n not in confirmed)
    assert all(n["agreementEffectiveOn"] is None for n in nodes if not n["agreementReached"])


REVIEWS = """query($after: String) {
  matters(filter: {regionPrefix: "@REGION", centres: [PETITIONS]}, first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { ... on Petition { status centreStatus dueAt overdue closedAt reviewRequestBy reviewRequestedOn
      reviewDueAt reviewDecidedOn secondReviewRequestedOn secondReviewDueAt secondReviewDecidedOn } } } }
""".replace("@REGION", REGION)


async def test_petition_reviews_are_deadlines_of_their_own(gateway: Gateway) -> None:
    """复查/复核 (信访工作条例 Art.35, 36): a review reopens a handled petition, its 30 days govern dueAt."""
    nodes, after = [], None
    while True:
        page = (await gateway.run(REVIEWS, after=after))["matters"]
        nodes += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    reviewed = [n for n in nodes if n["reviewRequestedOn"]]
    assert reviewed and all(n["reviewDueAt"] and n["reviewRequestBy"] for n in reviewed)
    assert all(n["reviewRequestedOn"] <= n["reviewRequestBy"][:10] for n in reviewed)  # asked within 30 days
    pending = [n for n in reviewed if n["reviewDecidedOn"] is None]
    assert all(n["centreStatus"] == "复查中" and n["status"] == "IN_PROGRESS" and n["closedAt"] is None
               and n["dueAt"] == n["reviewDueAt"] for n in pending)
    late = [n for n in reviewed if n["reviewDecidedOn"] and n["reviewDecidedOn"] >= n["reviewDueAt"][:10]]
    assert late and all(n["overdue"] for n in late)
    assert all(n["secondReviewDueAt"] for n in nodes if n["secondReviewRequestedOn"])


DEADLINES = """query($after: String) {
  matters(filter: {regionPrefix: "@REGION"}, first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { overdue dueAt deadlines { kind statute dayCount runsFrom dueAt metOn missed } } } }
""".replace("@REGION", REGION)


async def test_each_matter_lists_its_deadlines_and_overdue_is_any_of_them_missed(gateway: Gateway) -> None:
    """A supervisor can check the flag line by line: ``overdue`` is exactly "some deadline missed"."""
    nodes, after = [], None
    while True:
        page = (await gateway.run(DEADLINES, after=after))["matters"]
        nodes += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert all(n["overdue"] == any(d["missed"] for d in n["deadlines"]) for n in nodes)
    assert all(n["dueAt"] in {d["dueAt"] for d in n["deadlines"]} for n in nodes if n["dueAt"])
    kinds = {d["kind"] for n in nodes for d in n["deadlines"]}
    assert kinds >= {"PETITION_ACCEPTANCE", "PETITION_HANDLING", "PETITION_REVIEW", "LEGAL_AID_DECISION",
                     "LEGAL_AID_ASSIGNMENT", "MEDIATION", "LITIGATION", "GRID_DISPATCH"}
    assert all(d["statute"] and (d["metOn"] is None or d["metOn"] >= d["runsFrom"])
               for n in nodes for d in n["deadlines"])


async def test_statistics_equal_the_figures_recomputed_from_the_world(gateway: Gateway, sb: Sandbox) -> None:
    """Independent of schema.kpi: registered and 超期未结 for every centre, and the mediation figures
    (one dispute, one mediation; closed on time), counted straight from the sandbox's columns."""
    world, cols = sb.world, sb.world.cols
    codes = np.array([c.startswith("6323") for c in village_table()[0]])
    low = int(dt.datetime(2024, 7, 1, tzinfo=CST).timestamp())
    high = int(dt.datetime(2025, 3, 31, 23, 59, 59, tzinfo=CST).timestamp())
    figures = {g["centre"]: g["figures"]
               for g in (await gateway.run(STATISTICS, push=False))["statistics"]["groups"]}
    cohort = {}
    for centre in Centre:
        span = world.rows(centre)
        rows = np.arange(span.start, span.stop)
        rows = rows[codes[cols.village[rows]] & (cols.recv[rows] >= low) & (cols.recv[rows] <= high)]
        cohort[centre] = rows
        assert figures[centre.name]["registered"] == len(rows), centre
        assert figures[centre.name]["overdueOpen"] == int(((cols.closed[rows] < 0) & cols.overdue[rows]).sum()), centre
    med, lit = cohort[Centre.MEDIATION], cohort[Centre.LITIGATION]
    pre = lit[(cols.sub[lit] == CASE_TYPES.index("诉前调")) & (cols.acc[lit] >= 0)]
    unlinked = pre[~((cols.story[pre] == 4) & (cols.side[pre] == 1))]
    assert figures["MEDIATION"]["mediations"] + figures["LITIGATION"]["mediations"] == len(med) + len(unlinked)
    assert len(unlinked) < len(pre)  # the linked 诉前调 cases were there, and were not counted twice
    on_time = ((cols.closed[med] >= 0) & ~cols.overdue[med]).sum()
    assert figures["MEDIATION"]["closedOnTime"] == int(on_time)
