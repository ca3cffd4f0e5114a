"""OneDoor's subgraph composes into a supergraph, judged by Apollo's own
composition library (``@apollo/composition``, run with the machine's Node.js),
beside the governance centre's subgraph — whose ``GridEvent`` entity is why
the subgraph publishes its unified grid matter as ``GridMatter``.

The Node packages are the third-party client suite's (``tests/clients``:
``npm ci`` from its committed lock file on first use); the test skips only
when node or npm is missing, and says so.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from sandbox.governance import schema as governance_schema
from schema.subgraph import subgraph_sdl
from tests.clients.node import HERE, NODE, install, requires_node

pytestmark = requires_node


@pytest.fixture(scope="module")
def composer() -> Path:
    install()
    return HERE / "compose.mjs"


def _compose(composer: Path, tmp_path: Path, **subgraphs: str) -> subprocess.CompletedProcess[str]:
    args = []
    for name, sdl in subgraphs.items():
        file = tmp_path / f"{name}.graphql"
        file.write_text(sdl, encoding="utf-8")
        args.append(f"{name}={file}")
    return subprocess.run([str(NODE), str(composer), *args], capture_output=True, text=True,
                          timeout=120, check=False, cwd=HERE)


def test_onedoor_composes_with_the_governance_subgraph(composer: Path, tmp_path: Path) -> None:
    done = _compose(composer, tmp_path, onedoor=subgraph_sdl(), governance=governance_schema.as_str())
    assert done.returncode == 0, f"composition failed:\n{done.stderr}"
    supergraph = done.stdout
    assert "join__graph(name: \"onedoor\"" in supergraph
    assert '@join__type(graph: ONEDOOR, key: "idNumber", resolvable: true)' in supergraph
    assert '@join__type(graph: ONEDOOR, key: "id", resolvable: true)' in supergraph
    assert '@join__type(graph: GOVERNANCE, key: "eventNo")' in supergraph
    assert '@link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY)' in supergraph
    assert '@requiresScopes(scopes: [["audit:read"]])' in supergraph
    assert "type Subscription" in supergraph and "type Mutation" in supergraph


def test_composition_failures_are_reported(composer: Path, tmp_path: Path) -> None:
    """The harness really fails: two subgraphs disagreeing on a field's type."""
    a = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.11", import: ["@key"])\n' \
        'type Query { a: T } type T @key(fields: "id") { id: ID! n: Int }'
    b = a.replace("a: T", "b: T").replace("n: Int", "n: String")
    done = _compose(composer, tmp_path, a=a, b=b)
    assert done.returncode == 1 and "FIELD_TYPE_MISMATCH" in done.stderr
