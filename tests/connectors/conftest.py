"""Shared helpers for connector tests: recorded payloads, a fast call policy
and connectors wired to an ``httpx.MockTransport``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from connectors.settings import CallPolicy, Retries, Timeouts

PAYLOADS = Path(__file__).parent / "payloads"

# Small timeouts and backoff so retry tests run in milliseconds.
FAST = CallPolicy(
    timeouts=Timeouts(connect=0.5, read=0.5, total=2.0),
    max_concurrency=4,
    retries=Retries(max_attempts=3, backoff_base=0.01, backoff_max=0.02),
)

Handler = Callable[[httpx.Request], httpx.Response]


def raw(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


def payload(name: str) -> Any:
    return json.loads(raw(name))


def mock(handler: Handler) -> httpx.MockTransport:
    return httpx.MockTransport(handler)
