"""Security point 9 (connections): half-sent requests are closed after the header
read timeout instead of being held open for ever (slowloris)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from gateway.server import header_timeout_protocol


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _ok(_: object) -> PlainTextResponse:
    return PlainTextResponse("ok")


@contextlib.asynccontextmanager
async def serving(seconds: float) -> AsyncIterator[tuple[int, type]]:
    protocol = header_timeout_protocol(seconds)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(Starlette(routes=[Route("/", _ok)]), host="127.0.0.1",
                                           port=port, log_level="error", http=protocol,
                                           lifespan="off"))
    task = asyncio.create_task(server.serve())
    for _ in range(1000):  # bounded: up to ~10 s for the server to bind
        if server.started:
            break
        await asyncio.sleep(0.01)
    try:
        yield port, protocol
    finally:
        server.should_exit = True
        await task


async def _closed_by_server(reader: asyncio.StreamReader, bound: float) -> bool:
    try:
        return await asyncio.wait_for(reader.read(), timeout=bound) == b""
    except TimeoutError:
        return False


async def test_half_sent_requests_are_closed_after_the_header_timeout() -> None:
    async with serving(0.2) as (port, protocol):
        streams = [await asyncio.open_connection("127.0.0.1", port) for _ in range(50)]
        for _, writer in streams:
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # never finished
            await writer.drain()
        closed = await asyncio.gather(*(_closed_by_server(r, 10) for r, _ in streams))
        assert all(closed)
        assert protocol.closed_for_timeout == 50
        for _, writer in streams:
            writer.close()


async def test_a_silent_connection_is_closed_too() -> None:
    async with serving(0.2) as (port, protocol):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await _closed_by_server(reader, 10)
        assert protocol.closed_for_timeout == 1
        writer.close()


async def test_complete_requests_are_served_and_keep_alive_survives_the_timer() -> None:
    async with serving(0.2) as (port, protocol):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(2):
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"ok"), timeout=10)
            assert head.startswith(b"HTTP/1.1 200")
            await asyncio.sleep(0.3)  # idle between requests: the keep-alive timeout governs
        assert protocol.closed_for_timeout == 0
        writer.close()
