"""HTTP stage (pure ASGI middleware): request id, body limit, token → principal.

Each passes through by default; a refusal is a complete JSON response in the
GraphQL error shape so that clients need one error parser.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from policy.auth.errors import InvalidToken
from policy.principal import ANONYMOUS, Principal

__all__ = ["AuthMiddleware", "Authenticator", "BodyLimitMiddleware", "InvalidToken", "RequestIdMiddleware"]

Authenticator = Callable[[str], Awaitable[Principal]]
_CLAIM_REASONS = frozenset({"bad_region", "bad_subject"})
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


async def send_json(
    send: Send, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]] = ()  # type: ignore[assignment]
) -> None:
    payload = json.dumps(body, ensure_ascii=False).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json; charset=utf-8"),
                    (b"content-length", str(len(payload)).encode()), *headers],
    })
    await send({"type": "http.response.body", "body": payload})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


class RequestIdMiddleware:
    """Accepts a well-formed ``X-Request-Id`` or makes one; echoes it back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"x-request-id")
        request_id = given if given and _SAFE_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        await self.app(scope, receive, send_with_id)


class BodyLimitMiddleware:
    """Refuses bodies over the limit with 413 before anything parses them."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        await send_json(send, 413, {"errors": [{
            "message": "请求体过大 / request body too large",
            "extensions": {"code": "REQUEST_TOO_LARGE", "maxBytes": self.max_bytes},
        }]})


class _TooLarge(Exception):
    pass


class AuthMiddleware:
    """Bearer token → :class:`Principal` in ``scope["state"]["principal"]``.

    A bad token is a 401 with ``WWW-Authenticate: Bearer error="invalid_token"``
    (RFC 6750); no token is the anonymous principal unless configured to refuse.
    """

    def __init__(self, app: ASGIApp, authenticate: Authenticator, *, reject_anonymous: bool) -> None:
        self.app = app
        self.authenticate = authenticate
        self.reject_anonymous = reject_anonymous

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not scope["path"].startswith("/graphql"):
            await self.app(scope, receive, send)
            return
        header = _header(scope, b"authorization")
        principal = ANONYMOUS
        if header is not None:
            scheme, _, token = header.partition(" ")
            try:
                if scheme.lower() != "bearer" or not token.strip():
                    raise InvalidToken("malformed")
                principal = await self.authenticate(token.strip())
            except InvalidToken as exc:
                # A signed token with an unusable claim: the issuer's administrator
                # needs to know which (a forger learns nothing from it).
                detail = exc.detail if exc.reason in _CLAIM_REASONS else None
                await self._deny(scope, send, 'Bearer error="invalid_token"',
                                 "令牌无效或已过期 / the token is invalid or expired", detail)
                return
        elif self.reject_anonymous and scope["type"] == "http":
            await self._deny(scope, send, "Bearer", "需要令牌 / a bearer token is required")
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)

    async def _deny(self, scope: Scope, send: Send, challenge: str, message: str,
                    reason: str | None = None) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 4401})
            return
        extensions: dict[str, Any] = {"code": "UNAUTHENTICATED"}
        if reason:
            extensions["reason"] = reason
        await send_json(
            send, 401, {"errors": [{"message": message, "extensions": extensions}]},
            [(b"www-authenticate", challenge.encode())],
        )


class AdminListener:
    """Operators' endpoints on their own listener: with ``admin_port`` set, the
    admin paths (``/metrics``, ``/readyz``) answer only there and the admin
    listener answers nothing else — so a metrics scrape that moves with every
    lookup is out of the public listener's reach (no existence oracle)."""

    def __init__(self, app: ASGIApp, *, admin_port: int | None, admin_paths: frozenset[str]) -> None:
        self.app = app
        self.admin_port = admin_port
        self.admin_paths = admin_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.admin_port is None or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        server = scope.get("server")
        on_admin = server is not None and server[1] == self.admin_port
        if (scope["path"] in self.admin_paths) != on_admin:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 4404})
                return
            await send_json(send, 404, {"errors": [{"message": "Not Found",
                                                    "extensions": {"code": "NOT_FOUND"}}]})
            return
        await self.app(scope, receive, send)
