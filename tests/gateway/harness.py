"""A gateway app over in-memory centres, driven through httpx's ASGI transport."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from connectors.base import Connector
from connectors.settings import demo_settings
from gateway.app import create_app
from gateway.middleware import InvalidToken
from gateway.principal import Principal
from gateway.settings import GatewaySettings, LimitsSettings
from onedoor.model import Centre

URLS = {c: f"http://127.0.0.1:{9101 + i}" for i, c in enumerate(Centre)}


def settings(**overrides: object) -> GatewaySettings:
    return GatewaySettings(centres=demo_settings(URLS, "http://127.0.0.1:9100"), **overrides)


def client(
    connectors: Mapping[Centre, Connector],
    principals: Mapping[str, Principal],
    *,
    limits: LimitsSettings | None = None,
    **overrides: object,
) -> httpx.AsyncClient:
    async def authenticate(token: str) -> Principal:
        try:
            return principals[token]
        except KeyError:
            raise InvalidToken("unknown") from None

    if limits is not None:
        overrides["limits"] = limits
    app = create_app(settings(**overrides), connectors, authenticate, close_connectors=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway")
