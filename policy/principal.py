"""Who is asking: the caller as the token describes them, built once per request."""

from __future__ import annotations

from dataclasses import dataclass

from onedoor.regions import region_matches

__all__ = ["ANONYMOUS", "SCOPES", "Principal"]

# Every scope the gateway understands (RFC 6749 space-separated in the token).
SCOPES: tuple[str, ...] = (
    "mediation:read",
    "legal:read",
    "petitions:read",
    "litigation:read",
    "governance:read",
    "pii:read",
    "matters:write",
    "audit:read",
    "stats:read",
    "citizen:self",
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

    def has(self, *scopes: str) -> bool:
        return all(s in self.scopes for s in scopes)

    def in_jurisdiction(self, region_code: str) -> bool:
        return region_matches(region_code, self.regions)


ANONYMOUS = Principal(sub=None, client_id=None, scopes=frozenset(), regions=())
