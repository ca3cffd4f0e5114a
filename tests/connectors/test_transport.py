"""The transport under every centre client reports each wire failure as its own
kind (the connectors turn those into CENTRE_UNAVAILABLE vs CENTRE_TIMEOUT)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from connectors.transport import CentreTransport

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _read_head(reader: asyncio.StreamReader) -> None:
    await reader.readuntil(b"\r\n\r\n")


async def _ok(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        try:
            await _read_head(reader)
        except asyncio.IncompleteReadError:
            writer.close()
            return
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json"
                     b"\r\n\r\n{}")
        await writer.drain()


async def _drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _read_head(reader)
    writer.transport.abort()  # what a crashed backend looks like


async def _half_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _read_head(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"items\": [")
    await writer.drain()
    writer.transport.abort()


async def _silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _read_head(reader)
    await reader.read()  # until the client gives up and closes
    writer.close()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    servers: list[asyncio.Server] = []

    async def start(handler: Handler) -> str:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        servers.append(server)
        return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


def _client(url: str, read: float = 2.0) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=4, max_keepalive_connections=4)
    return httpx.AsyncClient(base_url=url, transport=CentreTransport(limits),
                             timeout=httpx.Timeout(read, connect=1.0))


async def test_keep_alive_reuses_one_connection(serve: Callable[[Handler], Awaitable[str]]) -> None:
    connections = 0

    async def counting(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await _ok(reader, writer)

    async with _client(await serve(counting)) as http:
        for _ in range(5):
            response = await http.get("/x")
            assert response.status_code == 200 and response.json() == {}
    assert connections == 1


async def test_a_refused_connection_is_a_connect_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    async with _client(f"http://127.0.0.1:{port}") as http:
        with pytest.raises(httpx.ConnectError):
            await http.get("/x")


async def test_a_dropped_connection_is_not_reported_as_a_timeout(
        serve: Callable[[Handler], Awaitable[str]]) -> None:
    async with _client(await serve(_drop)) as http:
        with pytest.raises(httpx.TransportError) as caught:
            await http.get("/x")
    assert not isinstance(caught.value, httpx.TimeoutException)
    assert isinstance(caught.value, httpx.RemoteProtocolError | httpx.ReadError)


async def test_a_body_cut_short_is_a_read_error(serve: Callable[[Handler], Awaitable[str]]) -> None:
    async with _client(await serve(_half_body)) as http:
        with pytest.raises(httpx.TransportError) as caught:
            await http.get("/x")
    assert not isinstance(caught.value, httpx.TimeoutException)


async def test_a_silent_centre_is_a_read_timeout(serve: Callable[[Handler], Awaitable[str]]) -> None:
    async with _client(await serve(_silent), read=0.2) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.get("/x")
