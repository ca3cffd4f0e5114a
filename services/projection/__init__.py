"""An analytic projection of every centre's matters, fed incrementally.

The dispatcher's view (``statistics``, ``overdue``, ``escalations``) at province
scale cannot page five centres per request; this package keeps a projection
that is fed in each centre's own style (pushed changes, a changed-since cursor,
a nightly export) and reconciled by full resyncs, and answers aggregates with
the region prefix inside the query.

    rows     ProjectionRow (no personal data; a person only as a keyed hash)
    store    the store protocol, watermarks, the opener
    sqlite   the embedded engine (default)        postgres  the shared engine
    feeder   the background feeder: its own connectors, limits and breakers
"""

from .feeder import Drift, Feeder, FeedSettings
from .rows import FLAGS, ProjectionRow, RowMapper, person_key
from .store import CellQuery, CellRow, ProjectionStore, Watermark, open_projection_store, prefix_bounds

__all__ = [
    "FLAGS",
    "CellQuery",
    "CellRow",
    "Drift",
    "FeedSettings",
    "Feeder",
    "ProjectionRow",
    "ProjectionStore",
    "RowMapper",
    "Watermark",
    "open_projection_store",
    "person_key",
    "prefix_bounds",
]
