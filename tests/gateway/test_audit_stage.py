"""The audit stage over HTTP: one record per citizen read, fail closed, auditTrail."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from policy.principal import Principal
from services.audit import AuditEntry, AuditRecord, open_audit_store
from tests.schema.test_query import ALICE, BOB, READ_ALL, _centres

from .harness import client

CASEWORKER = Principal(sub="case-1", client_id="portal", scopes=READ_ALL, regions=("6323",),
                       authenticated=True)
AUDITOR = Principal(sub="auditor-1", client_id="audit-ui", scopes=READ_ALL | {"audit:read"},
                    regions=("63", "6502"), authenticated=True)
CITIZEN_Q = "query Look($id: String!) { citizen(idNumber: $id) { name matters { nodes { reference } } } }"


async def _post(http: Any, token: str, query: str, **variables: Any) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": query, "variables": variables},
                               headers={"Authorization": f"Bearer {token}",
                                        "X-Purpose": quote("调解回访")})
    body: dict[str, Any] = response.json()
    return body


async def test_every_citizen_read_leaves_one_chained_record() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = await open_audit_store(f"sqlite:///{Path(tmp) / 'a.sqlite'}")
        try:
            async with client(_centres(), {"c": CASEWORKER}, audit=store) as http:
                body = await _post(http, "c", CITIZEN_Q, id=ALICE)
                assert body["data"]["citizen"]["name"] == "张*"
                await _post(http, "c", '{ region(code: "632300") { name } }')
            records, _ = await store.query(ALICE)
            (record,) = records
            assert record.sub == "case-1" and record.client_id == "portal"
            assert record.purpose == "调解回访" and record.operation_name == "Look"
            assert ALICE in record.citizens and record.result_count == 4
            assert set(record.centres) == {"MEDIATION", "LEGAL_SERVICES", "PETITIONS",
                                           "LITIGATION", "GOVERNANCE"}
            assert record.unmasked_fields == ()  # no pii:read: nothing shown in clear
            # The region lookup touched no citizen data: no second record.
            everything, _ = await store.query(None)
            assert len(everything) == 1
            assert (await store.verify()).ok
        finally:
            await store.aclose()


class _BrokenStore:
    async def append(self, entry: AuditEntry) -> AuditRecord:
        raise OSError("disk full")

    async def writable(self) -> bool:
        return False

    async def aclose(self) -> None:
        return None


async def test_no_data_leaves_without_its_audit_record() -> None:
    async with client(_centres(), {"c": CASEWORKER}, audit=_BrokenStore()) as http:  # type: ignore[arg-type]
        body = await _post(http, "c", CITIZEN_Q, id=ALICE)
        ready = await http.get("/readyz")
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "AUDIT_UNAVAILABLE"
    assert "disk full" not in str(body)
    assert ready.status_code == 503 and ready.json()["auditWritable"] is False


async def test_auditors_see_who_looked_and_nothing_outside_their_jurisdiction() -> None:
    trail_q = ("query($id: String!) { auditTrail(citizenId: $id) { entries { sub purpose "
               "operationName centres unmaskedFields outcome } hasNextPage } }")
    async with client(_centres(), {"c": CASEWORKER, "a": AUDITOR,
                                   "narrow": Principal(sub="a2", client_id="x",
                                                       scopes=AUDITOR.scopes, regions=("6502",),
                                                       authenticated=True)}) as http:
        await _post(http, "c", CITIZEN_Q, id=ALICE)
        body = await _post(http, "a", trail_q, id=ALICE)
        entries = body["data"]["auditTrail"]["entries"]
        assert [e["sub"] for e in entries] == ["case-1"]
        assert entries[0]["purpose"] == "调解回访" and entries[0]["operationName"] == "Look"
        denied = await _post(http, "c", trail_q, id=ALICE)
        assert denied["errors"][0]["extensions"]["code"] == "UNAUTHORIZED_FIELD_OR_TYPE"
        # An auditor for Karamay only: Alice (Huangnan) behaves as unknown.
        narrow = await _post(http, "narrow", trail_q, id=ALICE)
        assert narrow["data"]["auditTrail"]["entries"] == []
        # Bob lives in Karamay: the narrow auditor sees his (empty) trail, no error.
        assert (await _post(http, "narrow", trail_q, id=BOB))["data"]["auditTrail"] == {
            "entries": [], "hasNextPage": False}


async def test_each_operation_of_a_batch_has_its_own_audit_record() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = await open_audit_store(f"sqlite:///{Path(tmp) / 'a.sqlite'}")
        try:
            async with client(_centres(), {"a": AUDITOR}, audit=store) as http:
                response = await http.post("/graphql", headers={"Authorization": "Bearer a"}, json=[
                    {"query": CITIZEN_Q, "variables": {"id": ALICE}},
                    {"query": CITIZEN_Q, "variables": {"id": BOB}},
                ])
            assert response.status_code == 200
            records, _ = await store.query(None)
            assert len(records) == 2
            # Operations run concurrently on one HTTP request; neither record may
            # pick up the other's citizen.
            assert {r.citizens for r in records} == {(ALICE,), (BOB,)}
        finally:
            await store.aclose()


def test_an_answer_cut_short_by_the_projection_is_a_partial_outcome() -> None:
    from graphql import GraphQLError

    from gateway.operation.audit import entry_for
    from onedoor.model import Centre
    from tests.schema.test_query import _context

    ctx = _context(_centres())
    ctx.loaders.centres_called.add(Centre.MEDIATION)
    for code in ("PROJECTION_UNAVAILABLE", "ORGANISATION_TOO_LARGE"):
        entry = entry_for(ctx, "O", "{ x }", [GraphQLError("cut short", extensions={"code": code})])
        assert entry is not None and entry.outcome == "partial", code
    entry = entry_for(ctx, "O", "{ x }", [])
    assert entry is not None and entry.outcome == "ok"
