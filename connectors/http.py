"""The call machinery every connector shares, so timeouts, retries, bounded
concurrency and error translation live in one place.

A :class:`CentreClient` owns one pooled ``httpx.AsyncClient`` per centre.
Every request:

* waits for a slot of the centre's semaphore (a slow centre cannot eat all
  sockets or the gateway's event loop);
* runs under the call's total time budget — set once per connector call with
  :meth:`CentreClient.budget`, so fan-out sub-requests and retries share it;
* is retried, if it is an idempotent read, on transport errors, timeouts, 5xx
  and 429, with exponential backoff and full jitter, honouring ``Retry-After``
  but never sleeping past the budget;
* has foreign exceptions translated into :mod:`connectors.errors` here, at the
  boundary. ``detail`` carries method, path and status for logs — never the
  host, the query string (it holds resident IDs) or the backend body.
* passes the centre's circuit breaker (:mod:`connectors.breaker`): while the
  centre is down, calls fail fast without touching the network;
* if it is a read, shares one flight with identical reads already under way
  (:mod:`connectors.flight`), and reports the response's ``Cache-Control`` to
  the record cache (:mod:`connectors.freshness`).

Example::

    async with client.budget():
        response = await client.request("GET", "/api/cases", params={"ids": "a,b"})
        payload = json_body(client.centre, response)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from onedoor.model import Centre

from ._wire import client_options, retry_after
from .breaker import CircuitBreaker
from .errors import CentreError, CentreThrottled, CentreTimeout, CentreUnavailable
from .flight import Flights, request_key
from .freshness import note_cache_control
from .settings import CallPolicy

__all__ = [
    "CallStats",
    "CentreAuth",
    "CentreClient",
    "client_options",
]

_log = logging.getLogger("onedoor.connectors")
_deadline: ContextVar[float | None] = ContextVar("onedoor_centre_deadline", default=None)
# Jitter only spreads retries; it needs no cryptographic strength.
_jitter = random.Random()  # noqa: S311


class CentreAuth(Protocol):
    """Hook for centres that need credentials beyond a static header."""

    async def prepare(self) -> None:
        """Called before every attempt (e.g. fetch a token lazily)."""

    async def refresh(self) -> None:
        """Called once per request after a 401 (e.g. force a new token)."""

    def translate(self, exc: Exception) -> CentreError | None:
        """Map the auth library's own exceptions (raised mid-request)."""


@dataclass(slots=True)
class CallStats:
    """Per-centre counters read by ``health()`` and metrics."""

    requests: int = 0
    failures: int = 0
    retries: int = 0
    last_latency_ms: float | None = None
    last_error_code: str | None = None
    last_error_detail: str | None = None
    deduplicated: int = 0  # reads that joined an identical one in flight
    rejected: int = 0  # calls the open breaker failed fast
    breaker_opened: int = 0
    last_call_failed: bool = False


class _Retryable(Exception):
    """An attempt failed in a way a read may retry; carries the error to raise
    if the budget or the attempts run out."""

    def __init__(self, error: CentreError, retry_after: float | None = None) -> None:
        super().__init__(error.detail)
        self.error = error
        self.retry_after = retry_after


class CentreClient:
    """One centre's pooled HTTP client plus its call policy."""

    def __init__(
        self,
        centre: Centre,
        policy: CallPolicy,
        client: httpx.AsyncClient,
        *,
        auth: CentreAuth | None = None,
    ) -> None:
        self.centre = centre
        self.policy = policy
        self.client = client
        self.auth = auth
        self.stats = CallStats()
        self.breaker = CircuitBreaker(centre, policy.breaker, counts=self.stats)
        self._slots = asyncio.Semaphore(policy.max_concurrency)
        self._flights: Flights[tuple[str, ...], httpx.Response] = Flights()

    @classmethod
    def build(
        cls,
        centre: Centre,
        base_url: str,
        policy: CallPolicy,
        *,
        headers: Mapping[str, str],
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> CentreClient:
        """A plain pooled client (centres whose auth is a static header)."""
        options = client_options(base_url, policy, headers=headers, transport=transport)
        return cls(centre, policy, httpx.AsyncClient(**options))

    @contextlib.asynccontextmanager
    async def budget(self, seconds: float | None = None) -> AsyncIterator[None]:
        """Share one total time budget among every request made inside (also
        in tasks started inside). A nested budget never extends the outer one."""
        loop = asyncio.get_running_loop()
        mine = loop.time() + (seconds if seconds is not None else self.policy.timeouts.total)
        outer = _deadline.get()
        token = _deadline.set(mine if outer is None else min(outer, mine))
        try:
            yield
        finally:
            _deadline.reset(token)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json_body: Any = None,
        read_only: bool | None = None,
        attempts: int | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        """Send one logical request. ``read_only`` defaults to ``method == "GET"``; only
        read-only requests are retried (so is a write whose idempotency key makes a
        repeat harmless). 429 and 5xx raise (after retries); other statuses are the
        caller's to judge. Every call passes the breaker; identical read-only calls in
        flight at the same time (in one GraphQL request or many) share one."""
        retry = method == "GET" if read_only is None else read_only
        body = (json_body, content, headers)

        def send() -> Awaitable[httpx.Response]:
            return self.breaker.call(lambda: self._send(method, path, params, body, retry, attempts))

        if not retry:
            response = await send()
        else:
            loop = asyncio.get_running_loop()
            try:  # a joiner waits no longer than its own budget
                async with asyncio.timeout_at(_deadline.get() or loop.time() + self.policy.timeouts.total):
                    response, joined = await self._flights.run(
                        request_key(method, path, params, json_body, content, headers), send)
            except TimeoutError:
                raise CentreTimeout(self.centre, detail=f"{method} {path}: budget") from None
            self.stats.deduplicated += joined
        note_cache_control(response.headers.get("Cache-Control"))
        return response

    async def _send(self, method: str, path: str, params: Any, body: Any, retry: bool,
                    attempts: int | None) -> httpx.Response:
        loop = asyncio.get_running_loop()
        deadline = _deadline.get() or loop.time() + self.policy.timeouts.total
        max_attempts = attempts or (self.policy.retries.max_attempts if retry else 1)
        started = loop.time()
        self.stats.requests += 1
        try:
            async with asyncio.timeout_at(deadline):
                response = await self._attempts(method, path, params, body, max_attempts, deadline)
        except TimeoutError:
            error: CentreError = CentreTimeout(self.centre, detail=f"{method} {path}: budget")
            self._failed(error)
            raise error from None
        except CentreError as exc:
            self._failed(exc)
            raise
        finally:
            self.stats.last_latency_ms = (loop.time() - started) * 1000
        self.stats.last_call_failed = False
        return response

    def _failed(self, error: CentreError) -> None:
        self.stats.failures += 1
        self.stats.last_call_failed = True
        self.stats.last_error_code = error.code
        self.stats.last_error_detail = error.detail
        _log.warning("centre %s failed: %s (%s)", self.centre.value, error.code, error.detail)

    async def _attempts(
        self,
        method: str,
        path: str,
        params: Any,
        body: Any,
        max_attempts: int,
        deadline: float,
    ) -> httpx.Response:
        loop = asyncio.get_running_loop()
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._once(method, path, params, body)
                if response.status_code == 401 and self.auth is not None and not refreshed:
                    refreshed = True  # a rejected token was never processed: safe to resend
                    await self.auth.refresh()
                    attempt -= 1
                    continue
                return self._classify(method, path, response)
            except _Retryable as failure:
                if attempt >= max_attempts:
                    raise failure.error from failure.__cause__
                r = self.policy.retries
                ceiling = min(r.backoff_max, r.backoff_base * 2 ** (attempt - 1))
                backoff = _jitter.uniform(0, ceiling)
                delay = backoff if failure.retry_after is None else failure.retry_after + backoff
                if loop.time() + delay >= deadline:
                    # waiting would only end in a timeout: fail now with the real cause
                    raise failure.error from failure.__cause__
                self.stats.retries += 1
                _log.info("centre %s retry %d in %.2fs: %s", self.centre.value, attempt,
                          delay, failure.error.detail)
                await asyncio.sleep(delay)

    async def _once(self, method: str, path: str, params: Any, body: Any) -> httpx.Response:
        where = f"{method} {path}"
        json_body, content, headers = body  # (json, raw bytes, extra headers)
        async with self._slots:
            try:
                if self.auth is not None:
                    await self.auth.prepare()
                return await self.client.request(method, path, params=params, json=json_body,
                                                 content=content, headers=headers)
            except httpx.TimeoutException as exc:
                raise _Retryable(
                    CentreTimeout(self.centre, detail=f"{where}: {type(exc).__name__}")
                ) from exc
            except (httpx.TransportError, httpx.HTTPStatusError) as exc:
                # connect refused, dropped connection, protocol error, token endpoint 5xx
                raise _Retryable(
                    CentreUnavailable(self.centre, detail=f"{where}: {type(exc).__name__}")
                ) from exc
            except CentreError:
                raise
            except Exception as exc:
                mapped = self.auth.translate(exc) if self.auth is not None else None
                if mapped is None:
                    raise
                raise mapped from exc

    def _classify(self, method: str, path: str, response: httpx.Response) -> httpx.Response:
        status = response.status_code
        where = f"{method} {path} -> {status}"
        if status == 429:
            raise _Retryable(
                CentreThrottled(self.centre, http_status=status, detail=where),
                retry_after(response),
            )
        if status >= 500:
            raise _Retryable(
                CentreUnavailable(self.centre, http_status=status, detail=where),
                retry_after(response) if status == 503 else None,
            )
        return response

    async def aclose(self) -> None:
        await self.client.aclose()
