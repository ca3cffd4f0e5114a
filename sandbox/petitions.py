"""PETITIONS (信访中心): a legacy XML service with ``YYYYMMDD`` dates and no batch read.

Stored resident IDs are what the office typed in years ago: some legacy
15-digit numbers and lowercase ``x``; ``sfzh`` matches that string exactly.
The ``partial`` fault has nothing to halve here (there is no batch read).
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from dataclasses import replace

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from onedoor.model import CATEGORIES, CST, Centre
from sandbox import intake
from sandbox.common import BadRequest, codes, counter_party, int_param, step_times
from sandbox.lifecycle import STATUSES, XFLB
from sandbox.moved import moved_record
from sandbox.openapi import petitions_spec
from sandbox.world import Matter, World, to_cst
from sandbox.writes import WriteStore, control_app

__all__ = ["create_app", "render_record"]

_STEP = {"02": "受理", "03": "转送", "04": "交办", "05": "办理中", "06": "办结", "07": "不予受理"}
_GL = {(2, 1): ("TJ", "ZXF"), (5, 1): ("WG", "WGSJ")}
# 复查申请/意见, 复核申请/意见 dates (信访工作条例 Art.35, 36)
_REVIEW_TAGS = ("fcsqrq", "fcyjrq", "fhsqrq", "fhyjrq")
_REVIEW_STEPS = ("复查申请", "复查意见", "复核申请", "复核意见")
_TITLES = ("反映{c}问题", "请求解决{c}纠纷", "投诉{c}问题处理不当", "对{c}问题提出意见")


def _date(ts: int | None) -> str:
    return "" if ts is None else to_cst(ts).strftime("%Y%m%d")


def _add(parent: ET.Element, tag: str, text: str | None = "") -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = text or ""
    return element


def render_record(world: World, m: Matter) -> ET.Element:
    rng = m.rng
    category = CATEGORIES[m.category]
    root = ET.Element("xfjl")
    _add(root, "xfbh", m.native_id)
    _add(root, "bt", _TITLES[int(rng.integers(len(_TITLES)))].format(c=category))
    _add(root, "xfxs", str(int(rng.integers(1, 6))))
    _add(root, "xflb", XFLB[m.sub])
    _add(root, "nrfl", category)
    _add(root, "zt", m.status)
    _add(root, "qhdm", m.region_code)
    _add(root, "djrq", _date(m.received))
    _add(root, "djsj", to_cst(m.received).strftime("%H%M%S"))
    _add(root, "slrq", _date(m.accepted))
    _add(root, "slqx", _date(m.due - 1 if m.due is not None else None))
    _add(root, "blqx", _date(m.due2 - 1 if m.due2 is not None else None))
    _add(root, "bjrq", _date(m.opinion))  # the handling opinion; a review (08/09) reopens, it stays
    _add(root, "yqts", str(m.extension_days) if m.extension_days else "")
    for tag, when in zip(_REVIEW_TAGS, m.reviews, strict=True):
        _add(root, tag, _date(when))
    xfr = ET.SubElement(root, "xfr")
    for tag, text in (("xm", m.citizen.name), ("sfzh", m.stored_id), ("dh", m.citizen.phone),
                      ("dz", m.citizen.address)):
        _add(xfr, tag, text)
    if XFLB[m.sub] == "JJKG" and rng.random() < 0.3:
        _add(xfr, "jm", "1")  # a whistle-blower: must never reach the accused (条例 Art.30)
    _add(ET.SubElement(root, "bfyr"), "xm", counter_party(world, m).name)
    steps = ["登记"]
    if m.accepted is not None:
        steps.append("不予受理" if m.status == "07" else "受理")
        if m.status in ("03", "04", "05"):
            steps.append(_STEP[m.status])
        if m.status in ("06", "08", "09"):  # handled; it keeps the 转送/交办 it went through (条例 Art.22)
            steps += [("转送", "交办", "办理中")[int(rng.integers(3))], "办结"]
    lcjl = ET.SubElement(root, "lcjl")
    pin = (1, m.accepted) if m.accepted is not None else None  # 受理 on slrq, the date the deadlines use
    handled = replace(m, closed=m.opinion) if m.opinion is not None else m
    times = step_times(handled, len(steps), world.now_ts, pin)
    for at_ts, name in zip(m.reviews, _REVIEW_STEPS, strict=True):  # 复查/复核 on the days they happened
        if at_ts is not None:
            steps.append(name)
            times.append(to_cst(at_ts))
    for at, step in zip(times, steps, strict=True):
        jl = ET.SubElement(lcjl, "jl")
        _add(jl, "rq", at.strftime("%Y%m%d"))
        _add(jl, "dz", step)
        _add(jl, "sm", "")
    glxx = ET.SubElement(root, "glxx")
    if (m.story, m.side) in _GL:
        system, kind = _GL[(m.story, m.side)]
        gl = ET.SubElement(glxx, "gl")
        _add(gl, "xt", system)
        _add(gl, "bh", m.partner_id)
        _add(gl, "lx", kind)
    return root


def _xml(element: ET.Element, status: int = 200) -> Response:
    body = ET.tostring(element, encoding="unicode", short_empty_elements=False)
    return Response('<?xml version="1.0" encoding="UTF-8"?>' + body, status_code=status,
                    media_type="application/xml; charset=utf-8")


def _error(code: str, status: int, message: str | None = None) -> Response:
    root = ET.Element("error")
    _add(root, "code", code)
    if message:
        _add(root, "msg", message)
    return _xml(root, status)


def _day(raw: str | None, name: str, *, end: bool, time: str | None = None) -> int | None:
    """A date bound, inclusive; with ``time`` (HHMMSS, ``kssj``/``jssj``) exact to the second."""
    if raw is None or raw == "":
        return None
    try:
        day = dt.datetime.strptime(raw + (time or ""), "%Y%m%d%H%M%S" if time else "%Y%m%d").replace(tzinfo=CST)
    except ValueError:
        raise BadRequest(f"{name} must be YYYYMMDD (and its time HHMMSS)") from None
    return int(day.timestamp()) + (86_399 if end and not time else 0)


def _text(el: ET.Element | None, tag: str) -> str | None:
    child = el.find(tag) if el is not None else None
    return (child.text or "").strip() or None if child is not None else None


def _new_record(content: bytes) -> dict[str, object]:
    """A ``<xfdj>`` registration → the fields a created record keeps. No idempotency:
    the office files whatever arrives; ``<wbbh>`` (external number) is only echoed."""
    try:
        root = fromstring(content)
    except (ET.ParseError, DefusedXmlException, ValueError):
        raise BadRequest("body must be <xfdj> XML") from None
    xfr = root.find("xfr")
    if root.tag != "xfdj" or xfr is None or not _text(xfr, "xm") or not _text(root, "qhdm"):
        raise BadRequest("<xfdj> needs <xfr><xm> and <qhdm>")
    category = _text(root, "nrfl") or "其他"
    if category not in CATEGORIES or (_text(root, "xflb") or "SSQJ") not in XFLB:
        raise BadRequest("unknown nrfl or xflb")
    others = [{"name": _text(b, "xm"), "id_number": _text(b, "sfzh")} for b in root.findall("bfyr")
              if _text(b, "xm")]
    related = [{t: _text(gl, t) for t in ("xt", "bh", "lx")} for gl in root.findall("glxx/gl")]
    return {"title": _text(root, "bt"), "category": category, "region_code": _text(root, "qhdm"),
            "kind": _text(root, "xflb") or "SSQJ", "channel": _text(root, "xfxs") or "1",
            "description": _text(root, "nr"), "external_ref": _text(root, "wbbh"),
            "applicant": {"name": _text(xfr, "xm"), "id_number": _text(xfr, "sfzh"),
                          "phone": _text(xfr, "dh"), "address": _text(xfr, "dz")},
            "others": others, "related": related}


_GL_TAGS = ("xt", "bh", "lx")


def _new_gl(content: bytes) -> tuple[str, dict[str, str]]:
    """A ``<gldj>`` (关联登记): the record's ``<xfbh>`` and one ``<gl>`` to add to it."""
    try:
        root = fromstring(content)
    except (ET.ParseError, DefusedXmlException, ValueError):
        raise BadRequest("body must be <gldj> XML") from None
    gl = root.find("gl")
    number = _text(root, "xfbh")
    link = {t: _text(gl, t) or "" for t in _GL_TAGS}
    if root.tag != "gldj" or gl is None or not number or not all(link.values()):
        raise BadRequest("<gldj> needs <xfbh> and <gl><xt><bh><lx>")
    return number, link


def create_app(world: World, *, writes: WriteStore | None = None) -> Starlette:
    store = writes or WriteStore(world)

    def linked(record: ET.Element) -> ET.Element:
        if not store.links:
            return record  # nothing added anywhere (the common case)
        glxx = record.find("glxx")
        assert glxx is not None  # both renderers always write <glxx>
        native = [{t: _text(gl, t) or "" for t in _GL_TAGS} for gl in glxx.findall("gl")]
        for link in store.with_links(Centre.PETITIONS, _text(record, "xfbh") or "", native)[len(native):]:
            gl = ET.SubElement(glxx, "gl")
            for tag in _GL_TAGS:
                _add(gl, tag, link[tag])
        return record

    def generated(row: int) -> ET.Element:
        record = render_record(world, world.matter(row))
        moved = store.moved.get((Centre.PETITIONS, record.findtext("xfbh") or ""))
        return linked(record if moved is None else moved_record(record, moved))

    def one(number: str) -> ET.Element | None:
        if (written := store.get(Centre.PETITIONS, number)) is not None:
            return linked(intake.render_record(written))
        row = world.row_of(Centre.PETITIONS, number)
        return None if row is None else generated(row)

    async def register(request: Request) -> Response:
        try:
            fields = _new_record(await request.body())
        except BadRequest as exc:
            return _error("BAD_REQUEST", 400, str(exc))
        record, _ = store.add(Centre.PETITIONS, fields, status="01", first_step="登记")
        return _xml(linked(intake.render_record(record)), 201)

    async def item(request: Request) -> Response:
        found = one(request.query_params.get("xfbh", ""))
        return _error("NOT_FOUND", 404) if found is None else _xml(found)

    async def add_gl(request: Request) -> Response:
        """关联登记: add a ``<gl>`` to an existing record. The same one twice is kept once
        (201 when added, 200 when already there), so a retry is harmless."""
        try:
            number, link = _new_gl(await request.body())
        except BadRequest as exc:
            return _error("BAD_REQUEST", 400, str(exc))
        if one(number) is None:
            return _error("NOT_FOUND", 404)
        added = store.add_link(Centre.PETITIONS, number, link)
        found = one(number)
        assert found is not None
        return _xml(found, 201 if added else 200)

    async def query(request: Request) -> Response:
        q = request.query_params

        def many(name: str) -> list[str] | None:
            return q.getlist(name) or None

        try:
            start = int_param(request, "start", 0, 0, 10**9)
            rows_wanted = int_param(request, "rows", 20, 1, 50)
            rows = store.search_world(
                Centre.PETITIONS, party_ids=many("sfzh"), prefixes=many("qhdm"),
                statuses=codes(many("zt"), STATUSES[2], "zt"),
                subs=codes(many("lb"), XFLB, "lb"),
                categories=codes(many("nrfl"), CATEGORIES, "nrfl"),
                received_from=_day(q.get("ksrq"), "ksrq", end=False, time=q.get("kssj")),
                received_to=_day(q.get("jsrq"), "jsrq", end=True, time=q.get("jssj")),
                overdue={"1": True, "0": False}.get(q.get("cq") or ""),
            )
        except BadRequest as exc:
            return _error("BAD_REQUEST", 400, str(exc))
        narrowed = any(q.get(k) for k in ("zt", "lb", "nrfl", "ksrq", "jsrq", "cq"))
        new = [] if narrowed else store.search(Centre.PETITIONS, many("sfzh"), many("qhdm"))
        result = ET.Element("result")
        _add(result, "total", str(len(rows) + len(new)))
        for w in new[start: start + rows_wanted]:
            result.append(linked(intake.render_record(w)))
        end = start + rows_wanted - len(new)
        for r in rows[max(0, start - len(new)): max(0, end)]:
            result.append(generated(int(r)))
        return _xml(result)

    async def openapi(request: Request) -> Response:
        return JSONResponse(petitions_spec())

    return Starlette(routes=[Route("/xf/item", item), Route("/xf/query", query),
                             Route("/xf/register", register, methods=["POST"]),
                             Route("/xf/gl", add_gl, methods=["POST"]),
                             Route("/openapi.json", openapi)])


def control(world: World, writes: WriteStore) -> Starlette:
    return control_app(Centre.PETITIONS, writes, intake.STEPS[2], intake.CLOSED[2])
