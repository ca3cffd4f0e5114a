"""Who is asking: the caller as the token describes them, built once per request."""

from __future__ import annotations

import time
from dataclasses import dataclass

from onedoor.centres import CENTRES
from onedoor.regions import region_matches

__all__ = ["ANONYMOUS", "SCOPES", "Principal"]

# Every scope the gateway understands (RFC 6749 space-separated in the token).
SCOPES: tuple[str, ...] = (
    *(info.read_scope for info in CENTRES.values()),  # one per centre (onedoor.centres)
    "pii:read",
    "matters:write",
    "audit:read",
    "stats:read",
    "citizen:self",
    # Operators: the gateway's own health detail (request counters per centre).
    "ops:read",
    # Reaching confidential petitions (a protected reporter's 检举控告) through a
    # person or a link; every such reach is audited (policy.disclosure).
    "petitions:confidential",
)


@dataclass(frozen=True, slots=True)
class Principal:
    sub: str | None
    client_id: str | None
    scopes: frozenset[str]
    # Jurisdiction: canonical GB/T 2260 prefixes ("6323", "6502"). Empty = no rows at all.
    regions: tuple[str, ...]
    purpose: str | None = None
    # Canonical resident ID when the token carries ``citizen:self`` (its ``sub``).
    citizen_id: str | None = None
    authenticated: bool = False
    token_id: str | None = None
    # The token's ``exp`` (Unix seconds): long-lived operations (subscriptions)
    # end when it passes; ``None`` for the anonymous principal.
    expires_at: float | None = None

    def has(self, *scopes: str) -> bool:
        return all(s in self.scopes for s in scopes)

    def expired(self, now: float | None = None) -> bool:
        if self.expires_at is None:
            return False
        return (time.time() if now is None else now) >= self.expires_at

    def seconds_left(self, now: float | None = None) -> float | None:
        if self.expires_at is None:
            return None
        return self.expires_at - (time.time() if now is None else now)

    def in_jurisdiction(self, region_code: str) -> bool:
        return region_matches(region_code, self.regions)


ANONYMOUS = Principal(sub=None, client_id=None, scopes=frozenset(), regions=())
