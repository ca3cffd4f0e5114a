"""Where filings are recorded follows `[submissions] url`, not only the state dir."""

from __future__ import annotations

from pathlib import Path

from gateway.app import create_app
from tests.schema.test_query import _centres

from .harness import settings


async def test_the_configured_submissions_store_is_opened_at_start(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "filings.sqlite"
    target.parent.mkdir()
    config = settings(state_dir=tmp_path / "state",
                      submissions={"url": f"sqlite:///{target}"},
                      audit={"url": f"sqlite:///{tmp_path / 'audit.sqlite'}"})

    async def deny(_: str) -> object:
        raise AssertionError("no token expected")

    app = create_app(config, _centres(), deny, close_connectors=False)  # type: ignore[arg-type]
    async with app.router.lifespan_context(app):
        assert target.exists()
    assert not (tmp_path / "state" / "submissions.sqlite").exists()
