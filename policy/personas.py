"""Demo personas: the token claims each kind of user gets (``onedoor token``)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEMO_AUDIENCE", "DEMO_REGIONS", "PERSONAS", "Persona", "persona_claims"]

DEMO_AUDIENCE = "onedoor"
# Every demo region: the seed prefectures / counties (DOMAIN.md).
DEMO_REGIONS: tuple[str, ...] = ("630000", "650200", "620800", "431300")
_READ = ("mediation:read", "legal:read", "petitions:read", "litigation:read", "governance:read")


@dataclass(frozen=True, slots=True)
class Persona:
    name: str
    scopes: tuple[str, ...]
    regions: tuple[str, ...]
    sub: str
    description: str


PERSONAS: dict[str, Persona] = {
    p.name: p
    for p in (
        Persona("caseworker", (*_READ, "pii:read", "matters:write"), ("632300",),
                "caseworker-632300", "承办人（黄南州） / case owner in Huangnan"),
        Persona("auditor", (*_READ, "pii:read", "audit:read"), DEMO_REGIONS,
                "auditor-1", "审计员 / auditor"),
        Persona("analyst", ("stats:read",), DEMO_REGIONS, "analyst-1", "分析员 / analyst"),
        Persona("portal", _READ, DEMO_REGIONS, "portal-frontend", "门户前端 / portal front end"),
        Persona("citizen", ("citizen:self", "matters:write"), (), "", "群众本人 / a resident"),
        Persona("operator", ("ops:read",), (), "operator-1", "运维 / operator: centre health counters"),
    )
}


def persona_claims(
    persona: str,
    *,
    scopes: str | None = None,
    region: str | None = None,
    sub: str | None = None,
) -> dict[str, object]:
    """Claims for a persona, with flags overriding its defaults."""
    base = PERSONAS[persona]
    subject = sub if sub is not None else base.sub
    if persona == "citizen" and not subject:
        raise ValueError("--sub (the resident ID) is required for the citizen persona")
    claims: dict[str, object] = {
        "sub": subject,
        "client_id": f"onedoor-demo-{persona}",
        "scope": scopes if scopes is not None else " ".join(base.scopes),
        "aud": DEMO_AUDIENCE,
    }
    regions = (region,) if region else base.regions
    if regions:
        claims["region"] = list(regions)
    return claims
