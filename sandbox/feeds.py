"""How each centre lets others keep a copy of its records, in its own style.

- LEGAL_SERVICES (REST, cursor pagination) offers a *changed-since* feed:
  ``GET /v1/changes?cursor=…&limit=…``. An empty cursor starts with every
  record (a sweep of the generated world), then follows the change journal
  (:attr:`~sandbox.writes.WriteStore.journal`); a change is served at least once.
- PETITIONS (legacy XML) writes a *nightly export file*: ``GET /xf/export``
  lists the dumps, ``GET /xf/export/{mc}`` serves one. The dump of a day is cut
  on its first listing after midnight (CST); ``POST /_sandbox/export`` cuts one
  now (tests and demos make the night pass).
- MEDIATION, LITIGATION and GOVERNANCE *push*: their status webhooks
  (:mod:`sandbox.writes`) name the changed record; a copy is (re)built from
  their ordinary list APIs, paged without filters.

These routes sit in front of the centre's own app, behind its fault and
latency middleware, with the centre's own auth.

>>> raw, more = mount(Centre.PETITIONS, app, control, world, store, state_dir)
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import gzip
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from joserfc.jwk import KeySet
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp

from onedoor.model import CST, Centre
from sandbox import intake
from sandbox.common import BadRequest, int_param
from sandbox.legal import REQUIRED_SCOPE, _unauthorised, render_application
from sandbox.moved import moved_application, moved_record
from sandbox.petitions import render_record
from sandbox.served import Served
from sandbox.world import World, to_cst
from sandbox.writes import WriteStore

__all__ = ["Exports", "mount"]

MAX_CHANGES = 1000
_GL_TAGS = ("xt", "bh", "lx")


def _token(phase: str, position: int) -> str:
    return base64.urlsafe_b64encode(f"{phase}:{position}".encode()).decode()


def _untoken(raw: str | None) -> tuple[str, int]:
    if not raw:
        return ("w", 0)
    try:
        phase, position = base64.urlsafe_b64decode(raw.encode()).decode().split(":")
        if phase not in ("w", "j") or int(position) < 0:
            raise ValueError(phase)
        return phase, int(position)
    except ValueError:
        raise BadRequest("invalid cursor") from None


def _changes_app(world: World, store: WriteStore, keys: KeySet, issuer: str) -> Starlette:
    records = Served(world, store, Centre.LEGAL_SERVICES, "application_no", "links",
                     render_application, intake.render_application, moved_application)
    rows = world.rows(Centre.LEGAL_SERVICES)

    async def changes(request: Request) -> Response:
        refused = _unauthorised(request, keys, issuer, REQUIRED_SCOPE)
        if refused is not None:
            return refused
        try:
            limit = int_param(request, "limit", 100, 1, MAX_CHANGES)
            phase, position = _untoken(request.query_params.get("cursor"))
        except BadRequest as exc:
            return JSONResponse({"error": "invalid_request", "error_description": str(exc)}, status_code=400)
        data: list[dict[str, Any]] = []
        if phase == "w":
            end = min(len(rows), position + limit)
            data += [records.generated(rows.start + i) for i in range(position, end)]
            phase, position = ("w", end) if end < len(rows) else ("j", 0)
        journal = store.journal[Centre.LEGAL_SERVICES]
        if phase == "j":
            taken = journal[position: position + limit - len(data)]
            data += [found for native_id in dict.fromkeys(taken) if (found := records.one(native_id))]
            position += len(taken)
        more = phase == "w" or position < len(journal)
        return JSONResponse({"data": data, "next_cursor": _token(phase, position), "has_more": more})

    return Starlette(routes=[Route("/v1/changes", changes)])


class Exports:
    """PETITIONS' nightly dumps: files in the state directory, one per cut."""

    def __init__(self, world: World, store: WriteStore, directory: Path) -> None:
        self.world, self.store, self.directory = world, store, directory
        self.files: list[tuple[str, int, int]] = []  # name, as-of (epoch s), records

    def _records(self) -> Iterator[ET.Element]:
        moved = dict(self.store.moved)
        for row in self.world.rows(Centre.PETITIONS):
            record = render_record(self.world, self.world.matter(row))
            change = moved.get((Centre.PETITIONS, record.findtext("xfbh") or ""))
            yield self._linked(record if change is None else moved_record(record, change))
        for written in list(self.store.records[Centre.PETITIONS].values()):
            yield self._linked(intake.render_record(written))

    def _linked(self, record: ET.Element) -> ET.Element:
        added = self.store.links.get((Centre.PETITIONS, record.findtext("xfbh") or ""))
        glxx = record.find("glxx")
        if added and glxx is not None:
            native = [{t: gl.findtext(t) or "" for t in _GL_TAGS} for gl in glxx.findall("gl")]
            for link in (x for x in added if x not in native):
                gl = ET.SubElement(glxx, "gl")
                for tag in _GL_TAGS:
                    ET.SubElement(gl, tag).text = str(link.get(tag, ""))
        return record

    def cut(self, as_of: int | None = None) -> tuple[str, int, int]:
        """Write a dump of every record as it stands, labelled ``as_of`` (default now)."""
        at = int(time.time()) if as_of is None else as_of
        name = f"xf-{to_cst(at).strftime('%Y%m%d-%H%M%S')}-{len(self.files) + 1}.xml.gz"
        self.directory.mkdir(parents=True, exist_ok=True)
        count = 0
        with gzip.open(self.directory / name, "wb", compresslevel=1) as out:
            out.write(f"<xfdc><dcsj>{to_cst(at).strftime('%Y%m%d%H%M%S')}</dcsj>".encode())
            for record in self._records():
                out.write(ET.tostring(record, encoding="utf-8", xml_declaration=False))
                count += 1
            out.write(b"</xfdc>")
        self.files.append((name, at, count))
        return self.files[-1]

    def nightly(self) -> None:
        """Cut today's dump (as of 00:00 CST) unless one was cut since."""
        midnight = int(dt.datetime.now(CST).replace(hour=0, minute=0, second=0, microsecond=0).timestamp())
        if not self.files or self.files[-1][1] < midnight:
            self.cut(midnight)


def _export_app(exports: Exports) -> Starlette:
    async def listing(_: Request) -> Response:
        await asyncio.to_thread(exports.nightly)
        root = ET.Element("wjlb")
        for name, at, count in exports.files:
            wj = ET.SubElement(root, "wj")
            for tag, text in (("mc", name), ("dcsj", to_cst(at).strftime("%Y%m%d%H%M%S")), ("jls", str(count))):
                ET.SubElement(wj, tag).text = text
        return Response(ET.tostring(root, encoding="utf-8", xml_declaration=True), media_type="application/xml")

    async def one(request: Request) -> Response:
        name = request.path_params["mc"]
        if name not in {n for n, _, _ in exports.files}:
            return Response(b"<error><code>NOT_FOUND</code></error>", status_code=404, media_type="application/xml")
        return FileResponse(exports.directory / name, media_type="application/gzip")

    return Starlette(routes=[Route("/xf/export", listing), Route("/xf/export/{mc}", one)])


def _export_control(exports: Exports) -> Starlette:
    async def cut(_: Request) -> Response:
        name, at, count = await asyncio.to_thread(exports.cut)
        return JSONResponse({"mc": name, "dcsj": to_cst(at).strftime("%Y%m%d%H%M%S"), "jls": count},
                            status_code=201)

    return Starlette(routes=[Route("/_sandbox/export", cut, methods=["POST"])])


def mount(centre: Centre, app: ASGIApp, control: ASGIApp, world: World, store: WriteStore, state_dir: Path,
          *, keys: KeySet | None = None, issuer: str = "") -> tuple[ASGIApp, ASGIApp]:
    """The centre's app and its control app, with the centre's feed in front of each."""
    if centre is Centre.LEGAL_SERVICES and keys is not None:
        feed = _changes_app(world, store, keys, issuer)
        return Starlette(routes=[*feed.routes, Mount("", app)]), control
    if centre is Centre.PETITIONS:
        exports = Exports(world, store, Path(state_dir) / "petitions-exports")
        feed = _export_app(exports)
        return (Starlette(routes=[*feed.routes, Mount("", app)]),
                Starlette(routes=[*_export_control(exports).routes, Mount("", control)]))
    return app, control
