"""The ``graphql-http`` package's server audit (the GraphQL-over-HTTP spec's
reference audit) against the demo gateway, as a client library author runs it.

MUST rules are the spec's floor. SHOULD rules cover the
``application/graphql-response+json`` media type and 4xx statuses for requests
that never execute (issue 14); both are asserted to be all met.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .live import Demo
from .node import requires_node, run_script

pytestmark = requires_node


@pytest.fixture(scope="module")
def audit(node_modules: Path, demo: Demo) -> dict[str, Any]:
    return run_script("audit.mjs", f"{demo.url}/graphql")


def _failures(audit: dict[str, Any], level: str) -> str:
    return "\n".join(f"{f['id']} {f['name']}\n    {f['reason']}\n    {f['response']}"
                     for f in audit["failed"] if f["level"] == level)


def test_every_must_rule_is_met(audit: dict[str, Any]) -> None:
    must = audit["counts"]["MUST"]
    assert must["ok"] > 0 and must["error"] == must["warn"] == 0, _failures(audit, "MUST")


def test_every_should_rule_is_met(audit: dict[str, Any]) -> None:
    should = audit["counts"]["SHOULD"]
    assert should["ok"] > 0 and should["error"] == should["warn"] == 0, _failures(audit, "SHOULD")
