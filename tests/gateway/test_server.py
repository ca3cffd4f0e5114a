"""gateway.server: connections accepted on the sockets ``serve`` binds itself
(proto 0, which asyncio's own TCP_NODELAY skips) have Nagle off; otherwise a
response's body waits for the client's delayed ACK of its headers (~40 ms)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from gateway.server import _HeadWithBody, bind_tcp, header_timeout_protocol


async def _ok(_: object) -> PlainTextResponse:
    return PlainTextResponse("ok")


async def _nodelay_of_accepted(listener: socket.socket) -> list[int]:
    seen: list[int] = []
    base = header_timeout_protocol(5.0)

    class Spy(base):  # type: ignore[valid-type,misc]
        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            sock = transport.get_extra_info("socket")
            seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    server = uvicorn.Server(uvicorn.Config(Starlette(routes=[Route("/", _ok)]), http=Spy,
                                           lifespan="off", log_level="error"))
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        for _ in range(1000):  # bounded: up to ~10 s for the server to start
            if server.started:
                break
            await asyncio.sleep(0.01)
        reader, writer = await asyncio.open_connection(*listener.getsockname()[:2])
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        assert (await asyncio.wait_for(reader.readuntil(b"ok"), 10)).startswith(b"HTTP/1.1 200")
        writer.close()
    finally:
        server.should_exit = True
        await task
    return seen


async def test_a_socket_bound_like_uvicorns_bind_socket_serves_with_nagle_off() -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # proto 0, as Config.bind_socket
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    assert listener.proto == 0
    assert await _nodelay_of_accepted(listener) == [1]


async def test_bind_tcp_serves_with_nagle_off() -> None:
    listener = bind_tcp("127.0.0.1", 0)
    assert listener.proto == socket.IPPROTO_TCP
    assert await _nodelay_of_accepted(listener) == [1]


class _Wire:
    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.sent.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


def test_the_head_leaves_with_the_first_body_bytes() -> None:
    wire = _Wire()
    transport = _HeadWithBody(wire)  # type: ignore[arg-type]
    transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # informational: at once
    transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
    assert wire.sent == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    transport.write(b"ok")
    transport.write(b"")
    transport.write(b"more")
    assert wire.sent[1:] == [b"HTTP/1.1 200 OK\r\n\r\nok", b"", b"more"]
    assert not transport.is_closing()  # everything else is the real transport's


def test_a_held_head_is_sent_before_closing() -> None:
    wire = _Wire()
    transport = _HeadWithBody(wire)  # type: ignore[arg-type]
    transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
    transport.close()
    assert wire.sent == [b"HTTP/1.1 200 OK\r\n\r\n"] and wire.closed


async def test_a_response_arrives_in_one_segment() -> None:
    listener = bind_tcp("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(Starlette(routes=[Route("/", _ok)]),
                                           http=header_timeout_protocol(5.0), lifespan="off",
                                           log_level="error"))
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        for _ in range(1000):
            if server.started:
                break
            await asyncio.sleep(0.01)
        reader, writer = await asyncio.open_connection(*listener.getsockname()[:2])
        for _ in range(3):  # keep-alive: each request's cycle holds its own head
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            await writer.drain()
            first = await asyncio.wait_for(reader.read(65536), 10)
            assert first.startswith(b"HTTP/1.1 200") and first.endswith(b"\r\n\r\nok")
        writer.close()
    finally:
        server.should_exit = True
        await task
