"""The HTTP server's own guard: a header read timeout.

uvicorn closes idle keep-alive connections but waits for ever on a request
whose headers never finish (slowloris): 1,500 half-sent requests were held
open indefinitely. This protocol closes a connection whose request headers
have not all arrived within ``seconds`` of its first byte (or of the
connection opening). It is the h11 protocol, always: the choice is explicit
so that installing httptools cannot silently drop the guard.

Two costs of the wire are cut here too: Nagle is off on every accepted
connection, and a response's head leaves with its first body bytes in one send.

Example::

    uvicorn.Config(app, http=header_timeout_protocol(10.0))
    # worker processes import it by name; the parent sets the timeout:
    os.environ[HEADER_TIMEOUT_ENV] = "10"
    uvicorn.Config("gateway.asgi:app_factory", http="gateway.server:HeaderTimeoutProtocol")
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["HEADER_TIMEOUT_ENV", "HeaderTimeoutProtocol", "bind_tcp", "header_timeout_protocol"]

HEADER_TIMEOUT_ENV = "ONEDOOR_SERVE_HEADER_TIMEOUT"


class _HeaderTimeoutProtocol(H11Protocol):
    header_timeout: float = 10.0
    closed_for_timeout = 0  # per process, for tests and the curious

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        _no_delay(transport)
        super().connection_made(transport)
        self._header_timer: asyncio.TimerHandle | None = None
        self._arm()

    def _arm(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout, self._timed_out)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE:
            self._arm()  # the first bytes of a request (again on a keep-alive connection)
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._disarm()  # the headers are in: the body and the app have their own limits

    def handle_events(self) -> None:
        cycle = self.cycle
        super().handle_events()
        if self.cycle is not cycle and self.cycle is not None:  # a new request's cycle
            self.cycle.transport = _HeadWithBody(self.transport)  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _timed_out(self) -> None:
        self._header_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            type(self).closed_for_timeout += 1
            self.transport.close()


class _HeadWithBody:
    """The transport as one request's cycle sees it: the response head is held
    until the first body write and leaves with it, one send instead of two
    (each send on loopback cost ~0.1 ms of CPU, measured). Informational (1xx)
    responses pass at once; closing sends a held head first."""

    __slots__ = ("_held", "_transport")

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._held: bytes | None = None  # None: no head seen yet; b"": sent

    def write(self, data: bytes) -> None:
        if self._held is None and not data.startswith(b"HTTP/1.1 1"):
            self._held = bytes(data)
            return
        if self._held:
            data, self._held = self._held + data, b""
        self._transport.write(data)

    def close(self) -> None:
        if self._held:
            self._transport.write(self._held)
            self._held = b""
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def _no_delay(transport: asyncio.BaseTransport) -> None:
    """Turn Nagle off, as asyncio does only for sockets created with ``IPPROTO_TCP``:
    ``serve`` binds its own (``socket.socket(family, SOCK_STREAM)``, proto 0, as
    uvicorn's ``Config.bind_socket`` does), so without this every response's body
    waited for the client's delayed ACK of its headers (+40 ms a request, measured)."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def header_timeout_protocol(seconds: float) -> type[Any]:
    """An h11 protocol class that closes connections whose headers take longer than ``seconds``."""
    return type("HeaderTimeoutProtocol", (_HeaderTimeoutProtocol,), {"header_timeout": seconds})


class HeaderTimeoutProtocol(_HeaderTimeoutProtocol):
    """The importable form (``--workers N`` spawns processes that import it by name)."""

    header_timeout = float(os.environ.get(HEADER_TIMEOUT_ENV, "10"))


def bind_tcp(host: str, port: int) -> socket.socket:
    """A listening socket that worker processes inherit (as uvicorn binds its own)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock
