"""Fixtures of the third-party client suite: the Node packages, the demo, and
OneDoor in subgraph mode beside it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .live import Demo, start_demo, start_subgraph
from .node import NODE, NPM, install


@pytest.fixture(scope="session")
def node_modules() -> Path:
    if NODE is None or NPM is None:
        pytest.skip("node and npm are not on PATH: the third-party client suite cannot run")
    return install()


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with start_demo(tmp_path_factory.mktemp("clients") / "state") as running:
        yield running


@pytest.fixture(scope="session")
def subgraph(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with start_subgraph(demo, tmp_path_factory.mktemp("subgraph")) as url:
        yield url
