"""Token validation: forgeries are refused with the right reason; rotation works."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
from joserfc.jwk import RSAKey

from policy.auth import InvalidToken, TokenValidator

from .idp import AUDIENCE, ISSUER, FakeClock, FakeIdP, b64, hs256, unsigned


async def reason_of(validator: TokenValidator, token: str) -> str:
    with pytest.raises(InvalidToken) as info:
        await validator.authenticate(token)
    return info.value.reason


async def test_valid_rs256_token_gives_principal(idp: FakeIdP, client: httpx.AsyncClient) -> None:
    principal = await idp.validator(client).authenticate(idp.mint())
    assert principal.authenticated
    assert principal.sub == "caseworker-1"
    assert principal.client_id == "portal"
    assert principal.scopes == frozenset({"mediation:read", "pii:read"})
    assert principal.regions == ("6323",)
    assert principal.token_id == "t-1"


@pytest.mark.parametrize(("kind", "alg"), [("EC", "ES256"), ("OKP", "EdDSA"), ("OKP", "Ed25519")])
async def test_ec_and_eddsa_accepted(
    idp: FakeIdP, client: httpx.AsyncClient, kind: str, alg: str
) -> None:
    key = idp.add(kind, f"{kind}-{alg}")
    principal = await idp.validator(client).authenticate(idp.mint(key, alg))
    assert principal.sub == "caseworker-1"


async def test_alg_none_refused_without_fetching_keys(
    idp: FakeIdP, client: httpx.AsyncClient
) -> None:
    token = unsigned({"alg": "none", "typ": "JWT"}, idp.claims())
    assert await reason_of(idp.validator(client), token) == "unsupported_alg"
    assert idp.fetches == 0


async def test_hs256_signed_with_public_key_refused(
    idp: FakeIdP, client: httpx.AsyncClient
) -> None:
    key = idp.keys[0]
    assert isinstance(key, RSAKey)
    for secret in (key.as_pem(private=False), str(key.as_dict(private=False)).encode()):
        token = hs256({"alg": "HS256", "kid": key.kid}, idp.claims(), secret)
        assert await reason_of(idp.validator(client), token) == "unsupported_alg"


def test_symmetric_algorithms_cannot_be_configured() -> None:
    with pytest.raises(ValueError, match="HS256"):
        TokenValidator([], algorithms=("RS256", "HS256"))


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"iss": "https://evil.test"}, "bad_issuer"),
        ({"aud": "someone-else"}, "bad_audience"),
        ({"aud": None}, "missing_claim"),
        ({"exp": None}, "missing_claim"),
        ({"exp": int(time.time()) - 120}, "expired"),
        ({"nbf": int(time.time()) + 600}, "not_yet_valid"),
        ({"iat": int(time.time()) + 600}, "not_yet_valid"),
        ({"region": "63012"}, "bad_region"),
        ({"region": [630000]}, "bad_region"),
        ({"scope": "citizen:self", "sub": "not-an-id"}, "bad_subject"),
        ({"scope": ["mediation:read"]}, "malformed"),
    ],
)
async def test_bad_claims_refused(
    idp: FakeIdP, client: httpx.AsyncClient, overrides: dict[str, Any], reason: str
) -> None:
    assert await reason_of(idp.validator(client), idp.mint(**overrides)) == reason


async def test_leeway_accepts_small_clock_skew(idp: FakeIdP, client: httpx.AsyncClient) -> None:
    now = int(time.time())
    validator = idp.validator(client, leeway=30)
    await validator.authenticate(idp.mint(exp=now - 10, nbf=now + 10))
    strict = idp.validator(client, leeway=0)
    assert await reason_of(strict, idp.mint(exp=now - 10)) == "expired"


async def test_tampered_payload_refused(idp: FakeIdP, client: httpx.AsyncClient) -> None:
    header, _, signature = idp.mint().split(".")
    forged = b64(json.dumps(idp.claims(scope="pii:read audit:read")).encode())
    token = f"{header}.{forged}.{signature}"
    assert await reason_of(idp.validator(client), token) == "bad_signature"


async def test_signed_by_a_stranger_with_a_known_kid(
    idp: FakeIdP, client: httpx.AsyncClient
) -> None:
    stranger = RSAKey.generate_key(2048, parameters={"kid": idp.keys[0].kid or ""})
    token = idp.mint(stranger)
    assert await reason_of(idp.validator(client), token) == "bad_signature"


async def test_key_type_confusion_refused(idp: FakeIdP, client: httpx.AsyncClient) -> None:
    ec = idp.add("EC", "ec-1")
    # An ES256 token naming the RSA key's kid.
    token = idp.mint(ec, "ES256", header={"kid": idp.keys[0].kid})
    assert await reason_of(idp.validator(client), token) == "bad_signature"


@pytest.mark.parametrize(
    "token",
    ["", "abc", "a.b", "a.b.c", "!!!.e30.", "e30.e30.", "eyJhbGciOiJSUzI1NiJ9.bm90anNvbg.AA",
     "x" * 20000],
)
async def test_garbage_is_malformed(idp: FakeIdP, client: httpx.AsyncClient, token: str) -> None:
    assert await reason_of(idp.validator(client), token) == "malformed"


async def test_unexpected_typ_refused(idp: FakeIdP, client: httpx.AsyncClient) -> None:
    token = idp.mint(header={"typ": "dpop+jwt"})
    assert await reason_of(idp.validator(client), token) == "unsupported_type"


async def test_unknown_kid_then_rotation(
    idp: FakeIdP, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    validator = idp.validator(client, clock)
    await validator.authenticate(idp.mint())
    assert idp.fetches == 1
    rotated = idp.add("EC", "ec-rotated")
    clock.now += 31  # past the refresh rate limit
    principal = await validator.authenticate(idp.mint(rotated, "ES256"))
    assert principal.sub == "caseworker-1"
    assert idp.fetches == 2


async def test_unknown_kid_refresh_is_rate_limited(
    idp: FakeIdP, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    validator = idp.validator(client, clock)
    await validator.authenticate(idp.mint())
    stranger = idp.add("EC", "never-published")
    idp.keys.remove(stranger)
    tokens = [idp.mint(stranger, "ES256", header={"kid": f"forged-{i}"}) for i in range(20)]
    clock.now += 31
    reasons = await asyncio.gather(*(reason_of(validator, t) for t in tokens))
    assert set(reasons) == {"unknown_kid"}
    assert idp.fetches == 2  # one refresh for twenty unknown kids
    clock.now += 10
    assert await reason_of(validator, tokens[0]) == "unknown_kid"
    assert idp.fetches == 2


async def test_failed_refresh_keeps_old_keys(
    idp: FakeIdP, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    validator = idp.validator(client, clock, jwks_max_age=600)
    await validator.authenticate(idp.mint())
    idp.fail = True
    clock.now += 700  # stale: the next request tries to refresh, fails, keeps going
    await validator.authenticate(idp.mint())
    assert idp.fetches == 2
    await validator.authenticate(idp.mint())
    assert idp.fetches == 2  # the failure is rate-limited too
    idp.fail = False
    clock.now += 31
    await validator.authenticate(idp.mint())
    assert idp.fetches == 3


async def test_no_keys_at_all_is_keys_unavailable(
    idp: FakeIdP, client: httpx.AsyncClient
) -> None:
    idp.fail = True
    assert await reason_of(idp.validator(client), idp.mint()) == "keys_unavailable"


async def test_periodic_refresh_by_age(
    idp: FakeIdP, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    validator = idp.validator(client, clock, jwks_max_age=600)
    await validator.authenticate(idp.mint())
    clock.now += 599
    await validator.authenticate(idp.mint())
    assert idp.fetches == 1
    clock.now += 2
    await validator.authenticate(idp.mint())
    assert idp.fetches == 2


async def test_background_refresh_start_stop(idp: FakeIdP, client: httpx.AsyncClient) -> None:
    validator = idp.validator(client, jwks_max_age=0.05)
    await validator.start()
    await asyncio.sleep(0.2)
    await validator.stop()
    fetched = idp.fetches
    assert fetched >= 2
    await asyncio.sleep(0.1)
    assert idp.fetches == fetched


async def test_private_and_symmetric_jwks_entries_ignored(idp: FakeIdP) -> None:
    secret = {"kty": "oct", "kid": "shared", "k": b64(b"s" * 32)}
    leaked = idp.keys[0].as_dict(private=True) | {"kid": "leaked"}

    def handler(request: httpx.Request) -> httpx.Response:
        public = [k.as_dict(private=False) for k in idp.keys]
        return httpx.Response(200, json={"keys": [secret, leaked, *public]})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        validator = idp.validator(client)
        await validator.authenticate(idp.mint())
        token = hs256({"alg": "HS256", "kid": "shared"}, idp.claims(), b"s" * 32)
        assert await reason_of(validator, token) == "unsupported_alg"
        assert await reason_of(validator, idp.mint(header={"kid": "leaked"})) == "unknown_kid"


async def test_owned_client_closed(idp: FakeIdP) -> None:
    validator = TokenValidator([])
    assert await reason_of(validator, idp.mint()) == "bad_issuer"
    await validator.aclose()


def test_constants() -> None:
    assert ISSUER.startswith("https://")
    assert AUDIENCE == "onedoor"


class _CountingVerify:
    """Counts the signature checks a validator makes (its ``_verify``)."""

    def __init__(self, validator: TokenValidator, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        real = validator._verify

        def counted(*args: Any) -> dict[str, Any]:
            self.calls += 1
            return real(*args)
        monkeypatch.setattr(validator, "_verify", counted)


async def test_a_verified_token_is_remembered_until_its_exp(
    idp: FakeIdP, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    wall = [time.time()]
    validator = idp.validator(client, wall_clock=lambda: wall[0])
    verify = _CountingVerify(validator, monkeypatch)
    token = idp.mint()
    first = await validator.authenticate(token)
    assert await validator.authenticate(f" {token} ") is first  # the same principal, not re-derived
    assert verify.calls == 1
    assert await reason_of(validator, idp.mint(aud="someone-else")) == "bad_audience"
    assert verify.calls == 2  # another token: every check
    assert first.expires_at is not None
    wall[0] = first.expires_at + 60  # past exp and the leeway: checked again, and refused
    assert await reason_of(validator, token) == "expired"
    assert verify.calls == 3
    assert await reason_of(validator, token) == "expired"  # a failure is never remembered
    assert verify.calls == 4


async def test_a_remembered_token_is_checked_again_once_its_key_is_gone(
    idp: FakeIdP, client: httpx.AsyncClient, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    validator = idp.validator(client, clock, jwks_max_age=600)
    verify = _CountingVerify(validator, monkeypatch)
    rotated = idp.add("EC", "ec-retired")
    token = idp.mint(rotated, "ES256")
    await validator.authenticate(token)
    await validator.authenticate(token)
    assert verify.calls == 1
    idp.keys.remove(rotated)  # the issuer retires the key; our set goes stale and is refetched
    clock.now += 601
    assert await reason_of(validator, token) == "unknown_kid"
    assert idp.fetches == 2


async def test_the_remembered_tokens_are_bounded(idp: FakeIdP, client: httpx.AsyncClient) -> None:
    validator = idp.validator(client, max_verified=2)
    tokens = [idp.mint(jti=f"t-{i}") for i in range(3)]
    for token in tokens:
        await validator.authenticate(token)
    assert list(validator._verified) == tokens[1:]  # the oldest went first
    assert not idp.validator(client, max_verified=0)._verified
