"""ASGI entry for ``onedoor serve --workers N`` (uvicorn imports it per worker)."""

from __future__ import annotations

import os
from pathlib import Path

from starlette.applications import Starlette

from .runtime import build_gateway
from .settings import load_settings

__all__ = ["app_factory"]


def app_factory() -> Starlette:
    from .telemetry.logs import configure_logging

    settings = load_settings(Path(os.environ["ONEDOOR_CONFIG"]))
    configure_logging(settings.logging)  # per worker: each is its own process
    return build_gateway(settings)
