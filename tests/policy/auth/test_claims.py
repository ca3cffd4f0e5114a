"""Claims → Principal, and the Authorization header."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.settings import AuthSettings, IssuerSettings
from policy.auth import InvalidToken, bearer_token, build_authenticator, principal_from_claims


def test_scopes_regions_and_optional_claims() -> None:
    p = principal_from_claims({
        "sub": "u1", "azp": "portal", "scope": "legal:read  stats:read", "purpose": " case 17 ",
        "region": ["632300", "630000", "632301001000", "632300"], "jti": "j",
    })
    assert p.client_id == "portal"
    assert p.scopes == frozenset({"legal:read", "stats:read"})
    assert p.regions == ("63", "6323", "632301001")
    assert p.purpose == "case 17"
    assert p.citizen_id is None
    assert p.authenticated and p.token_id == "j"


def test_no_region_no_scope_means_nothing() -> None:
    p = principal_from_claims({"sub": "u1"})
    assert p.scopes == frozenset() and p.regions == ()
    assert not p.in_jurisdiction("632301")


def test_single_region_string() -> None:
    assert principal_from_claims({"region": "650200"}).regions == ("6502",)


def test_citizen_self_canonicalises_subject() -> None:
    p = principal_from_claims({"sub": "11010519491231002x", "scope": "citizen:self"})
    assert p.citizen_id == "11010519491231002X"
    legacy = principal_from_claims({"sub": "110105491231002", "scope": "citizen:self"})
    assert legacy.citizen_id == "11010519491231002X"


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"scope": "citizen:self"}, "bad_subject"),
        ({"scope": "citizen:self", "sub": "110105194912310021"}, "bad_subject"),
        ({"region": "abc"}, "bad_region"),
        ({"region": {"code": "630000"}}, "bad_region"),
        ({"region": ["630000"] * 100}, "bad_region"),
        ({"sub": 42}, "malformed"),
        ({"purpose": ["x"]}, "malformed"),
    ],
)
def test_unusable_claims(claims: dict[str, Any], reason: str) -> None:
    with pytest.raises(InvalidToken) as info:
        principal_from_claims(claims)
    assert info.value.reason == reason


@pytest.mark.parametrize(
    ("header", "token"),
    [(None, None), ("Bearer abc.def.ghi", "abc.def.ghi"),
     ("bearer  a-b_c.d~e+f/g==", "a-b_c.d~e+f/g==")],
)
def test_bearer_header(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token


@pytest.mark.parametrize(
    ("header", "reason"),
    [("Basic dXNlcjpwYXNz", "unsupported_scheme"), ("abc.def.ghi", "unsupported_scheme"),
     ("Bearer", "malformed"), ("Bearer ", "malformed"), ("Bearer a b", "malformed"),
     ("Bearer ä", "malformed")],
)
def test_bad_bearer_header(header: str, reason: str) -> None:
    with pytest.raises(InvalidToken) as info:
        bearer_token(header)
    assert info.value.reason == reason


async def test_build_authenticator_from_settings() -> None:
    settings = AuthSettings(issuers=(IssuerSettings(issuer="https://idp", jwks_url="https://idp/j"),),
                            leeway_seconds=5)
    authenticate = build_authenticator(settings)
    with pytest.raises(InvalidToken) as info:
        await authenticate("not-a-token")
    assert info.value.reason == "malformed"
    await authenticate.aclose()
