"""Security point 9 (region claims): a region claim that is not 6 or 12 ASCII digits
naming a GB/T 2260 province refuses the token with a reason, instead of failing
closed silently (an empty jurisdiction nobody notices)."""

from __future__ import annotations

import pytest

from policy.auth import InvalidToken, principal_from_claims
from tests.gateway.harness import client
from tests.schema.test_query import _centres


@pytest.mark.parametrize(("region", "why"), [
    ("６３２３００", "ASCII"),          # full-width digits
    ("632300\n", "ASCII"),            # a trailing newline
    ("000000", "province"),           # no province is 00
    ("990101", "province"),
    ("63230", "ASCII"),
])
def test_malformed_region_claims_refuse_the_token(region: str, why: str) -> None:
    with pytest.raises(InvalidToken) as refused:
        principal_from_claims({"sub": "x", "scope": "mediation:read", "region": [region]})
    assert refused.value.reason == "bad_region"
    assert why in refused.value.detail


def test_a_well_formed_region_is_kept() -> None:
    principal = principal_from_claims({"sub": "x", "region": ["632300", "650203001000"]})
    assert principal.regions == ("6323", "650203001")


async def test_the_401_says_which_claim_is_unusable() -> None:
    async def authenticate(token: str) -> object:
        return principal_from_claims({"sub": "x", "region": ["６３２３００"]})

    async with client(_centres(), {}) as http:
        app = http._transport.app  # type: ignore[attr-defined]
        app.middleware_stack = None  # rebuilt with the new authenticator below
        for middleware in app.user_middleware:
            if "authenticate" in middleware.kwargs:
                middleware.kwargs["authenticate"] = authenticate
        response = await http.post("/graphql", json={"query": "{ __typename }"},
                                   headers={"Authorization": "Bearer t"})
    assert response.status_code == 401
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "ASCII" in error["extensions"]["reason"]
