"""Handlers behind :mod:`gateway.cli`; imports are local so ``onedoor schema``
does not pay for uvicorn and ``onedoor token`` does not load the schema."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from pathlib import Path

__all__ = ["cmd_audit", "cmd_config", "cmd_demo", "cmd_sandbox", "cmd_schema", "cmd_serve",
           "cmd_token"]


def _fail(message: str, code: int = 2) -> int:
    print(f"onedoor: {message}", file=sys.stderr)
    return code


def cmd_schema(_: argparse.Namespace) -> int:
    from schema import sdl

    sys.stdout.write(sdl())
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    from gateway.settings import ConfigError, load_settings

    try:
        settings = load_settings(args.file)
    except ConfigError as exc:
        return _fail(str(exc))
    print(f"ok: {args.file} ({settings.mode} mode)")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from gateway.demo import run_demo

    args.state_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_demo(args.port, args.state_dir, seed=args.seed, matters=args.matters,
                             latency_ms=args.latency_ms))
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    if args.sandbox_command == "fault":
        return _fault(args)
    from sandbox.runner import SERVERS, serve_forever

    only = [n.strip().upper() for n in args.only.split(",")] if args.only else None
    if only is not None and (unknown := set(only) - set(SERVERS)):
        return _fail(f"--only: unknown {', '.join(sorted(unknown))}; choose from {', '.join(SERVERS)}")
    with contextlib.suppress(KeyboardInterrupt):
        serve_forever(args.port, args.state_dir, seed=args.seed, matters=args.matters,
                      latency_ms=args.latency_ms, host=args.host, public_host=args.public_host,
                      only=only, rate_limit=args.rate_limit, callbacks=args.callbacks)
    return 0


def _demo_port(state_dir: Path) -> int | None:
    """The port ``onedoor demo`` last ran at with this state directory."""
    try:
        port = json.loads((state_dir / "demo.json").read_text()).get("port")
    except (OSError, ValueError, AttributeError):
        return None
    return port if isinstance(port, int) else None


def _fault(args: argparse.Namespace) -> int:
    import httpx

    from onedoor.model import Centre
    from sandbox.client import set_fault

    port = args.port if args.port is not None else _demo_port(args.state_dir) or 8000
    index = list(Centre).index(Centre(args.centre))
    url = f"http://127.0.0.1:{port + 101 + index}"
    try:
        state = asyncio.run(set_fault(url, args.mode, rate=args.rate, latency_ms=args.latency_ms))
    except httpx.HTTPStatusError as exc:
        return _fail(f"{args.centre} at {url} refused the fault: HTTP {exc.response.status_code}", code=1)
    except (httpx.HTTPError, OSError) as exc:
        # A stopped demo is an answer, not a crash: one line, no traceback.
        return _fail(f"{args.centre} is not reachable at {url} ({type(exc).__name__}): is "
                     f"`onedoor demo --port {port}` running? (--port, --state-dir)", code=1)
    print(f"{args.centre}: {state}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from gateway.settings import ConfigError, load_settings

    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        return _fail(str(exc))
    os.environ["ONEDOOR_CONFIG"] = str(args.config.resolve())
    if args.workers > 1 or os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from gateway.telemetry.multiprocess import prepare_multiprocess_dir

        prepare_multiprocess_dir()
    from gateway.server import HEADER_TIMEOUT_ENV, bind_tcp
    from gateway.telemetry.logs import configure_logging

    configure_logging(settings.logging)
    os.environ[HEADER_TIMEOUT_ENV] = str(settings.limits.header_timeout_seconds)
    config = uvicorn.Config(
        "gateway.asgi:app_factory",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers,
        log_level=settings.logging.level.lower(),
        log_config=None,  # gateway.telemetry.logs formats every line as JSON
        access_log=False,  # ours omits the query string (GET variables hold resident IDs)
        proxy_headers=True,
        timeout_graceful_shutdown=20,
        # Longer than a load balancer's idle timeout (commonly 60 s): otherwise the
        # gateway closes a keep-alive connection just as a client reuses it.
        timeout_keep_alive=75,
        http="gateway.server:HeaderTimeoutProtocol",  # closes half-sent requests
    )
    # The public listener, and the operators' one when configured: every worker
    # serves both; the app tells them apart by the local port (AdminListener).
    sockets = [config.bind_socket()]
    if settings.admin_port is not None:
        sockets.append(bind_tcp(settings.admin_host, settings.admin_port))
    if config.workers > 1:
        from uvicorn.supervisors import Multiprocess

        Multiprocess(config, sockets=sockets).run()
    else:
        uvicorn.Server(config).run(sockets=sockets)
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    from policy.personas import persona_claims

    state_dir: Path = args.state_dir
    if args.config is not None:
        from gateway.settings import ConfigError, load_settings

        try:
            settings = load_settings(args.config)
        except ConfigError as exc:
            return _fail(str(exc))
        if settings.mode != "demo":
            return _fail("refusing to mint tokens for a production configuration")
        state_dir = settings.state_dir
    from gateway.demo import demo_issuer
    from sandbox.idp import mint_token

    key_file = state_dir / "idp-private.pem"
    if not key_file.is_file():
        return _fail(f"no demo identity provider key in {state_dir}: run `onedoor demo` first")
    try:
        claims = persona_claims(args.persona, scopes=args.scopes, region=args.region, sub=args.sub)
    except ValueError as exc:
        return _fail(str(exc))
    print(mint_token(state_dir, {"iss": demo_issuer(state_dir), **claims}, ttl=args.ttl))
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    """``onedoor audit verify``: the chain, its per-citizen index and the signed checkpoints.

    The witness and key come from ``--config`` (``[audit] witness`` / ``signing_key``) or
    the state directory; ``--witness`` and ``--public-key`` override. A witness that is
    named (or a configured signing key) must exist; a state directory without one is
    checked chain-only, with a warning.
    """
    import datetime as dt

    from gateway.settings import AuditSettings, ConfigError, load_settings
    from services.audit import load_public_key, open_witness, verify_audit

    state_dir: Path = args.state_dir or Path(".onedoor")
    audit = AuditSettings(url=f"sqlite:///{state_dir / 'audit.sqlite'}")
    if args.config is not None:
        try:
            settings = load_settings(args.config)
        except ConfigError as exc:
            return _fail(str(exc))
        audit, state_dir = settings.audit, settings.state_dir
    location: str = args.witness or audit.witness_location(state_dir)
    required = args.witness is not None or audit.witness is not None or audit.signing_key is not None
    present = required or Path(location).exists()
    if not present:
        print(f"warning: no signed checkpoints at {location}: only the chain and index are "
              "checked (a truncated tail with a moved head, a recomputed chain or a replaced "
              "database would not show)", file=sys.stderr)
    public_key = None
    if args.public_key is not None:
        try:
            public_key = load_public_key(args.public_key)
        except (OSError, ValueError) as exc:
            return _fail(f"cannot read the public key {args.public_key}: {exc}")
    elif (own := audit.signing_key_path(state_dir)).is_file():
        try:  # pin the gateway's own key when this host may read it
            public_key = load_public_key(own)
        except (OSError, ValueError) as exc:
            print(f"warning: cannot read {own} ({exc}); trusting the key the witness names "
                  "(pin one with --public-key)", file=sys.stderr)
    witness = open_witness(location) if present else None
    result = asyncio.run(verify_audit(audit.url, witness, public_key=public_key,
                                      retention=dt.timedelta(days=audit.retention_days)))
    if result.ok:
        signed = (f", held against {result.checkpoints} signed checkpoints"
                  if result.checkpoints else "")
        print(f"ok: {result.checked} records, chain and index intact{signed}")
        return 0
    if not result.findings:
        return _fail(result.reason or "audit trail unreadable", code=1)
    print(f"TAMPERED: {len(result.findings)} finding(s) in the audit trail", file=sys.stderr)
    for finding in result.findings:
        print(f"  {finding.kind}: {finding.message}", file=sys.stderr)
    return 1
