"""Pure helpers about the HTTP wire to a centre: client options and ``Retry-After``.

Kept apart from :mod:`connectors.http` so the call machinery there stays about
calls; both are re-exported or used only through it.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from typing import Any

import httpx

from .settings import CallPolicy
from .transport import CentreTransport

__all__ = ["client_options", "retry_after"]


def client_options(
    base_url: str,
    policy: CallPolicy,
    *,
    headers: Mapping[str, str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> dict[str, Any]:
    """Keyword arguments for an ``httpx.AsyncClient`` (or a subclass such as
    Authlib's OAuth client) with explicit timeouts and a pool sized to the
    centre's concurrency."""
    t = policy.timeouts
    n = policy.max_concurrency
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    return {
        "base_url": base_url,
        "timeout": httpx.Timeout(t.read, connect=t.connect, pool=t.total),
        "limits": limits,
        "headers": dict(headers or {}),
        "transport": transport or CentreTransport(limits),
        "follow_redirects": False,
    }


def retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait, from delta-seconds or an HTTP date; ``None`` if absent or unreadable."""
    raw = response.headers.get("Retry-After")
    if raw is None:
        return None
    raw = raw.strip()
    if raw.isdigit():
        return float(raw)
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
