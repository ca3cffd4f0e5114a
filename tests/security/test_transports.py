"""Security point 2 and 4: the WebSocket path passes the same operation stage as HTTP.

Each test drives the app in-process over graphql-transport-ws (httpx-ws's
ASGI transport) the way a browser's graphql-ws client does: the token in the
``connection_init`` payload, no ``Authorization`` header on the upgrade.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx_ws import AsyncWebSocketSession, WebSocketDisconnect, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport

from gateway.app import create_app
from gateway.middleware import InvalidToken
from gateway.settings import AuthSettings, PersistedQueriesSettings
from policy.principal import Principal
from services.audit import AuditEntry, open_audit_store
from tests.gateway.harness import settings
from tests.schema.test_query import ALICE, BOB, READ_ALL, _centres

CITIZEN = "query($id: String!) { citizen(idNumber: $id) { name phone matters { totalCount } } }"
LISTED = '{ region(code: "632300") { name } }'


def _principal(**kw: Any) -> Principal:
    base: dict[str, Any] = {"sub": "caseworker", "client_id": "portal", "regions": ("63", "65"),
                            "scopes": READ_ALL | {"pii:read"}, "authenticated": True,
                            "expires_at": time.time() + 3600}
    return Principal(**{**base, **kw})


def _manifest(tmp: Path) -> Path:
    path = tmp / "manifest.json"
    path.write_text(json.dumps({"format": "apollo-persisted-query-manifest", "version": 1,
                                "operations": [{"id": "region", "name": "R", "type": "query",
                                                "body": LISTED}]}))
    return path


class Recorder:
    """The audit store, wrapped to see each append (and to fail on demand)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.entries: list[AuditEntry] = []
        self.broken = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def append(self, entry: AuditEntry) -> Any:
        if self.broken:
            raise OSError("disk full")
        self.entries.append(entry)
        return await self.inner.append(entry)


@contextlib.asynccontextmanager
async def app_with(principals: Mapping[str, Principal], **overrides: Any) -> AsyncIterator[Any]:
    async def authenticate(token: str) -> Principal:
        try:
            return principals[token]
        except KeyError:
            raise InvalidToken("unknown") from None

    with tempfile.TemporaryDirectory() as tmp:
        store = Recorder(await open_audit_store(f"sqlite:///{Path(tmp) / 'audit.sqlite'}"))
        if overrides.pop("safelist", False):
            overrides["persisted_queries"] = PersistedQueriesSettings(
                apq=False, safelist_manifest=_manifest(Path(tmp)))
        app = create_app(settings(**overrides), _centres(), authenticate, audit=store,  # type: ignore[arg-type]
                         close_connectors=False)
        app.state.audit_recorder = store
        try:
            yield app
        finally:
            await store.inner.aclose()


@contextlib.asynccontextmanager
async def socket(app: Any, token: str | None = None, *,
                 header_token: str | None = None) -> AsyncIterator[AsyncWebSocketSession]:
    headers = {"Authorization": f"Bearer {header_token}"} if header_token else {}
    async with httpx.AsyncClient(transport=ASGIWebSocketTransport(app=app),
                                 base_url="http://gateway") as client, aconnect_ws(
            "/graphql", client, subprotocols=["graphql-transport-ws"], headers=headers) as ws:
        payload = {"authorization": f"Bearer {token}"} if token else {}
        await ws.send_json({"type": "connection_init", "payload": payload})
        yield ws


async def _ack(ws: AsyncWebSocketSession) -> None:
    assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"


async def _run(ws: AsyncWebSocketSession, op_id: str, query: str, **variables: Any) -> dict[str, Any]:
    await ws.send_json({"id": op_id, "type": "subscribe",
                        "payload": {"query": query, "variables": variables}})
    while True:  # skip the ``complete`` of an earlier operation
        message: dict[str, Any] = await ws.receive_json(timeout=5)
        if message.get("id") == op_id and message["type"] in ("next", "error"):
            return message


async def _closed_with(ws: AsyncWebSocketSession) -> int:
    with pytest.raises(WebSocketDisconnect) as closed:
        await ws.receive_json(timeout=5)
    return closed.value.code


def _codes(message: dict[str, Any]) -> list[str]:
    payload = message["payload"]
    errors = payload if isinstance(payload, list) else payload.get("errors") or []
    return [e["extensions"]["code"] for e in errors]


# -- authentication: the token in connection_init, as browsers send it -------------------


async def test_a_browser_client_authenticates_in_connection_init() -> None:
    async with app_with({"good": _principal()}) as app, socket(app, "good") as ws:
        await _ack(ws)
        message = await _run(ws, "1", CITIZEN, id=ALICE)
        assert message["type"] == "next"
        assert message["payload"]["data"]["citizen"]["name"]  # in clear: pii:read


async def test_a_bad_token_in_connection_init_closes_4403() -> None:
    async with app_with({"good": _principal()}) as app, socket(app, "forged") as ws:
        assert await _closed_with(ws) == 4403


async def test_no_token_is_refused_where_anonymous_callers_are() -> None:
    async with app_with({"good": _principal()}, auth=AuthSettings(reject_anonymous=True)) as app, \
            socket(app) as ws:
        assert await _closed_with(ws) == 4403


async def test_an_expired_token_is_refused_at_connection() -> None:
    expired = _principal(expires_at=time.time() - 1)
    async with app_with({"old": expired}) as app, socket(app, "old") as ws:
        assert await _closed_with(ws) == 4403


async def test_an_operation_after_the_token_expired_is_refused() -> None:
    """Accepted while valid; an operation sent after expiry gets UNAUTHENTICATED, no data."""
    soon = _principal(expires_at=time.time() + 2)
    async with app_with({"soon": soon}) as app, socket(app, "soon") as ws:
        await _ack(ws)
        assert soon.expires_at is not None
        await asyncio.sleep(max(soon.expires_at - time.time(), 0) + 0.05)
        message = await _run(ws, "1", CITIZEN, id=ALICE)
        # A refusal before execution is the protocol's ``error`` message: no data at all.
        assert message["type"] == "error" and _codes(message) == ["UNAUTHENTICATED"]


async def test_the_upgrade_header_still_works() -> None:
    async with app_with({"good": _principal()}) as app, socket(app, header_token="good") as ws:
        await _ack(ws)
        assert (await _run(ws, "1", CITIZEN, id=ALICE))["payload"]["data"]["citizen"]


# -- the safelist holds on the socket too ------------------------------------------------


async def test_an_unlisted_document_is_refused_over_the_socket() -> None:
    async with app_with({"good": _principal()}, safelist=True) as app, socket(app, "good") as ws:
        await _ack(ws)
        message = await _run(ws, "1", CITIZEN, id=ALICE)
        assert message["type"] == "error" and _codes(message) == ["QUERY_NOT_IN_SAFELIST"]
        assert app.state.audit_recorder.entries == []  # nothing was read, nothing disclosed


async def test_an_unlisted_mutation_is_refused_over_the_socket() -> None:
    mutation = ('mutation { submitMatter(idempotencyKey: "k1", input: {applicants: [{name: "张三", '
                'idNumber: "' + ALICE + '"}], category: "邻里", subject: "s", regionCode: "632301001001", '
                'description: "d"}) { matter { id } } }')
    async with app_with({"good": _principal(scopes=READ_ALL | {"matters:write"})},
                        safelist=True) as app, socket(app, "good") as ws:
        await _ack(ws)
        assert _codes(await _run(ws, "1", mutation)) == ["QUERY_NOT_IN_SAFELIST"]


async def test_a_listed_document_by_id_runs_over_the_socket() -> None:
    async with app_with({"good": _principal()}, safelist=True) as app, socket(app, "good") as ws:
        await _ack(ws)
        await ws.send_json({"id": "1", "type": "subscribe", "payload": {
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "region"}}}})
        message = await ws.receive_json(timeout=5)
        assert message["payload"]["data"]["region"]["name"]


# -- one context per operation: audit records name the right people ----------------------


async def test_each_operation_on_a_socket_gets_its_own_audit_record() -> None:
    async with app_with({"good": _principal()}) as app, socket(app, "good") as ws:
        await _ack(ws)
        await _run(ws, "1", CITIZEN, id=ALICE)
        await _run(ws, "2", CITIZEN, id=BOB)
        entries = app.state.audit_recorder.entries
        assert [set(e.citizens) for e in entries] == [{ALICE}, {BOB}]


async def test_nothing_is_delivered_when_the_audit_cannot_be_written() -> None:
    async with app_with({"good": _principal()}) as app, socket(app, "good") as ws:
        await _ack(ws)
        app.state.audit_recorder.broken = True
        message = await _run(ws, "1", CITIZEN, id=ALICE)
        assert _codes(message) == ["AUDIT_UNAVAILABLE"]
        assert message["payload"]["data"] is None

