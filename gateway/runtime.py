"""Builds a running gateway from validated settings (used by demo and serve)."""

from __future__ import annotations

from starlette.applications import Starlette

from connectors.registry import build_connectors
from policy.auth import build_authenticator

from .app import create_app
from .settings import GatewaySettings

__all__ = ["build_gateway"]


def build_gateway(settings: GatewaySettings) -> Starlette:
    connectors = build_connectors(settings.centres)
    return create_app(settings, connectors, build_authenticator(settings.auth))
