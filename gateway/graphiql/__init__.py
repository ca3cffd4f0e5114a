"""GraphiQL served from the package: the IDE page and its assets, no CDN.

strawberry's own IDE page loads React and GraphiQL from a public CDN, which a
browser on a government intranet cannot reach: the page stays empty. Here the
same files (pinned in ``vendor/graphiql/package.json``, copied by
``vendor/graphiql/vendor.mjs``; ``static/assets.json`` lists versions and
hashes) are served by the gateway under ``/graphiql/static``, and the page
references them relative to the GraphQL endpoint, so a path prefix added by a
reverse proxy still works.

Example (``gateway/app.py`` and ``gateway/graphql_app.py``)::

    routes += [graphiql_mount()]            # the assets, where the page finds them
    html = graphiql_html()                  # what GET /graphql in a browser renders
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

__all__ = ["STATIC_DIR", "STATIC_PATH", "graphiql_html", "graphiql_mount"]

STATIC_DIR = Path(__file__).parent / "static"
STATIC_PATH = "/graphiql/static"
_PAGE = Path(__file__).parent / "graphiql.html"
_SLOT = re.compile(r"\{\{([A-Za-z0-9_.-]+)\}\}")


@functools.cache
def graphiql_html(static_url: str = STATIC_PATH.lstrip("/")) -> str:
    """The IDE page; ``static_url`` relative to the endpoint (``/graphql`` → ``/graphiql/static``).
    Every asset carries its Subresource Integrity hash from ``assets.json``."""
    manifest: dict[str, dict[str, str]] = json.loads((STATIC_DIR / "assets.json").read_text())

    def fill(match: re.Match[str]) -> str:
        slot = match.group(1)
        return static_url if slot == "static" else manifest[slot]["integrity"]

    return _SLOT.sub(fill, _PAGE.read_text(encoding="utf-8"))


def graphiql_mount() -> Mount:
    return Mount(STATIC_PATH, app=StaticFiles(directory=STATIC_DIR), name="graphiql-static")
