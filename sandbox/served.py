"""How a JSON centre finds the records it serves, generated or created, with the
overlays applied: links added through its add-link write and status moves.

MEDIATION, LEGAL_SERVICES and LITIGATION share this; each names its own id and
links fields and its own renderers.

>>> records = Served(world, store, Centre.MEDIATION, "caseNo", "related",
...                  render_case, intake.render_case, moved_case)
>>> records.one("TJ632301202400001")
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from onedoor.model import Centre
from sandbox.world import Matter, World
from sandbox.writes import Moved, WriteStore, Written

__all__ = ["Served"]

Record = dict[str, Any]


@dataclass(frozen=True)
class Served:
    world: World
    store: WriteStore
    centre: Centre
    id_key: str
    links_key: str
    render: Callable[[World, Matter], Record]
    render_written: Callable[[Written], Record]
    move: Callable[[Record, Moved], Record]

    def linked(self, record: Record) -> Record:
        record[self.links_key] = self.store.with_links(self.centre, record[self.id_key],
                                                       record[self.links_key])
        return record

    def written(self, written: Written) -> Record:
        return self.linked(self.render_written(written))

    def generated(self, row: int) -> Record:
        record = self.render(self.world, self.world.matter(row))
        moved = self.store.moved.get((self.centre, record[self.id_key]))
        return self.linked(record if moved is None else self.move(record, moved))

    def one(self, native_id: str) -> Record | None:
        if (written := self.store.get(self.centre, native_id)) is not None:
            return self.written(written)
        row = self.world.row_of(self.centre, native_id)
        return None if row is None else self.generated(row)
