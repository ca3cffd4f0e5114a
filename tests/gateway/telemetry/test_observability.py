"""Telemetry over real sockets: the sandbox centres, the gateway app with an
in-memory span exporter and JSON logs captured in a buffer."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from connectors.registry import build_connectors
from gateway.app import create_app
from gateway.demo import EXAMPLE_QUERY, demo_samples, demo_settings_for
from gateway.telemetry.core import Telemetry
from gateway.telemetry.logs import configure_logging, reset_logging
from policy.auth import build_authenticator
from policy.personas import persona_claims
from sandbox.idp import mint_token
from sandbox.runner import Sandbox, run_sandbox
from services.audit import open_audit_store

pytestmark = pytest.mark.asyncio(loop_scope="module")


@dataclass
class Observed:
    sandbox: Sandbox
    http: httpx.AsyncClient
    spans: InMemorySpanExporter
    logs: io.StringIO

    def token(self, persona: str = "caseworker", **claims: Any) -> str:
        return mint_token(self.sandbox.state_dir,
                          {"iss": self.sandbox.idp_url, **persona_claims(persona, **claims)}, ttl=600)

    async def query(self, query: str, persona: str = "caseworker", *, name: str | None = None,
                    **variables: Any) -> dict[str, Any]:
        sub = variables.get("id") if persona == "citizen" else None
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables, "operationName": name},
            headers={"Authorization": f"Bearer {self.token(persona, sub=sub)}"})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def metrics(self) -> str:
        response = await self.http.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        return response.text


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def observed(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Observed]:
    state_dir = tmp_path_factory.mktemp("observed")
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    logs = io.StringIO()
    async with run_sandbox(None, state_dir) as sb:
        settings = demo_settings_for(dict(sb.urls), sb.idp_url, state_dir, port=8000)
        configure_logging(settings.logging, logs)
        audit = await open_audit_store(settings.audit.url)
        authenticate = build_authenticator(settings.auth)
        connectors = build_connectors(settings.centres)
        telemetry = Telemetry(settings.telemetry, provider, logging=settings.logging)
        app = create_app(settings, connectors, authenticate, audit=audit, telemetry=telemetry)
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                         base_url="http://gateway") as http:
                yield Observed(sb, http, exporter, logs)
        finally:
            reset_logging()
            for connector in connectors.values():
                await connector.aclose()
            await authenticate.aclose()
            await audit.aclose()


PERSONAL = """query Dashboard($id: String!) { citizen(idNumber: $id) { idNumber name phone address
  matters(first: 20) { nodes { title parties { name idNumber phone } } } } }"""


def _sample(od: Observed) -> str:
    return demo_samples(od.sandbox.world, 1)[0]


def _value(text: str, sample: str) -> float:
    for line in text.splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{sample} not in /metrics")


async def test_metrics_count_operations_centre_calls_and_audit_writes(observed: Observed) -> None:
    body = await observed.query(EXAMPLE_QUERY, id=_sample(observed), name="Dashboard")
    assert "errors" not in body, body.get("errors")
    text = await observed.metrics()
    assert _value(text, 'onedoor_graphql_operations_total{operation="Dashboard",outcome="ok"}') >= 1
    assert _value(text, 'onedoor_graphql_operation_duration_seconds_count{operation="Dashboard"}') >= 1
    for centre in ("MEDIATION", "LEGAL_SERVICES", "PETITIONS", "LITIGATION", "GOVERNANCE"):
        assert _value(text, f'onedoor_centre_calls_total{{call="find_by_citizens",centre="{centre}",'
                            f'outcome="ok"}}') >= 1
        assert f'onedoor_centre_call_duration_seconds_bucket{{call="find_by_citizens",centre="{centre}"' in text
    assert _value(text, 'onedoor_centre_calls_total{call="get_residents",centre="GOVERNANCE",outcome="ok"}') >= 1
    assert _value(text, 'onedoor_audit_appends_total{outcome="ok"}') >= 1
    assert _value(text, "onedoor_http_requests_in_flight") == 0


async def test_errors_are_counted_by_code(observed: Observed) -> None:
    body = await observed.query("query Bad { citizen(idNumber: \"123\") { name } }", name="Bad")
    code = body["errors"][0]["extensions"]["code"]
    text = await observed.metrics()
    assert _value(text, f'onedoor_graphql_errors_total{{code="{code}"}}') >= 1
    assert _value(text, 'onedoor_graphql_operations_total{operation="Bad",outcome="error"}') >= 1


async def test_one_trace_from_the_request_to_each_centre_call(observed: Observed) -> None:
    observed.spans.clear()
    await observed.query(EXAMPLE_QUERY, id=_sample(observed), name="Dashboard")
    spans = observed.spans.get_finished_spans()
    operation = next(s for s in spans if s.name == "graphql.operation Dashboard")
    server = [s for s in spans if s.kind.name == "SERVER"]
    assert server and all(s.context.trace_id == operation.context.trace_id for s in spans)
    centre_spans = [s for s in spans if s.name.startswith("centre ")]
    assert {s.attributes["onedoor.centre"] for s in centre_spans if s.attributes} >= {
        "MEDIATION", "LEGAL_SERVICES", "PETITIONS", "LITIGATION", "GOVERNANCE"}
    assert all(s.parent is not None and s.parent.span_id == operation.context.span_id
               for s in centre_spans)
    client = [s for s in spans if s.kind.name == "CLIENT"]
    centre_ids = {s.context.span_id for s in centre_spans}
    assert client and any(s.parent is not None and s.parent.span_id in centre_ids for s in client)
    sample = _sample(observed)
    for span in spans:  # resident IDs travel in centre query strings: never on a span
        assert sample not in json.dumps(dict(span.attributes or {}), ensure_ascii=False)


async def test_logs_are_json_with_context_and_no_personal_data(observed: Observed) -> None:
    sample = _sample(observed)
    observed.logs.truncate(0)
    observed.logs.seek(0)
    body = await observed.query(PERSONAL, id=sample, name="Dashboard")
    citizen = body["data"]["citizen"]
    mine = await observed.query("query Me { me { name phone idNumber } }", "citizen", name="Me",
                                id=sample)
    assert mine["data"]["me"]["idNumber"] == sample
    # A GET query puts its variables in the URL: the access log must drop them.
    response = await observed.http.get("/graphql", params={
        "query": "query Get($id: String!) { citizen(idNumber: $id) { name } }",
        "variables": json.dumps({"id": sample})},
        headers={"Authorization": f"Bearer {observed.token()}"})
    assert response.status_code == 200
    text = observed.logs.getvalue()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    operations = [line for line in lines if line["event"] == "graphql.operation"]
    assert {op["operation"] for op in operations} >= {"Dashboard", "Me", "Get"}
    dashboard = next(op for op in operations if op["operation"] == "Dashboard")
    assert dashboard["principal"] == "caseworker-632300"
    assert dashboard["request_id"] and dashboard["ms"] >= 0
    assert {c["centre"] for c in dashboard["centres"]} >= {"MEDIATION", "GOVERNANCE"}
    me = next(op for op in operations if op["operation"] == "Me")
    assert me["principal"].startswith("citizen:")
    access = [line for line in lines if line["event"] == "http.request"]
    assert access and all(line["path"] == "/graphql" and line["request_id"] for line in access)
    secrets = [sample, citizen["name"], citizen["phone"] or citizen["name"], citizen["address"] or sample]
    for secret in secrets:
        assert secret and secret not in text
        assert json.dumps(secret)[1:-1] not in text  # nor \\u-escaped


async def test_record_cache_lookups_are_counted(observed: Observed) -> None:
    from onedoor.model import Centre
    from schema.ids import encode_id

    world = observed.sandbox.world
    # A mediation case in the caseworker's county that no earlier test has loaded.
    row = next(r for r in reversed(world.rows(Centre.MEDIATION))
               if world.matter(r).region_code.startswith("6323"))
    matter_id = encode_id(Centre.MEDIATION, world.native_id(row))
    before = await observed.metrics()

    def count(text: str, result: str) -> float:
        try:
            return _value(text, f'onedoor_cache_requests_total{{result="{result}"}}')
        except AssertionError:
            return 0.0

    for _ in range(3):
        body = await observed.query("query One($id: ID!) { matter(id: $id) { reference } }",
                                    id=matter_id, name="One")
        assert body["data"]["matter"]["reference"] == world.native_id(row)
    after = await observed.metrics()
    assert count(after, "miss") - count(before, "miss") == 1
    assert count(after, "hit") - count(before, "hit") == 2
