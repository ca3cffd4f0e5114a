"""The wire under every centre client: httpx's API over aiohttp's connection pool.

httpx stays the connectors' API (requests, responses, timeouts, auth, mock
transports in tests, OpenTelemetry's client instrumentation); only the pool and
HTTP/1.1 parser underneath are aiohttp's (``httpx-aiohttp``). Measured on the
dashboard benchmark this halves the CPU each centre call costs (httpcore's pure
Python pool was the gateway's largest single cost).

Each request is handed to aiohttp as directly as it can be: the URL as
already encoded (no second parse and quote), the headers as raw pairs, one
``ClientTimeout`` per distinct timeout, and the body read whole before the
response is returned (every connector reads it whole) — about a third of the
CPU httpx-aiohttp's generic path spent per centre call, measured.

``httpx-aiohttp`` maps *every* ``aiohttp.ClientConnectionError`` to
``httpx.ConnectTimeout``, so a centre that drops the connection would be
reported as ``CENTRE_TIMEOUT``. :class:`CentreTransport` puts the real kind back
— refused connection → ``ConnectError``, dropped connection →
``RemoteProtocolError``, socket error → ``ReadError`` — for the response head
and for its body alike; genuine timeouts stay timeouts.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx
import yarl
from httpx_aiohttp import AiohttpTransport
from httpx_aiohttp.transport import map_aiohttp_exceptions

__all__ = ["CentreTransport"]


def _real_kind(exc: httpx.TransportError) -> httpx.TransportError:
    cause = exc.__cause__
    if cause is None or isinstance(cause, (asyncio.TimeoutError, aiohttp.ServerTimeoutError)):
        return exc
    message = f"{type(cause).__name__}: {cause}"
    if isinstance(cause, aiohttp.ClientConnectorError):
        return httpx.ConnectError(message)
    if isinstance(cause, aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError(message)
    if isinstance(cause, (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError)):
        return httpx.ReadError(message)
    return exc


class _Body(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream) -> None:
        self.inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self.inner:
                yield chunk
        except httpx.TransportError as exc:
            raise _real_kind(exc) from exc.__cause__

    async def aclose(self) -> None:
        await self.inner.aclose()


class CentreTransport(AiohttpTransport):
    def __init__(self, limits: httpx.Limits) -> None:
        super().__init__(limits=limits)
        self._timeouts: dict[tuple[float | None, ...], aiohttp.ClientTimeout] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            request.content  # noqa: B018 - raises when the body is a stream
        except httpx.RequestNotRead:  # a streamed body: the generic path
            return await self._generic(request)
        try:
            with map_aiohttp_exceptions():
                status, reason, headers, body = await self._exchange(request)
        except httpx.TransportError as exc:
            raise _real_kind(exc) from exc.__cause__
        extensions = {"http_version": b"HTTP/1.1"}
        if reason:
            extensions["reason_phrase"] = reason.encode()
        return httpx.Response(status_code=status, headers=headers, content=body, request=request,
                              extensions=extensions)

    async def _exchange(self, request: httpx.Request) -> tuple[int, str | None, Any, bytes]:
        session = self.client if isinstance(self.client, aiohttp.ClientSession) else None
        if session is None:
            session = self.client = self.get_client()
        timeout = request.extensions.get("timeout") or {}
        key = (timeout.get("connect"), timeout.get("read"), timeout.get("pool"))
        client_timeout = self._timeouts.get(key)
        if client_timeout is None:
            client_timeout = self._timeouts[key] = aiohttp.ClientTimeout(
                sock_connect=key[0], sock_read=key[1], connect=key[2])
        async with session.request(
            request.method, yarl.URL(str(request.url), encoded=True),
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw],
            data=request.content or None, allow_redirects=False, auto_decompress=False,
            compress=False, timeout=client_timeout,
            server_hostname=request.extensions.get("sni_hostname"),
        ) as response:
            body = await response.read()
            return response.status, response.reason, response.raw_headers, body

    async def _generic(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await super().handle_async_request(request)
        except httpx.TransportError as exc:
            raise _real_kind(exc) from exc.__cause__
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _Body(response.stream)
        return response
