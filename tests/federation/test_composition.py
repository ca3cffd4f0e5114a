"""OneDoor's subgraph composes into a supergraph, judged by Apollo's own
composition library (``@apollo/composition``, run with the machine's Node.js),
beside the governance centre's subgraph — whose ``GridEvent`` entity is why
the subgraph publishes its unified grid matter as ``GridMatter``.

The test installs the pinned packages itself (``npm ci`` from the committed
lock file into the git-ignored ``tests/federation/node_modules``); it skips
only when node or npm is missing, and says so.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from sandbox.governance import schema as governance_schema
from schema.subgraph import subgraph_sdl

HERE = Path(__file__).parent
NODE, NPM = shutil.which("node"), shutil.which("npm")

pytestmark = pytest.mark.skipif(NODE is None or NPM is None,
                                reason="Node.js and npm are needed to run @apollo/composition")


@pytest.fixture(scope="module")
def composer() -> Path:
    if not (HERE / "node_modules" / "@apollo" / "composition" / "package.json").is_file():
        done = subprocess.run([str(NPM), "ci", "--no-audit", "--no-fund", "--prefix", str(HERE)],
                              capture_output=True, text=True, timeout=600, check=False)
        assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"
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


def test_composition_failures_are_reported(composer: Path, tmp_path: Path) -> None:
    """The harness really fails: two subgraphs disagreeing on a field's type."""
    a = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.11", import: ["@key"])\n' \
        'type Query { a: T } type T @key(fields: "id") { id: ID! n: Int }'
    b = a.replace("a: T", "b: T").replace("n: Int", "n: String")
    done = _compose(composer, tmp_path, a=a, b=b)
    assert done.returncode == 1 and "FIELD_TYPE_MISMATCH" in done.stderr
