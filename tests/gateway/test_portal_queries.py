"""Every query the portal sends validates against the schema (the browser tests skip
where Chromium is missing; this does not)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import parse, validate

from schema import build_schema

PORTAL = Path(__file__).resolve().parents[2] / "gateway" / "portal" / "static" / "portal.js"
_TEXT = PORTAL.read_text(encoding="utf-8")
_KPIS = re.search(r"const KPIS = \[(.*?)\];", _TEXT, re.S)
assert _KPIS is not None
_CONSTANTS = {**dict(re.findall(r"const ([A-Z_]+) = `(.*?)`;", _TEXT, re.S)),
              "FIGURES": " ".join(re.findall(r'\["(\w+)", "', _KPIS.group(1)))}
_QUERIES = {name: text for name, text in _CONSTANTS.items() if name.endswith("_Q")}


def _expand(text: str) -> str:
    return re.sub(r"\$\{([A-Z_]+)\}", lambda m: _CONSTANTS[m.group(1)], text)


def test_the_portal_asks_for_organisations_too() -> None:
    assert {"CITIZEN_Q", "ME_Q", "ORG_Q", "DISPATCH_Q"} <= set(_QUERIES)


@pytest.mark.parametrize("name", sorted(_QUERIES))
def test_each_portal_query_validates(name: str) -> None:
    schema = build_schema()._schema
    assert [e.message for e in validate(schema, parse(_expand(_QUERIES[name])))] == []
