"""The portal names every link relation in Chinese (no raw enum names on screen)."""

from __future__ import annotations

import re
from pathlib import Path

from schema.enums import LinkRelation

PORTAL = Path(__file__).resolve().parents[2] / "gateway" / "portal" / "static" / "portal.js"


def test_every_relation_has_a_label() -> None:
    block = re.search(r"const RELATIONS = \{(.*?)\};", PORTAL.read_text(encoding="utf-8"), re.S)
    assert block is not None
    labelled = set(re.findall(r"([A-Z_]+):", block.group(1)))
    assert {r.name for r in LinkRelation} - labelled == set()
