"""docs/errors.md names every ``extensions.code`` the gateway can return."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("gateway", "schema", "services", "policy", "connectors")
# Codes follow a few shapes; every literal of those shapes in the packages is
# one the gateway can return (found wherever it is written: dicts, classes, calls).
_LITERAL = re.compile(r"[\"']([A-Z][A-Z_]{4,})[\"']")
_SHAPES = re.compile(
    r"^(MAX_\w+|WEBHOOK_\w+|PERSISTED_QUERY_\w+|CENTRE_\w+"
    r"|\w+_(LIMIT|FAILED|UNAVAILABLE|ERROR|SAFELIST|TOO_LARGE|TOO_EXPENSIVE|INPUT|FIELD_OR_TYPE"
    r"|IN_PROGRESS|REUSED|ALLOWED|ACCEPTABLE|FOUND)"
    r"|BAD_REQUEST|UNAUTHENTICATED|FORBIDDEN|NO_ROUTE)$")
_NOT_CODES = {"CENTRE_SCOPES", "MAX_PAGE", "MAX_RECORDS"}  # constants named in __all__


def _emitted() -> set[str]:
    codes: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            codes.update(c for c in _LITERAL.findall(path.read_text(encoding="utf-8")) if _SHAPES.match(c))
    return codes - _NOT_CODES


def test_every_code_is_documented() -> None:
    documented = set(re.findall(r"`([A-Z][A-Z_]+)`", (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")))
    emitted = _emitted()
    assert len(emitted) > 30  # the scan finds the codes at all
    assert emitted - documented == set()
