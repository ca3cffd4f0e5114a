"""A gateway app over in-memory centres, driven through httpx's ASGI transport."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import httpx

from connectors.base import Connector
from connectors.settings import demo_settings
from gateway.app import create_app
from gateway.demo import centres_toml
from gateway.middleware import InvalidToken
from gateway.settings import GatewaySettings, LimitsSettings
from onedoor.model import Centre
from policy.principal import Principal
from services.audit import AuditStore, open_audit_store

URLS = {c: f"http://127.0.0.1:{9101 + i}" for i, c in enumerate(Centre)}
# The [centres.*] tables a config file needs (demo ports; nothing listens there).
CENTRES_TOML = centres_toml({c: f"http://127.0.0.1:{8101 + i}" for i, c in enumerate(Centre)},
                            "http://127.0.0.1:8100")


def settings(**overrides: object) -> GatewaySettings:
    return GatewaySettings(centres=demo_settings(URLS, "http://127.0.0.1:9100"), **overrides)


@contextlib.asynccontextmanager
async def client(
    connectors: Mapping[Centre, Connector],
    principals: Mapping[str, Principal],
    *,
    limits: LimitsSettings | None = None,
    audit: AuditStore | None = None,
    **overrides: object,
) -> AsyncIterator[httpx.AsyncClient]:
    """``async with client(...) as http``: the app over ASGI, with a fresh SQLite
    audit store unless one is given."""
    async def authenticate(token: str) -> Principal:
        try:
            return principals[token]
        except KeyError:
            raise InvalidToken("unknown") from None

    if limits is not None:
        overrides["limits"] = limits
    with tempfile.TemporaryDirectory() as tmp:
        store = audit or await open_audit_store(f"sqlite:///{Path(tmp) / 'audit.sqlite'}")
        app = create_app(settings(**overrides), connectors, authenticate, audit=store,
                         close_connectors=False)
        try:
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://gateway"
            ) as http:
                yield http
        finally:
            if audit is None:
                await store.aclose()
