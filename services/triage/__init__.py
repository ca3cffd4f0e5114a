"""Triage (分流): which centre owns a new filing, decided by rules kept as data.

The rules live in a versioned TOML file (``rules.toml`` beside this module by
default), so the governance centre can change routing without a release. The
file is re-read when it changes; a broken edit is refused and logged and the
previous rules stay in force — a typo must not stop every window.

    rules = RulesFile()                       # or RulesFile(Path("/etc/onedoor/rules.toml"))
    decision = rules.current().route(Facts(category="劳动争议", region_code="632301001002"))
    decision.centre, decision.rule_id, decision.reason
"""

from __future__ import annotations

import datetime as dt
import logging
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from onedoor import periods
from onedoor.model import CATEGORIES, Centre

__all__ = ["DEFAULT_RULES", "Deadline", "Decision", "Facts", "NoRoute", "Rules", "RulesFile"]

log = logging.getLogger("onedoor.triage")
DEFAULT_RULES = Path(__file__).with_name("rules.toml")
Basis = Literal["MATTER", "PLACE", "CAUSE"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Rule(_Strict):
    id: str = Field(min_length=1)
    basis: Basis
    centre: Centre
    reason: str = Field(min_length=1)
    categories: tuple[str, ...] | None = None
    channels: tuple[str, ...] | None = None
    region_prefixes: tuple[str, ...] | None = None
    court_related: bool | None = None
    against_authority: bool | None = None


class _Deadline(_Strict):
    centre: Centre
    days: int = Field(ge=1)
    name: str
    law: str
    kind: str | None = None


class _File(_Strict):
    version: str = Field(min_length=1)
    kinds: dict[str, str] = {}
    rule: tuple[_Rule, ...] = Field(min_length=1)
    deadline: tuple[_Deadline, ...] = ()


@dataclass(frozen=True, slots=True)
class Facts:
    """What triage looks at: the filing's category, channel, place and cause."""

    category: str
    region_code: str
    channel: str = "WINDOW"
    court_related: bool = False
    against_authority: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    centre: Centre
    rule_id: str
    basis: Basis
    reason: str
    version: str
    kind: str | None  # the centre's sub-type (LEGAL_AID, COMPLAINT …) implied by the category


@dataclass(frozen=True, slots=True)
class Deadline:
    name: str
    law: str
    due_at: dt.datetime | None  # None: the holiday notice for the last day's year is not known yet


class NoRoute(LookupError):
    """No rule matches: the filing cannot be routed (and nothing is created)."""


class Rules:
    def __init__(self, parsed: _File) -> None:
        self._file = parsed
        self.version = parsed.version

    @property
    def categories(self) -> frozenset[str]:
        """Every category a filing may name: the 15 dispute categories plus the file's kinds."""
        return frozenset(CATEGORIES) | frozenset(self._file.kinds)

    def route(self, facts: Facts) -> Decision:
        for rule in self._file.rule:
            if _matches(rule, facts):
                return Decision(rule.centre, rule.id, rule.basis, rule.reason, self.version,
                                self._file.kinds.get(facts.category))
        raise NoRoute(facts.category)

    def deadlines(self, centre: Centre, kind: str | None, received: dt.datetime) -> list[Deadline]:
        """Statutory deadlines counted from registration as 民法典 Art.201–203 count them
        (:mod:`onedoor.periods`: start day not counted, a last day on a rest day moved past
        it, due at the end of the last day); ``due_at`` is ``None`` when the calendar cannot tell."""
        out = []
        for d in self._file.deadline:
            if d.centre is centre and d.kind in (None, kind):
                try:
                    due: dt.datetime | None = periods.due_at(received, days=d.days)
                except periods.DeadlineUnknown:
                    due = None
                out.append(Deadline(d.name, d.law, due))
        return out


def _matches(rule: _Rule, facts: Facts) -> bool:
    return (
        (rule.categories is None or facts.category in rule.categories)
        and (rule.channels is None or facts.channel in rule.channels)
        and (rule.region_prefixes is None
             or any(facts.region_code.startswith(p) for p in rule.region_prefixes))
        and (rule.court_related is None or facts.court_related == rule.court_related)
        and (rule.against_authority is None or facts.against_authority == rule.against_authority)
    )


def parse_rules(text: str) -> Rules:
    """Parse and validate a rules file (``ValueError`` naming the problem)."""
    try:
        data: dict[str, Any] = tomllib.loads(text)
        return Rules(_File.model_validate(data))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ValueError(f"invalid triage rules: {exc}") from None


class RulesFile:
    """The rules of one file, re-read when its modification time changes."""

    def __init__(self, path: Path = DEFAULT_RULES) -> None:
        self.path = path
        self._stamp = path.stat().st_mtime_ns
        self._rules = parse_rules(path.read_text(encoding="utf-8"))  # fails start-up if broken

    def current(self) -> Rules:
        try:
            stamp = self.path.stat().st_mtime_ns
            if stamp != self._stamp:
                self._stamp = stamp
                self._rules = parse_rules(self.path.read_text(encoding="utf-8"))
                log.info("triage rules reloaded: version %s", self._rules.version)
        except (OSError, ValueError) as exc:
            log.error("triage rules not reloaded, keeping version %s: %s", self._rules.version, exc)
        return self._rules
