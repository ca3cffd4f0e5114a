"""``/portal``: a static demo page over the public GraphQL API (demo mode only).

Plain HTML and JavaScript, no build step and no CDN (the demo runs offline):
front-end teams read it to see the gateway used as intended — one token, one
``/graphql`` endpoint, nothing else. ``GET /portal/demo-tokens`` hands out
short-lived demo persona tokens so the page works without pasting one; it is
mounted only when ``settings.mode == "demo"`` because it mints tokens with the
sandbox identity provider's key from the state directory.

Example (``gateway/app.py``)::

    routes += [portal_mount(settings)] if settings.mode == "demo" else []
"""

from __future__ import annotations

import json
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from policy.personas import persona_claims

from ..settings import GatewaySettings

__all__ = ["STATIC_DIR", "portal_mount"]

STATIC_DIR = Path(__file__).parent / "static"
_TOKEN_TTL = 3600


def _samples(state_dir: Path) -> list[str]:
    """Sample citizens ``onedoor demo`` wrote beside the issuer (none elsewhere)."""
    try:
        data = json.loads((state_dir / "demo.json").read_text())
    except (OSError, ValueError):
        return []
    samples = data.get("samples") if isinstance(data, dict) else None
    return [s for s in samples if isinstance(s, str)] if isinstance(samples, list) else []


def portal_mount(settings: GatewaySettings) -> Mount:
    async def demo_tokens(_: Request) -> JSONResponse:
        from sandbox.idp import mint_token  # demo only: the sandbox IdP's key signs them

        if not settings.auth.issuers:
            return JSONResponse({"error": "no issuer configured"}, status_code=404)
        issuer = settings.auth.issuers[0].issuer
        samples = _samples(settings.state_dir)
        tokens = {name: mint_token(settings.state_dir, {"iss": issuer, **persona_claims(name)}, ttl=_TOKEN_TTL)
                  for name in ("analyst", "portal")}
        if samples:
            claims = persona_claims("citizen", sub=samples[0])
            tokens["citizen"] = mint_token(settings.state_dir, {"iss": issuer, **claims}, ttl=_TOKEN_TTL)
        return JSONResponse({"tokens": tokens, "samples": samples, "expiresIn": _TOKEN_TTL},
                            headers={"Cache-Control": "no-store"})

    return Mount("/portal", app=Starlette(routes=[
        Route("/demo-tokens", demo_tokens),
        Mount("/", app=StaticFiles(directory=STATIC_DIR, html=True)),
    ]))
