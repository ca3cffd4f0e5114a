"""Rendering helpers shared by the centre apps: parties, progress steps, params.

Each centre formats dates its own way, but the people and the shape of a
lifecycle are the same everywhere, so they are derived here once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from starlette.requests import Request
from starlette.responses import JSONResponse

from onedoor.model import CATEGORIES
from sandbox.people import employer, employer_index
from sandbox.world import Matter, World, to_cst

__all__ = [
    "BadRequest", "Party", "counter_party", "csv", "int_param", "json_error", "masked_name",
    "step_times",
]


class BadRequest(ValueError):
    """An invalid query parameter; centres answer it with their own 400 shape."""


@dataclass(frozen=True, slots=True)
class Party:
    name: str
    id_number: str | None
    phone: str | None
    address: str | None
    org_code: str | None

    @property
    def is_org(self) -> bool:
        return self.org_code is not None


def counter_party(world: World, m: Matter) -> Party:
    """The other side of the dispute; both ends of a story get the same one. An
    organisation is one of the county's pool (:func:`sandbox.people.employer`), so one
    employer meets many residents, at several centres."""
    if m.other is not None:
        o = m.other
        return Party(o.name, o.id_number, o.phone, o.address, None)
    key = m.row if m.partner_row is None else min(m.row, m.partner_row)
    rng = np.random.default_rng((world.seed, key, 99))
    name, code = employer(world.seed, m.region_code[:6], employer_index(rng, world.size))
    return Party(name, None, None, None, code)


def masked_name(name: str) -> str:
    """``张某`` as in case titles."""
    return (name[:2] if name[:2] in ("欧阳", "司马", "上官", "诸葛") else name[:1]) + "某"


def title(world: World, m: Matter) -> str:
    other = counter_party(world, m)
    other_name = other.name if other.is_org else masked_name(other.name)
    return f"{masked_name(m.citizen.name)}与{other_name}{CATEGORIES[m.category % 15]}纠纷"


def step_times(m: Matter, count: int, now: int, pin: tuple[int, int] | None = None) -> list[dt.datetime]:
    """``count`` step times spread from receipt to closure (or to now). ``pin`` = (index, time)
    puts one step at the moment it happened — the milestone a deadline is met by (acceptance,
    dispatch) — and spreads the others on either side of it."""
    if pin is not None and 0 < pin[0] < count:
        k, at = pin
        before = step_times(replace(m, closed=at), k + 1, now)
        return before + step_times(replace(m, received=at), count - k, now)[1:]
    end = m.closed if m.closed is not None else now
    if count <= 1:
        return [to_cst(m.received)]
    span = max(end - m.received, 60)
    return [to_cst(m.received + span * k // (count - 1)) for k in range(count)]


def csv(value: str | None) -> list[str] | None:
    if value is None or value == "":
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


def int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an integer") from None
    if not low <= value <= high:
        raise BadRequest(f"{name} must be within [{low}, {high}]")
    return value


def codes(values: Sequence[str] | None, table: Sequence[str], name: str) -> list[int] | None:
    """Map native codes to indices; an unknown code is a 400, as in the real systems."""
    if values is None:
        return None
    try:
        return [list(table).index(v) for v in values]
    except ValueError:
        raise BadRequest(f"unknown {name}: {values}") from None


def json_error(status: int, payload: dict[str, object],
               headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(payload, status_code=status, headers=headers)
