"""The one piece of ASGI middleware every sandbox centre runs behind.

It owns the ``/_sandbox/*`` control endpoints (never faulted, never counted,
no auth), counts API requests by ``"METHOD /path"``, applies the base latency
and injects faults, so the five centre apps stay about their own payloads.
Fault semantics are those of ``sandbox/API.md``; ``down`` really drops the TCP
connection without a response, which is what a crashed backend looks like.

>>> app = SandboxMiddleware(centre_app, Control("MEDIATION", latency_ms=20))
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["MODES", "Control", "FaultSettings", "SandboxMiddleware", "drop_half", "is_partial"]

MODES = ("ok", "down", "slow", "error", "throttle", "malformed", "partial")
_PARTIAL_KEY = "sandbox.partial"
T = TypeVar("T")


@dataclass(slots=True)
class FaultSettings:
    mode: str = "ok"
    rate: float = 1.0
    latency_ms: int = 0
    jitter_ms: int = 0
    slow_ms: int = 5000

    def as_json(self) -> dict[str, Any]:
        return {"mode": self.mode, "rate": self.rate, "latencyMs": self.latency_ms,
                "jitterMs": self.jitter_ms, "slowMs": self.slow_ms}


class Control:
    """Mutable fault settings and request counters of one centre."""

    def __init__(self, centre: str, *, latency_ms: int = 0, jitter_ms: int = 0) -> None:
        self.centre = centre
        self.settings = FaultSettings(latency_ms=latency_ms, jitter_ms=jitter_ms)
        self.stats: Counter[str] = Counter()
        self._random = random.Random()

    def update(self, payload: dict[str, Any]) -> None:
        """Apply a ``POST /_sandbox/faults`` body; raises ``ValueError`` when invalid."""
        known = {"mode", "rate", "latencyMs", "jitterMs", "slowMs"}
        if unknown := set(payload) - known:
            raise ValueError(f"unknown keys: {sorted(unknown)}")
        mode = payload.get("mode", self.settings.mode)
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        rate = float(payload.get("rate", self.settings.rate))
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be within [0, 1]")
        numbers = {key: int(payload.get(key, default)) for key, default in (
            ("latencyMs", self.settings.latency_ms), ("jitterMs", self.settings.jitter_ms),
            ("slowMs", self.settings.slow_ms))}
        if any(v < 0 for v in numbers.values()):
            raise ValueError("times must be non-negative")
        self.settings = FaultSettings(mode, rate, numbers["latencyMs"], numbers["jitterMs"],
                                      numbers["slowMs"])

    def stats_json(self) -> dict[str, Any]:
        return {"centre": self.centre, "total": sum(self.stats.values()),
                "byEndpoint": dict(sorted(self.stats.items()))}

    def draw_fault(self) -> str:
        mode = self.settings.mode
        if mode == "ok" or self._random.random() >= self.settings.rate:
            return "ok"
        return mode

    def delay_seconds(self) -> float:
        s = self.settings
        return (s.latency_ms + s.jitter_ms * self._random.random()) / 1000


def is_partial(scope: Scope) -> bool:
    """Whether a ``partial`` fault hit this request (centre apps check it on batch reads)."""
    return bool(scope.get(_PARTIAL_KEY, False))


def drop_half(items: list[T]) -> list[T]:
    """Keep every other item: "about half of the found items, the rest silently absent"."""
    return items[::2]


class SandboxMiddleware:
    def __init__(self, app: ASGIApp, control: Control, *, more: ASGIApp | None = None) -> None:
        self.app = app
        self.control = control
        self.more = more  # more /_sandbox/ endpoints (writes: webhooks, status changes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith("/_sandbox/"):
            await self._control_endpoint(scope, receive, send)
            return
        self.control.stats[f"{scope['method']} {path}"] += 1
        delay = self.control.delay_seconds()
        fault = self.control.draw_fault()
        if fault in ("ok", "partial", "slow"):
            # The set latency is the centre's response time from arrival, its own
            # work included: the app runs now and its answer is held until then.
            # (Sleeping first and rendering after would add the sandbox's rendering
            # to every call, and queue five centres' rendering behind each other
            # in this one process — real centres are separate machines.)
            if fault == "slow":
                delay += self.control.settings.slow_ms / 1000
            if fault == "partial":
                scope = {**scope, _PARTIAL_KEY: True}
            deadline = asyncio.get_running_loop().time() + delay
            await self.app(scope, receive, _Held(send, deadline) if delay > 0 else send)
            return
        if delay > 0:
            await asyncio.sleep(delay)
        if fault == "down":
            await _drop_connection(receive, send)
        elif fault == "error":
            await _respond(send, 500, _error_page(self.control.centre), "text/html; charset=utf-8")
        elif fault == "throttle":
            await _respond(send, 429, b"Too Many Requests", "text/plain",
                           [(b"retry-after", b"1")])
        else:  # malformed
            await self.app(scope, receive, _Truncating(send))

    async def _control_endpoint(self, scope: Scope, receive: Receive, send: Send) -> None:
        method, path = scope["method"], scope["path"]
        if path == "/_sandbox/stats" and method == "GET":
            await _json(send, 200, self.control.stats_json())
        elif path == "/_sandbox/stats/reset" and method == "POST":
            self.control.stats.clear()
            await _respond(send, 204, b"", None)
        elif path == "/_sandbox/faults" and method == "GET":
            await _json(send, 200, self.control.settings.as_json())
        elif path == "/_sandbox/faults" and method == "POST":
            try:
                payload = json.loads(await _read_body(receive) or b"{}")
                if not isinstance(payload, dict):
                    raise ValueError("expected a JSON object")
                self.control.update(payload)
            except ValueError as exc:
                await _json(send, 400, {"error": str(exc)})
                return
            await _json(send, 200, self.control.settings.as_json())
        elif self.more is not None:
            await self.more(scope, receive, send)
        else:
            await _json(send, 404, {"error": "no such control endpoint"})


class _Held:
    """A ``send`` that holds the response until the centre's response time is up."""

    def __init__(self, send: Send, deadline: float) -> None:
        self.send = send
        self.deadline = deadline

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            wait = self.deadline - asyncio.get_running_loop().time()
            if wait > 0:
                await asyncio.sleep(wait)
        await self.send(message)


class _Truncating:
    """A ``send`` that buffers the response and emits half of it as a 200."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.start: Message | None = None
        self.body = bytearray()

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
            return
        self.body.extend(message.get("body", b""))
        if message.get("more_body", False):
            return
        body = bytes(self.body[: max(1, len(self.body) // 2)])
        headers = [(k, v) for k, v in (self.start or {}).get("headers", [])
                   if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await self.send({"type": "http.response.start", "status": 200, "headers": headers})
        await self.send({"type": "http.response.body", "body": body})


async def _drop_connection(receive: Receive, send: Send) -> None:
    """Close the socket under uvicorn's feet: the client gets no response at all."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:  # not behind uvicorn (e.g. httpx.ASGITransport)
        raise ConnectionAbortedError("sandbox fault: down")
    transport.abort()
    while True:  # wait until uvicorn notices, so it does not answer a 500 for us
        message = await receive()
        if message["type"] == "http.disconnect":
            return


async def _read_body(receive: Receive) -> bytes:
    chunks = bytearray()
    while True:
        message = await receive()
        chunks.extend(message.get("body", b""))
        if not message.get("more_body", False):
            return bytes(chunks)


async def _json(send: Send, status: int, payload: Any) -> None:
    await _respond(send, status, json.dumps(payload, ensure_ascii=False).encode(),
                   "application/json")


async def _respond(send: Send, status: int, body: bytes, content_type: str | None,
                   extra: list[tuple[bytes, bytes]] | None = None) -> None:
    headers = [(b"content-length", str(len(body)).encode())]
    if content_type:
        headers.append((b"content-type", content_type.encode()))
    headers.extend(extra or [])
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _error_page(centre: str) -> bytes:
    host = f"{centre.lower().replace('_', '-')}-app-03.intranet.zzzx.gov.local"
    return f"""<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head>
<body><h1>Internal Server Error</h1><pre>Traceback (most recent call last):
  File "/opt/{centre.lower()}/app/service/query.py", line 212, in handle
    rows = session.execute(stmt).fetchall()
  File "/opt/{centre.lower()}/venv/lib/python3.6/site-packages/sqlalchemy/engine/base.py", line 1276
sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) could not connect to server
    at "db-master.{host}" (10.32.7.14), port 5432: Connection refused
</pre><hr><address>{host} nginx/1.14.2</address></body></html>""".encode()
