"""Pure helpers the five centre modules share: strict payload accessors,
time and identifier normalisation, status-table inversion and paging.

Accessors raise ``ValueError`` on a contract violation; :func:`decoding`
turns every such slip (and stray ``KeyError``/``TypeError``) into
:class:`CentreBadResponse`, so a malformed payload can never surface as
anything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any, TypeVar

import httpx
import orjson

from onedoor import deadlines, periods
from onedoor.identifiers import InvalidIdentifier, normalise_resident_id
from onedoor.model import (
    CATEGORIES,
    CST,
    Centre,
    LinkRecord,
    LinkRelation,
    MatterRecord,
    MatterStatus,
)

from .base import ListQuery
from .errors import CentreBadResponse, CentreUnavailable

__all__ = [
    "Fetch",
    "FilterSpelling",
    "as_dict",
    "as_list",
    "canonical_id",
    "category_of",
    "check_accounted",
    "chunks",
    "collect_offset_pages",
    "collect_pages",
    "decoding",
    "end_of_day",
    "expect_status",
    "filter_params",
    "from_epoch_ms",
    "group_by_citizen",
    "invert",
    "json_body",
    "links_from",
    "native_filter",
    "native_link",
    "opt_bool",
    "opt_str",
    "opt_time",
    "parse_iso",
    "req_int",
    "req_str",
    "transfer_table",
    "unique",
    "with_deadlines",
]

_T = TypeVar("_T")

# How many records one citizen search may pull before we stop paging: a guard
# against a centre whose paging never ends, far above any real caseload.
MAX_CITIZEN_RECORDS = 2000


@contextlib.contextmanager
def decoding(centre: Centre, what: str) -> Iterator[None]:
    try:
        yield
    except CentreBadResponse:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise CentreBadResponse(centre, detail=f"{what}: {type(exc).__name__}") from exc


def check_accounted(requested: Iterable[str], found: Iterable[str], missing: Iterable[Any]) -> None:
    """A batch read must account for every id asked: returned or listed as missing.
    A silently shorter answer (a "partial batch") breaks the contract, and taking
    it as "does not exist" would hide matters from the caller."""
    unaccounted = set(requested) - set(found) - {str(m) for m in missing}
    if unaccounted:
        raise ValueError(f"batch left {len(unaccounted)} ids unaccounted for")


def as_dict(value: Any, what: str = "object") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{what} is not an object")
    return value


def as_list(value: Any, what: str = "array") -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"{what} is not an array")
    return value


def req_str(obj: Mapping[str, Any], key: str) -> str:
    value = obj[key]
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} is not a non-empty string")
    return value


def opt_str(obj: Mapping[str, Any], key: str) -> str | None:
    """Absent, null and empty all mean "no value" in these centres."""
    value = obj.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"{key} is not a string")
    return value


def req_int(obj: Mapping[str, Any], key: str) -> int:
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key} is not an integer")
    return value


def opt_bool(obj: Mapping[str, Any], key: str) -> bool | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, bool):
        raise ValueError(f"{key} is not a boolean")
    return value


def links_from(
    raw: Any,
    table: Mapping[Any, tuple[LinkRelation, Centre]],
    key: Callable[[dict[str, Any]], Any],
    ref: str,
) -> tuple[LinkRecord, ...]:
    """Native cross-references → links seen from this side; references to
    systems we do not federate are dropped, not errors."""
    links = []
    for item in as_list(raw or [], "links"):
        r = as_dict(item, "link")
        known = table.get(key(r))
        if known is not None:
            links.append(LinkRecord(known[0], known[1], req_str(r, ref)))
    return tuple(links)


_K = TypeVar("_K")


def native_link(table: Mapping[_K, tuple[LinkRelation, Centre]], link: LinkRecord) -> _K:
    """The inverse of :func:`links_from`'s table: the native key under which this centre
    stores ``link`` (a link it has no words for is a caller's mistake, not the centre's)."""
    for key, known in table.items():
        if known == (link.relation, link.centre):
            return key
    raise ValueError(f"no native form for {link.relation.value} → {link.centre.value}")


def transfer_table(systems: Mapping[Centre, str], out: str, in_: str,
                   key: Callable[[str, str], _K]) -> dict[_K, tuple[LinkRelation, Centre]]:
    """Table entries for transfers (转办/交办) in one centre's vocabulary: ``systems`` names
    each other centre, ``out``/``in_`` are its codes for "transferred to"/"from";
    ``key(system, code)`` builds the native key as :func:`links_from` reads it."""
    table: dict[_K, tuple[LinkRelation, Centre]] = {}
    for centre, system in systems.items():
        table[key(system, out)] = (LinkRelation.TRANSFERRED_TO, centre)
        table[key(system, in_)] = (LinkRelation.TRANSFERRED_FROM, centre)
    return table


def canonical_id(raw: str | None) -> str | None:
    """Canonical 18-character resident ID, or ``None`` for a missing or
    unparseable one (centres hold junk; one bad ID must not sink a record)."""
    if not raw:
        return None
    try:
        return normalise_resident_id(raw)
    except InvalidIdentifier:
        return None


def category_of(name: str | None) -> str:
    """A shared statistics category; anything outside the list counts as 其他."""
    return name if name in CATEGORIES else "其他"


def parse_iso(text: str) -> dt.datetime:
    """ISO 8601; a missing offset means China Standard Time (API.md)."""
    value = dt.datetime.fromisoformat(text)
    return value.replace(tzinfo=CST) if value.tzinfo is None else value.astimezone(CST)


def opt_time(obj: Mapping[str, Any], key: str) -> dt.datetime | None:
    text = opt_str(obj, key)
    return None if text is None else parse_iso(text)


def from_epoch_ms(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, CST)


def end_of_day(day: dt.date) -> dt.datetime:
    """A date-only deadline is met until the day is over: the instant it
    passes is the next midnight CST (民法典 Art.203, :mod:`onedoor.periods`)."""
    return periods.end_of_day(day)


def with_deadlines(record: MatterRecord, **fields: str) -> MatterRecord:
    """``record`` with ``due_at`` (and each ``extra`` field named in ``fields``, given as
    field=deadline kind) counted by :mod:`onedoor.deadlines` from the record's own events —
    not read from the centre's due-date fields, so dueAt, overdue and the overdue list
    agree with each other and with the statute."""
    found = deadlines.deadlines_of(record)
    dues = {d.rule.kind: d.due for d in found}
    if not dues.keys() >= set(fields.values()):
        dues |= {d.rule.kind: d.due for d in deadlines.party_windows(record)}
    extra = {**record.extra, **{name: dues.get(kind) for name, kind in fields.items()}}
    governing = deadlines.current(record, found)
    return dataclasses.replace(record, due_at=None if governing is None else governing.due,
                               extra=MappingProxyType(extra))


def to_cst(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=CST) if value.tzinfo is None else value.astimezone(CST)


def invert(table: Mapping[str, tuple[MatterStatus, str]]) -> dict[MatterStatus, tuple[str, ...]]:
    """A centre's status table (native code → unified status, label) turned round:
    the native codes of each unified status, for search filters."""
    inverse: dict[MatterStatus, list[str]] = {}
    for code, (status, _) in table.items():
        inverse.setdefault(status, []).append(code)
    return {status: tuple(codes) for status, codes in inverse.items()}


def native_filter(
    wanted: Iterable[_T] | None, table: Mapping[_T, Sequence[str]]
) -> tuple[str, ...] | None:
    """Native codes for unified values: ``None`` = no filter; ``()`` = nothing
    can match (the caller answers an empty page without a request)."""
    if wanted is None:
        return None
    return tuple(dict.fromkeys(code for w in wanted for code in table.get(w, ())))


@dataclasses.dataclass(frozen=True, slots=True)
class FilterSpelling:
    """How one centre spells a :class:`ListQuery`'s filters in its query string:
    parameter names, native status codes, category codes (``None``: the Chinese
    names as they are), how a moment and a yes/no are written."""

    region: str
    status: str
    category: str
    received_from: str
    received_to: str
    overdue: str
    statuses: Mapping[MatterStatus, Sequence[str]]
    moment: Callable[[dt.datetime], str]
    categories: Mapping[str, Sequence[str]] | None = None
    yes_no: tuple[str, str] = ("true", "false")


def filter_params(query: ListQuery, spelling: FilterSpelling) -> list[tuple[str, str]] | None:
    """The query's filters as ``(name, value)`` pairs (a repeated name per value),
    or ``None`` when no native code can match them (answer empty without asking)."""
    statuses = native_filter(query.statuses, spelling.statuses)
    categories = (query.categories if spelling.categories is None
                  else native_filter(query.categories, spelling.categories))
    if query.region_prefixes == () or statuses == () or categories == ():
        return None
    pairs = [(spelling.region, p) for p in query.region_prefixes or ()]
    pairs += [(spelling.status, s) for s in statuses or ()]
    pairs += [(spelling.category, c) for c in categories or ()]
    if query.received_from is not None:
        pairs.append((spelling.received_from, spelling.moment(query.received_from)))
    if query.received_to is not None:
        pairs.append((spelling.received_to, spelling.moment(query.received_to)))
    if query.overdue is not None:
        pairs.append((spelling.overdue, spelling.yes_no[0 if query.overdue else 1]))
    return pairs


def unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def chunks(values: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def group_by_citizen(
    id_numbers: Sequence[str], records: Iterable[MatterRecord]
) -> dict[str, tuple[MatterRecord, ...]]:
    """Each requested ID → the records where it is a party (compared in
    canonical form; the key stays as the caller spelled it)."""
    wanted: dict[str, list[str]] = {}
    for raw in id_numbers:
        canon = canonical_id(raw)
        if canon is not None:
            wanted.setdefault(canon, []).append(raw)
    found: dict[str, dict[str, MatterRecord]] = {raw: {} for raw in id_numbers}
    for record in records:
        for party in record.parties:
            for raw in wanted.get(party.id_number or "", ()):
                found[raw][record.native_id] = record
    return {raw: tuple(sorted(m.values(), key=MatterRecord.sort_key)) for raw, m in found.items()}


# fetch(cursor, size) -> (items, total, next cursor or None when exhausted)
Fetch = Callable[[Any, int], Awaitable[tuple[Sequence[MatterRecord], int, Any]]]


async def collect_pages(
    fetch: Fetch, first: Any, limit: int, max_page: int
) -> tuple[tuple[MatterRecord, ...], int]:
    """Page a native search until ``limit`` items or the end, returning the
    items and the centre's total. ``limit <= 0`` still asks for one item, to
    learn the total."""
    items: list[MatterRecord] = []
    cursor = first
    total = 0
    while True:
        size = max(1, min(max_page, limit - len(items)))
        page, total, cursor = await fetch(cursor, size)
        items.extend(page)
        if cursor is None or not page or len(items) >= limit:
            break
    return tuple(items[: max(0, limit)]), total


async def collect_offset_pages(
    fetch: Fetch, limit: int, max_page: int, *, eager_pages: int = 4
) -> tuple[tuple[MatterRecord, ...], int]:
    """Page an offset-based search (``start``/``rows``). The offsets are known in
    advance, so a list of a few pages (a screenful) is requested all at once —
    one round trip on the critical path, not one per page. A large ``limit``
    (a cap, not an expected size) first learns the total from page one, then
    fetches only the pages that exist, concurrently."""
    if limit <= max_page:
        return await collect_pages(fetch, 0, limit, max_page)
    if limit <= eager_pages * max_page:
        starts = range(0, limit, max_page)
        pages = await asyncio.gather(*(fetch(s, min(max_page, limit - s)) for s in starts))
        items = [record for page, _, _ in pages for record in page]
        return tuple(items[:limit]), pages[0][1]
    first_page, total, _ = await fetch(0, max_page)
    end = min(limit, total)
    rest = await asyncio.gather(
        *(fetch(s, min(max_page, end - s)) for s in range(max_page, end, max_page))
    )
    items = [*first_page, *(record for page, _, _ in rest for record in page)]
    return tuple(items[:limit]), total


def expect_status(centre: Centre, response: httpx.Response, *ok: int) -> None:
    """Reject statuses the contract does not allow here. 401/403 mean our
    credentials are wrong (the centre is unusable to us); any other 4xx means
    we and the centre disagree on the contract."""
    status = response.status_code
    if status in (ok or (200,)):
        return
    where = f"{response.request.method} {response.request.url.path} -> {status}"
    if status in (401, 403):
        raise CentreUnavailable(centre, http_status=status, detail=where)
    raise CentreBadResponse(centre, http_status=status, detail=where)


def json_body(centre: Centre, response: httpx.Response) -> Any:
    """The decoded JSON body, or :class:`CentreBadResponse` (never the body itself)."""
    expect_status(centre, response)
    try:
        # orjson: a third of the standard decoder's time on a 100-record page
        # (the largest single cost of a caseload request, profiled). Stricter
        # too: NaN, Infinity and lone surrogates are invalid JSON, refused.
        return orjson.loads(response.content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CentreBadResponse(
            centre, http_status=response.status_code, detail=f"invalid JSON: {type(exc).__name__}"
        ) from exc
