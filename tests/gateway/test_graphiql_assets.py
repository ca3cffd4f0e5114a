"""The vendored GraphiQL assets are what vendor/graphiql pins: same versions as
its package.json and lock file, files unchanged since vendor.mjs hashed them."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

from gateway.graphiql import STATIC_DIR, graphiql_html

VENDOR = Path(__file__).resolve().parents[2] / "vendor" / "graphiql"


def test_assets_match_the_pins_and_their_hashes() -> None:
    manifest = json.loads((STATIC_DIR / "assets.json").read_text())
    pinned = json.loads((VENDOR / "package.json").read_text())["dependencies"]
    locked = json.loads((VENDOR / "package-lock.json").read_text())["packages"]
    assert {a["package"] for a in manifest.values()} == set(pinned)
    for served, asset in manifest.items():
        assert asset["version"] == pinned[asset["package"]] == locked[f"node_modules/{asset['package']}"]["version"]
        digest = base64.b64encode(hashlib.sha384((STATIC_DIR / served).read_bytes()).digest()).decode()
        assert asset["integrity"] == f"sha384-{digest}", f"{served} changed since vendor.mjs: re-run it"
    assert all(name in (STATIC_DIR / "THIRD-PARTY-LICENSES.txt").read_text() for name in pinned)


def test_page_names_every_asset_locally() -> None:
    page = graphiql_html()
    named = re.findall(r'(?:src|href)="graphiql/static/([^"]+)"', page)
    assert sorted(named) == sorted(json.loads((STATIC_DIR / "assets.json").read_text()))
    assert "{{" not in page and not re.search(r'(?:src|href)="(?:https?:)?//', page)
