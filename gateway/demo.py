"""``onedoor demo``: identity provider, five centres and the gateway in one process.

Ports follow the demo layout (identity provider ``port+100``, centres
``port+101`` … ``port+105`` in ``Centre`` order); keys and databases live under
the state directory, where ``onedoor token`` finds them again. Each centre with
webhooks gets a fresh random secret, given to both sides (as an operator would
configure a real centre and the gateway), and the gateway's callback URL, so
``matterUpdates`` is live for every centre from the start. The demo keeps the
analytic projection (DuckDB in the state directory), so the dispatcher's view and
``organisation(creditCode:)`` answer from it once the first load is done.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import uvicorn
from pydantic import SecretStr

from connectors.settings import demo_settings
from onedoor.model import Centre
from policy.personas import DEMO_AUDIENCE, PERSONAS, persona_claims

from .runtime import build_gateway
from .server import header_timeout_protocol
from .settings import AuditSettings, AuthSettings, GatewaySettings, IssuerSettings, ProjectionSettings

__all__ = ["EXAMPLE_QUERY", "centres_toml", "demo_issuer", "demo_organisation", "demo_samples", "demo_settings_for",
           "register_webhooks", "run_demo"]

EXAMPLE_QUERY = """\
query Dashboard($id: String!) {
  citizen(idNumber: $id) {
    name
    matters(first: 20) {
      totalCount
      nodes {
        __typename id centre reference category title status centreStatus receivedAt dueAt overdue
        links { relation matter { __typename centre reference status } }
      }
    }
  }
}"""

_STATE_FILE = "demo.json"


def demo_samples(world: Any, n: int = 3, region_prefix: str = "6323") -> list[str]:
    """Citizens worth showing: matters at all five centres with cross-centre links,
    the first living in the caseworker persona's jurisdiction (Huangnan 632300)."""
    cols, people = world.cols, world.people
    bits = np.zeros(people.n, np.uint8)
    np.bitwise_or.at(bits, cols.citizen, (1 << cols.centre.astype(np.uint8)))
    linked = np.zeros(people.n, bool)
    linked[cols.citizen[cols.link >= 0]] = True
    candidates = [str(people.id_number(int(i))) for i in np.flatnonzero((bits == 0b11111) & linked)]
    local = [c for c in candidates if c.startswith(region_prefix)]
    ordered = local[:1] + [c for c in candidates if c not in local[:1]]
    picked = ordered[:n]
    return picked if picked else list(world.sample_citizens(n))


def demo_organisation(world: Any, region_prefix: str = "6323") -> str | None:
    """An employer worth showing: the credit code of the organisation with matters at the
    most centres (then the most matters) in the caseworker persona's jurisdiction."""
    from sandbox.common import counter_party

    seen: dict[str, tuple[set[Centre], list[int]]] = {}
    for centre in (Centre.MEDIATION, Centre.LEGAL_SERVICES, Centre.LITIGATION):
        for row in world.rows(centre):
            matter = world.matter(row)
            code = None if matter.other is not None else counter_party(world, matter).org_code
            if code is not None and matter.region_code.startswith(region_prefix):
                centres, rows = seen.setdefault(code, (set(), []))
                centres.add(centre)
                rows.append(row)
    best = max(seen.items(), key=lambda item: (len(item[1][0]), len(item[1][1]), item[0]), default=None)
    return None if best is None else best[0]


def demo_issuer(state_dir: Path) -> str:
    """The issuer URL of the demo identity provider last started in ``state_dir``."""
    data = json.loads((state_dir / _STATE_FILE).read_text())
    issuer: str = data["issuer"]
    return issuer


def centres_toml(urls: Mapping[Centre, str], idp_url: str) -> str:
    """The ``[centres.*]`` tables of a config file for the sandbox at ``urls`` (LEGAL_SERVICES
    takes its tokens from the sandbox's identity provider), for gateways started as processes."""
    lines = []
    for centre in Centre:
        lines += [f"[centres.{centre.value.lower()}]", f'base_url = "{urls[centre]}"']
        if centre is Centre.LEGAL_SERVICES:
            lines.append(f'token_url = "{idp_url}/oauth/token"')
    return "\n".join(lines) + "\n"


def demo_settings_for(
    urls: dict[Centre, str], idp_url: str, state_dir: Path, port: int,
    webhook_secrets: Mapping[Centre, str] | None = None,
) -> GatewaySettings:
    """The demo gateway's settings; ``webhook_secrets`` are the ones the sandbox
    centres sign their callbacks with (without them, callbacks are refused)."""
    centres = demo_settings(urls, idp_url)
    for centre, secret in (webhook_secrets or {}).items():
        key = centre.value.lower()
        section = getattr(centres, key).model_copy(update={"webhook_secret": SecretStr(secret)})
        centres = centres.model_copy(update={key: section})
    return GatewaySettings(
        mode="demo",
        port=port,
        introspection=True,
        field_suggestions=True,
        state_dir=state_dir,
        auth=AuthSettings(issuers=(IssuerSettings(
            issuer=idp_url, jwks_url=f"{idp_url}/.well-known/jwks.json",
            audiences=(DEMO_AUDIENCE,),
        ),)),
        audit=AuditSettings(url=f"sqlite:///{state_dir / 'audit.sqlite'}"),
        centres=centres,
    )


async def register_webhooks(centre_urls: Mapping[Centre, str], gateway_url: str,
                            centres: Collection[Centre]) -> dict[Centre, str]:
    """Register ``{gateway_url}/webhooks/{centre}`` with each of ``centres`` (the ones
    with webhooks) through the sandbox's ``POST /_sandbox/webhooks``; returns the URLs."""
    registered: dict[Centre, str] = {}
    async with httpx.AsyncClient(timeout=httpx.Timeout(5.0)) as client:
        for centre in Centre:
            if centre not in centres:
                continue
            callback = f"{gateway_url}/webhooks/{centre.value.lower()}"
            response = await client.post(f"{centre_urls[centre]}/_sandbox/webhooks",
                                         json={"url": callback})
            response.raise_for_status()
            registered[centre] = callback
    return registered


async def run_demo(
    port: int, state_dir: Path, *, seed: int, matters: int | None, latency_ms: int
) -> None:
    from sandbox.idp import mint_token
    from sandbox.runner import run_sandbox
    from sandbox.writes import WEBHOOK_CENTRES

    # A fresh shared secret per centre with webhooks, configured on both sides.
    hook_secrets = {c: secrets.token_hex(32) for c in Centre if c in WEBHOOK_CENTRES}
    async with run_sandbox(port, state_dir, seed=seed, matters=matters,
                           latency_ms=latency_ms, webhook_secrets=hook_secrets) as sb:
        settings = demo_settings_for(dict(sb.urls), sb.idp_url, state_dir, port,
                                     webhook_secrets=hook_secrets)
        settings = settings.model_copy(update={"projection": ProjectionSettings(enabled=True, poll_seconds=1.0)})
        samples = demo_samples(sb.world)  # also offered by /portal/demo-tokens
        employer = demo_organisation(sb.world)
        (state_dir / _STATE_FILE).write_text(json.dumps({"issuer": sb.idp_url, "port": port,
                                                         "samples": samples}))
        app = build_gateway(settings)
        server = uvicorn.Server(uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="on",
            http=header_timeout_protocol(settings.limits.header_timeout_seconds)))
        # Callbacks wait for the centre's next status change, by when the gateway listens.
        hooks = await register_webhooks(sb.urls, f"http://127.0.0.1:{port}", WEBHOOK_CENTRES)
        print(f"OneDoor demo — GraphiQL: http://127.0.0.1:{port}/graphql")
        for centre, url in sb.urls.items():
            print(f"centre {centre.value}: {url}")
        for centre, callback in hooks.items():
            print(f"webhook {centre.value}: {callback} (signed)")
        print(f"identity provider: {sb.idp_url}")
        for citizen in samples:
            print(f"sample citizen: {citizen}")
        if employer is not None:
            print(f"sample organisation: {employer}  (organisation(creditCode:), its matters across centres)")
        for name in PERSONAS:
            sub = samples[0] if name == "citizen" else None
            claims = persona_claims(name, sub=sub)
            token = mint_token(state_dir, {"iss": sb.idp_url, **claims}, ttl=8 * 3600)
            print(f"token {name}: {token}")
        print("Paste into GraphiQL with header {\"Authorization\": \"Bearer <token caseworker>\"}")
        print(f"and variables {{\"id\": \"{samples[0]}\"}}:")
        print(EXAMPLE_QUERY)
        print("Ctrl-C stops everything.", flush=True)
        await server.serve()
