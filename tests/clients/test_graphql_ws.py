"""The ``graphql-ws`` client (graphql-transport-ws) following a matter with
``subscription matterUpdates`` against the demo, then a status change made at
the centre itself (PETITIONS, which the gateway polls: no webhook involved).

A browser cannot set headers on a WebSocket upgrade, so browser apps send the
token in ``connectionParams`` (the ``connection_init`` payload); the header
variant is what a server-side client can do as well.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from .live import Demo
from .node import requires_node, run_script

pytestmark = requires_node

MATTERS = """query($id: String!) { citizen(idNumber: $id) {
  matters(first: 20) { nodes { id centre reference centreStatus } } } }"""


def _petition(demo: Demo) -> dict[str, Any]:
    response = httpx.post(f"{demo.url}/graphql", json={"query": MATTERS, "variables": {"id": demo.samples[0]}},
                          headers={"Authorization": f"Bearer {demo.tokens['caseworker']}"}, timeout=30)
    nodes = response.json()["data"]["citizen"]["matters"]["nodes"]
    petition: dict[str, Any] = next(n for n in nodes if n["centre"] == "PETITIONS")
    return petition


def _status_url(demo: Demo, reference: str) -> str:
    return f"{demo.centres['PETITIONS']}/_sandbox/matters/{quote(reference, safe='')}/status"


def _follow(demo: Demo, auth: str) -> dict[str, Any]:
    petition = _petition(demo)
    url = _status_url(demo, petition["reference"])
    httpx.post(url, json={"status": "04"}, timeout=10).raise_for_status()  # a known start
    return run_script("subscribe.mjs", timeout=120, env={
        "WS_URL": demo.url.replace("http", "ws", 1) + "/graphql", "MATTER_ID": petition["id"],
        "TOKEN": demo.tokens["caseworker"], "AUTH": auth,
        "CHANGE_URL": url, "CHANGE_BODY": json.dumps({"status": "05"})})


def _assert_follows(seen: dict[str, Any]) -> None:
    events = seen["events"]
    assert seen["error"] is None and events and "errors" not in events[0], seen
    assert seen["changed"] == 200, seen
    assert len(events) >= 2 and "errors" not in events[1], seen
    before, after = (e["data"]["matterUpdates"] for e in events[:2])
    assert before["id"] == after["id"] and before["centreStatus"] != after["centreStatus"], seen


def test_token_in_connection_params_follows_a_change_made_at_the_centre(
        node_modules: Path, demo: Demo) -> None:
    _assert_follows(_follow(demo, "params"))


def test_token_in_the_upgrade_header_follows_a_change_made_at_the_centre(
        node_modules: Path, demo: Demo) -> None:
    _assert_follows(_follow(demo, "header"))


@pytest.mark.parametrize("auth", ["params", "header"])
def test_no_token_no_updates(node_modules: Path, demo: Demo, auth: str) -> None:
    petition = _petition(demo)
    seen = run_script("subscribe.mjs", timeout=60, env={
        "WS_URL": demo.url.replace("http", "ws", 1) + "/graphql", "MATTER_ID": petition["id"],
        "TOKEN": "not.a.jwt", "AUTH": auth, "CHANGE_URL": _status_url(demo, petition["reference"]),
        "CHANGE_BODY": json.dumps({"status": "04"})})
    assert not any((e.get("data") or {}).get("matterUpdates") for e in seen["events"]), seen
    assert seen["error"] is not None or seen["closed"] is not None, seen


def test_the_subgraph_serves_matter_updates_itself(node_modules: Path, demo: Demo, subgraph: str) -> None:
    """Subgraph mode (``onedoor serve``, production settings) keeps its own
    WebSocket: what a router that passes subscriptions through connects to."""
    petition = _petition(demo)
    seen = run_script("subscribe.mjs", timeout=60, env={
        "WS_URL": subgraph.replace("http", "ws", 1) + "/graphql", "MATTER_ID": petition["id"],
        "TOKEN": demo.token("caseworker"), "AUTH": "header"})
    assert seen["error"] is None and seen["events"], seen
    assert seen["events"][0]["data"]["matterUpdates"]["id"] == petition["id"], seen
