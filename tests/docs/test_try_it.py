"""Every query the docs tell a user to paste is valid against the schema."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import parse, validate

from gateway.demo import EXAMPLE_QUERY
from schema import build_schema

DOCS = Path(__file__).resolve().parents[2] / "docs"
_INLINE = re.compile(r"`((?:query|subscription|mutation)?\s*(?:\([^`]*\))?\s*\{[^`]+\})`")
SCHEMA = build_schema()._schema


def _queries() -> list[str]:
    found = []
    for name in ("try-it.md", "authentication.md"):
        text = (DOCS / name).read_text(encoding="utf-8")
        found += [q for q in _INLINE.findall(text) if not q.startswith("{\"")]  # not JSON headers or variables
    return [*found, EXAMPLE_QUERY]


def test_the_docs_have_queries() -> None:
    assert len(_queries()) >= 6


@pytest.mark.parametrize("query", _queries(), ids=lambda q: q[:40])
def test_each_query_validates(query: str) -> None:
    assert [e.message for e in validate(SCHEMA, parse(query))] == []
