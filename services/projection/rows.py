"""What the projection keeps of a matter: identifiers, classification, the dates
deadlines and KPIs need (each deadline of :mod:`onedoor.deadlines` whole, so the
``overdue`` list is decided by the same code as the live path), and links —
never a name, phone, address or ID number.

A person appears only as :func:`person_key`, a keyed HMAC of the canonical
resident ID, where a KPI counts people (repeat petitions). The key stays with the
gateway, so the projection alone cannot be joined back to anyone.

KPI flags are computed by the caller's :data:`RowMapper` from the shared KPI
definitions (``schema.kpi``) when a record is fed; the store only sums them, so
the projection and the live path count with one definition.

Organisations appear by their unified social credit code (``orgs``: GB 32100-2015,
canonical, valid codes only), so ``organisation(creditCode:)`` can find a company's
matters across centres, which no centre can search by. A legal person's code is a
public registry identifier (国家企业信用信息公示系统), not personal data, so the rule
above still holds. Only parties a centre records as organisations are indexed: a
个体工商户 (sole trader, codes starting ``92``) is indexed when the centre records the
business as the party, never when it records the proprietor as a person who also
carries a code — a resident ID is never a key here, in any form.

>>> person_key(b"k" * 32, "11010519491231002X")[:8]
'4ba5f3b2'
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from onedoor.deadlines import RULES, Deadline
from onedoor.model import CST, Centre, LinkRecord, LinkRelation, MatterRecord, MatterStatus

__all__ = ["FLAGS", "ProjectionRow", "RowMapper", "decode_deadlines", "decode_links", "decode_orgs",
           "encode_deadlines", "encode_links", "encode_orgs", "from_us", "person_key", "to_us"]

# The per-matter KPI counts the store sums (``registered`` is the row itself and
# ``repeat_petitions`` needs the row's peers: the store computes both).
FLAGS: tuple[str, ...] = ("accepted", "forwarded", "assigned", "closed", "closed_on_time", "mediations",
                          "agreements", "escalated")


def person_key(secret: bytes, id_number: str) -> str:
    """A keyed, one-way stand-in for a canonical resident ID (HMAC-SHA256, hex)."""
    return hmac.new(secret, id_number.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class ProjectionRow:
    centre: Centre
    native_id: str
    reference: str
    kind: str  # the centre's sub-type (mediation type, service type, petition type, case type, event type)
    category: str
    region_code: str
    status: MatterStatus
    centre_status: str
    received_at: dt.datetime
    month: str  # YYYY-MM of registration, CST
    closed_at: dt.datetime | None
    deadlines: tuple[Deadline, ...]  # onedoor.deadlines.deadlines_of, kept whole
    flags: Mapping[str, int]  # FLAGS → 0/1
    person: str | None  # person_key of the petitioner, petitions only
    links: tuple[LinkRecord, ...]
    orgs: tuple[str, ...] = ()  # credit codes of the organisation parties, sorted, unique
    _fingerprint: str = field(default="", init=False, repr=False, compare=False)

    @property
    def overdue_from(self) -> dt.datetime | None:
        """The first instant after which a deadline counts as missed (``None``: never).
        A deadline met on time is never missed; one met late, or not yet met, is
        missed once its ``due`` passes — :meth:`Deadline.missed` decides exactly."""
        late = [d.due for d in self.deadlines if d.due is not None and d.missed(_FAR) is True]
        return min(late, default=None)

    @property
    def key(self) -> tuple[Centre, str]:
        return (self.centre, self.native_id)

    def fingerprint(self) -> str:
        """Changes when anything the projection answers from changes (drift detection);
        computed once per row."""
        if not self._fingerprint:
            parts = [self.reference, self.kind, self.category, self.region_code, self.status.value,
                     self.centre_status, _us(self.received_at), self.month, _us(self.closed_at),
                     encode_deadlines(self.deadlines), self.person or "",
                     ",".join(f"{k}={v}" for k, v in sorted(self.flags.items())), encode_links(self.links),
                     encode_orgs(self.orgs)]
            digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=12).hexdigest()
            object.__setattr__(self, "_fingerprint", digest)
        return self._fingerprint


def _us(at: dt.datetime | None) -> int | str:
    return "" if at is None else to_us(at)


def to_us(at: dt.datetime) -> int:
    """Epoch microseconds: how every engine stores an instant (exact, comparable)."""
    td = at - _EPOCH
    return (td.days * 86_400 + td.seconds) * 1_000_000 + td.microseconds


def from_us(us: int) -> dt.datetime:
    return (_EPOCH + dt.timedelta(microseconds=us)).astimezone(CST)


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_FAR = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)  # later than any act: a met deadline shows as met


def _moment(at: dt.datetime | dt.date | None) -> str | int | None:
    if at is None:
        return None
    return to_us(at) if isinstance(at, dt.datetime) else at.isoformat()


def _unmoment(v: str | int | None) -> dt.datetime | dt.date | None:
    if v is None:
        return None
    return from_us(v) if isinstance(v, int) else dt.date.fromisoformat(v)


def encode_deadlines(deadlines: tuple[Deadline, ...]) -> str:
    return json.dumps([[d.rule.kind, _moment(d.start), _moment(d.due), _moment(d.nominal_due), _moment(d.done),
                        d.extension_days] for d in deadlines], separators=(",", ":"))


def decode_deadlines(text: str) -> tuple[Deadline, ...]:
    out = []
    for kind, start, due, nominal, done, extension in json.loads(text):
        out.append(Deadline(RULES[kind], _unmoment(start) or dt.date.min, _at(due), _at(nominal) or _EPOCH,
                            _unmoment(done), int(extension)))
    return tuple(out)


def _at(v: int | None) -> dt.datetime | None:
    return None if v is None else from_us(v)


def encode_links(links: tuple[LinkRecord, ...]) -> str:
    return json.dumps([[link.relation.value, link.centre.value, link.native_id] for link in links],
                      ensure_ascii=False, separators=(",", ":"))


def decode_links(text: str) -> tuple[LinkRecord, ...]:
    return tuple(LinkRecord(LinkRelation(r), Centre(c), n) for r, c, n in json.loads(text))


def encode_orgs(orgs: tuple[str, ...]) -> str:
    return json.dumps(list(orgs), separators=(",", ":"))


def decode_orgs(text: str) -> tuple[str, ...]:
    return tuple(str(code) for code in json.loads(text))


RowMapper = Callable[[MatterRecord], ProjectionRow]
