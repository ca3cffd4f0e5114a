"""Tiny httpx helpers to drive a running sandbox centre (CLI and tests)."""

from __future__ import annotations

from typing import Any

import httpx

__all__ = ["get_stats", "reset_stats", "set_fault"]


async def set_fault(url: str, mode: str = "ok", rate: float = 1.0,
                    latency_ms: int | None = None, **extra: Any) -> dict[str, Any]:
    """POST ``/_sandbox/faults`` of the centre at ``url``; returns the new settings.
    ``extra`` passes further keys verbatim (``jitterMs``, ``slowMs``)."""
    body: dict[str, Any] = {"mode": mode, "rate": rate, **extra}
    if latency_ms is not None:
        body["latencyMs"] = latency_ms
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.post(f"{url.rstrip('/')}/_sandbox/faults", json=body)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result


async def get_stats(url: str) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(f"{url.rstrip('/')}/_sandbox/stats")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result


async def reset_stats(url: str) -> None:
    async with httpx.AsyncClient(timeout=5) as client:
        (await client.post(f"{url.rstrip('/')}/_sandbox/stats/reset")).raise_for_status()
