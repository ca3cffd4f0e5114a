"""The wire under every centre client: httpx's API over aiohttp's connection pool.

httpx stays the connectors' API (requests, responses, timeouts, auth, mock
transports in tests, OpenTelemetry's client instrumentation); only the pool and
HTTP/1.1 parser underneath are aiohttp's (``httpx-aiohttp``). Measured on the
dashboard benchmark this halves the CPU each centre call costs (httpcore's pure
Python pool was the gateway's largest single cost).

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

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

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

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await super().handle_async_request(request)
        except httpx.TransportError as exc:
            raise _real_kind(exc) from exc.__cause__
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _Body(response.stream)
        return response
