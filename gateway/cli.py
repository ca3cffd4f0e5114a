"""The ``onedoor`` command.

    onedoor demo [--port 8000] [--state-dir .onedoor]     sandbox centres + gateway, one command
    onedoor sandbox [--port 8000] [--only MEDIATION,...]  the simulated centres alone
    onedoor sandbox fault CENTRE --mode MODE [...]        change a running centre's faults
    onedoor serve --config FILE [--workers N|auto]        the gateway against configured centres
    onedoor schema                                        print the SDL
    onedoor token [--persona P] [...]                     a demo token (demo state dir only)
    onedoor audit verify [--state-dir DIR | --config F]   check the audit chain and its checkpoints
                         [--witness PATH] [--public-key PEM]
    onedoor config check FILE                             validate a config without starting
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["available_cores", "main"]

_CENTRES = ("MEDIATION", "LEGAL_SERVICES", "PETITIONS", "LITIGATION", "GOVERNANCE")
_PERSONAS = ("caseworker", "auditor", "analyst", "portal", "citizen", "operator")


def _workers(value: str) -> int:
    """``--workers``: a count ≥ 1, or ``auto`` for every core the process may use."""
    if value == "auto":
        return available_cores()
    try:
        count = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a count or auto: {value!r}") from None
    if count < 1:
        raise argparse.ArgumentTypeError("at least 1")
    return count


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, so a container's cpuset
    counts, not the host's), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # no sched_getaffinity (macOS)
        return max(1, os.cpu_count() or 1)


class _Formatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, except where there is none to show."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


class _Parser(argparse.ArgumentParser):
    """Every (sub)command formats its help the same way: subparsers are built
    from ``type(parser)``, so they inherit the formatter."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="onedoor", description="OneDoor GraphQL gateway")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="start the sandbox centres and the gateway")
    demo.add_argument("--port", type=int, default=8000,
                      help="the gateway's port; identity provider at port+100, centres at port+101…105")
    demo.add_argument("--state-dir", type=Path, default=Path(".onedoor"),
                      help="keys, audit and submission databases, demo.json (read by token and fault)")
    demo.add_argument("--seed", type=int, default=7, help="seed of the synthetic residents and matters")
    demo.add_argument("--matters", type=int, default=None,
                      help="scale the synthetic data (default: a few thousand citizens)")
    demo.add_argument("--latency-ms", type=int, default=0, help="added latency of every centre response")

    sandbox = sub.add_parser("sandbox", help="run the simulated centres, or change their faults")
    sandbox.add_argument("--port", type=int, default=8000,
                         help="base port: identity provider at port+100, centres at port+101…105")
    sandbox.add_argument("--state-dir", type=Path, default=Path(".onedoor"),
                         help="the identity provider's key and the centres' state")
    sandbox.add_argument("--seed", type=int, default=7, help="seed of the synthetic residents and matters")
    sandbox.add_argument("--matters", type=int, default=None,
                         help="scale the synthetic data (default: a few thousand citizens)")
    sandbox.add_argument("--latency-ms", type=int, default=0,
                         help="added latency of every centre response")
    sandbox.add_argument("--host", default="127.0.0.1", help="bind address (0.0.0.0 in a container)")
    sandbox.add_argument("--rate-limit", type=float, default=50.0,
                         help="LITIGATION's rate limit, requests per second")
    sandbox.add_argument("--only", default=None, metavar="NAME[,NAME]",
                         help="serve only these of IDP, MEDIATION, LEGAL_SERVICES, PETITIONS, "
                              "LITIGATION, GOVERNANCE (one process per centre)")
    sandbox.add_argument("--public-host", default=None,
                         help="host name the gateway reaches the sandbox by (issuer URL)")
    sandbox.add_argument("--callbacks", default=None, metavar="GATEWAY_URL",
                         help="register GATEWAY_URL/webhooks/<centre> with each centre that calls back "
                              "(as `onedoor demo` does for its own gateway)")
    sandbox_sub = sandbox.add_subparsers(dest="sandbox_command")
    fault = sandbox_sub.add_parser("fault", help="set a fault on a running centre")
    fault.add_argument("centre", choices=_CENTRES, help="the centre to change")
    fault.add_argument("--mode", required=True,
                       choices=("down", "slow", "error", "throttle", "malformed", "partial", "ok"),
                       help="the fault (ok clears it)")
    fault.add_argument("--rate", type=float, default=1.0,
                       help="share of requests the fault applies to, 0…1")
    fault.add_argument("--latency-ms", type=int, default=None,
                       help="the centre's added latency (default: unchanged)")
    fault.add_argument("--port", type=int, default=None,
                       help="the demo's port (default: the one in STATE_DIR/demo.json, else 8000)")
    fault.add_argument("--state-dir", type=Path, default=Path(".onedoor"),
                       help="the running demo's state directory")

    serve = sub.add_parser("serve", help="run the gateway from a config file")
    serve.add_argument("--config", type=Path, required=True,
                       help="the gateway's TOML config (check it with `onedoor config check`)")
    serve.add_argument("--workers", type=_workers, default=1,
                       help="worker processes on one port (metrics aggregated across them); "
                            "auto: one per core this process may run on")
    serve.add_argument("--host", default=None, help="bind address (default: host in the config)")
    serve.add_argument("--port", type=int, default=None, help="port (default: port in the config)")

    sub.add_parser("schema", help="print the GraphQL SDL")

    token = sub.add_parser("token", help="print a demo token (one line)")
    token.add_argument("--state-dir", type=Path, default=Path(".onedoor"),
                       help="the demo's state directory (its identity provider key)")
    token.add_argument("--config", type=Path, default=None,
                       help="a demo config whose state_dir to use; refused when it is a production config")
    token.add_argument("--persona", choices=_PERSONAS, default="caseworker",
                       help="whose scopes and region the token carries")
    token.add_argument("--scopes", default=None,
                       help="space-separated scopes instead of the persona's")
    token.add_argument("--region", default=None,
                       help="region code instead of the persona's (e.g. 632300)")
    token.add_argument("--sub", default=None,
                       help="subject; a citizen token's is the resident ID number")
    token.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds")

    audit = sub.add_parser("audit", help="audit trail tools")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser(
        "verify", help="verify the hash chain, its index and the signed checkpoints")
    where = verify.add_mutually_exclusive_group()
    where.add_argument("--state-dir", type=Path, default=None)
    where.add_argument("--config", type=Path, default=None)
    verify.add_argument("--witness", default=None,
                        help="the checkpoint witness to hold the chain against: a file or "
                             "directory, or a postgresql:// URL")
    verify.add_argument("--public-key", type=Path, default=None,
                        help="PEM key the checkpoints must be signed with (default: the configured "
                             "signing key, else the key the witness names)")

    config = sub.add_parser("config", help="configuration tools")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    check = config_sub.add_parser("check", help="validate a config file")
    check.add_argument("file", type=Path, help="the TOML config to validate")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from . import commands

    handler = getattr(commands, f"cmd_{args.command}")
    code: int = handler(args)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
