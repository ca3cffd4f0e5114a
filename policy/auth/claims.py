"""Verified JWT claims → :class:`Principal`.

Runs only after the signature, issuer, audience and lifetime are checked;
what remains is the shape of the gateway's own claims::

    {"sub": "caseworker-632300", "client_id": "portal", "scope": "mediation:read pii:read",
     "region": ["632300"], "purpose": "case 2024-17", "jti": "..."}

A claim of the wrong type refuses the token instead of being ignored: a
``region`` the gateway cannot read must not widen or silently empty the
jurisdiction without anyone noticing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from onedoor.identifiers import InvalidIdentifier, normalise_resident_id
from onedoor.regions import UnknownRegion, canonical_prefix

from ..principal import Principal
from .errors import InvalidToken

__all__ = ["principal_from_claims"]

_MAX_PURPOSE = 200
_MAX_REGIONS = 64
_REGION_REASONS = {
    "format": "区划代码须为6位或12位半角数字 / a region code is 6 or 12 ASCII digits",
    "province": "区划代码的前两位不是省级代码 / the first two digits name no province (GB/T 2260)",
}


def _optional_str(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidToken("malformed", f"claim {name} is not a string")
    return value


def _scopes(claims: Mapping[str, Any]) -> frozenset[str]:
    scope = _optional_str(claims, "scope")
    return frozenset(scope.split()) if scope else frozenset()


def _regions(claims: Mapping[str, Any]) -> tuple[str, ...]:
    raw = claims.get("region")
    if raw is None:
        return ()
    codes = [raw] if isinstance(raw, str) else raw
    if not isinstance(codes, list) or len(codes) > _MAX_REGIONS:
        raise InvalidToken("bad_region", "region is neither a code nor a list of codes")
    prefixes: set[str] = set()
    for code in codes:
        if not isinstance(code, str):
            raise InvalidToken("bad_region", "region entries must be strings")
        try:
            prefixes.add(canonical_prefix(code))
        except UnknownRegion as exc:
            raise InvalidToken("bad_region", _REGION_REASONS.get(exc.reason, exc.reason)) from None
    return tuple(sorted(prefixes))


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    """Build the principal; raises :class:`InvalidToken` on an unusable claim."""
    sub = _optional_str(claims, "sub")
    client_id = _optional_str(claims, "client_id") or _optional_str(claims, "azp")
    purpose = _optional_str(claims, "purpose")
    if purpose is not None:
        purpose = purpose.strip()[:_MAX_PURPOSE] or None
    scopes = _scopes(claims)
    citizen_id = None
    if "citizen:self" in scopes:
        # The subject *is* the resident: their ID is the only key to their matters.
        try:
            citizen_id = normalise_resident_id(sub or "")
        except InvalidIdentifier as exc:
            raise InvalidToken("bad_subject", exc.reason) from None
    return Principal(
        sub=sub,
        client_id=client_id,
        scopes=scopes,
        regions=_regions(claims),
        purpose=purpose,
        citizen_id=citizen_id,
        authenticated=True,
        token_id=_optional_str(claims, "jti"),
        expires_at=_expiry(claims),
    )


def _expiry(claims: Mapping[str, Any]) -> float | None:
    exp = claims.get("exp")
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None
