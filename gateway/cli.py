"""The ``onedoor`` command.

    onedoor demo [--port 8000] [--state-dir .onedoor]     sandbox centres + gateway, one command
    onedoor sandbox [--port 8000] [--only MEDIATION,...]  the simulated centres alone
    onedoor sandbox fault CENTRE --mode MODE [...]        change a running centre's faults
    onedoor serve --config FILE [--workers N]             the gateway against configured centres
    onedoor schema                                        print the SDL
    onedoor token [--persona P] [...]                     a demo token (demo state dir only)
    onedoor audit verify [--state-dir DIR | --config F]   check the audit hash chain
    onedoor config check FILE                             validate a config without starting
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]

_CENTRES = ("MEDIATION", "LEGAL_SERVICES", "PETITIONS", "LITIGATION", "GOVERNANCE")
_PERSONAS = ("caseworker", "auditor", "analyst", "portal", "citizen")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="onedoor", description="OneDoor GraphQL gateway")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="start the sandbox centres and the gateway")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--state-dir", type=Path, default=Path(".onedoor"))
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--matters", type=int, default=None,
                      help="scale the synthetic data (default: a few thousand citizens)")
    demo.add_argument("--latency-ms", type=int, default=0)

    sandbox = sub.add_parser("sandbox", help="run the simulated centres, or change their faults")
    sandbox.add_argument("--port", type=int, default=8000)
    sandbox.add_argument("--state-dir", type=Path, default=Path(".onedoor"))
    sandbox.add_argument("--seed", type=int, default=7)
    sandbox.add_argument("--matters", type=int, default=None)
    sandbox.add_argument("--latency-ms", type=int, default=0)
    sandbox.add_argument("--host", default="127.0.0.1", help="bind address (0.0.0.0 in a container)")
    sandbox.add_argument("--rate-limit", type=float, default=50.0,
                         help="LITIGATION's rate limit, requests per second (default 50)")
    sandbox.add_argument("--only", default=None, metavar="NAME[,NAME]",
                         help="serve only these of IDP, MEDIATION, LEGAL_SERVICES, PETITIONS, "
                              "LITIGATION, GOVERNANCE (one process per centre)")
    sandbox.add_argument("--public-host", default=None,
                         help="host name the gateway reaches the sandbox by (issuer URL)")
    sandbox_sub = sandbox.add_subparsers(dest="sandbox_command")
    fault = sandbox_sub.add_parser("fault", help="set a fault on a running centre")
    fault.add_argument("centre", choices=_CENTRES)
    fault.add_argument("--mode", required=True,
                       choices=("down", "slow", "error", "throttle", "malformed", "partial", "ok"))
    fault.add_argument("--rate", type=float, default=1.0)
    fault.add_argument("--latency-ms", type=int, default=None)
    fault.add_argument("--port", type=int, default=8000, help="the demo port the sandbox runs at")

    serve = sub.add_parser("serve", help="run the gateway from a config file")
    serve.add_argument("--config", type=Path, required=True)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)

    sub.add_parser("schema", help="print the GraphQL SDL")

    token = sub.add_parser("token", help="print a demo token (one line)")
    token.add_argument("--state-dir", type=Path, default=Path(".onedoor"))
    token.add_argument("--config", type=Path, default=None,
                       help="refused when it is a production config")
    token.add_argument("--persona", choices=_PERSONAS, default="caseworker")
    token.add_argument("--scopes", default=None)
    token.add_argument("--region", default=None)
    token.add_argument("--sub", default=None)
    token.add_argument("--ttl", type=int, default=3600)

    audit = sub.add_parser("audit", help="audit trail tools")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser("verify", help="verify the hash chain")
    where = verify.add_mutually_exclusive_group()
    where.add_argument("--state-dir", type=Path, default=None)
    where.add_argument("--config", type=Path, default=None)

    config = sub.add_parser("config", help="configuration tools")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    check = config_sub.add_parser("check", help="validate a config file")
    check.add_argument("file", type=Path)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from . import commands

    handler = getattr(commands, f"cmd_{args.command}")
    code: int = handler(args)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
