"""Bearer JWT → :class:`Principal`, for one or more trusted issuers.

    validator = TokenValidator([IssuerConfig("https://idp.example", "https://idp.example/jwks",
                                             ("onedoor",))])
    principal = await validator.authenticate(raw_token)   # or raises InvalidToken(reason)

Order of checks: shape and ``alg`` first (cheap, and never touch a key for
``none`` or ``HS256``), then the *unverified* ``iss`` only to pick whose keys
to use, then the signature, then ``iss``/``aud``/``exp``/``nbf`` again on the
verified claims, then the gateway's own claims.

A token that passed is remembered (bounded, most recent first out) with its
principal until its ``exp``: the same token again skips the signature and
claim checks, as long as the key that verified it is still the one the
issuer's fresh key set holds for its header (a rotation or a stale set sends
it through every check again). Failures are never remembered.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import warnings
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc import jws, jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidKeyTypeError,
    JoseError,
    MissingClaimError,
    SecurityWarning,
    UnsupportedAlgorithmError,
)
from joserfc.jwk import Key

from ..principal import Principal
from .claims import principal_from_claims
from .errors import InvalidToken
from .keys import IssuerKeys

__all__ = ["DEFAULT_ALGORITHMS", "IssuerConfig", "TokenValidator"]

logger = logging.getLogger("onedoor.auth")

# Asymmetric only: HS* would let anyone holding the (public) JWKS forge tokens.
DEFAULT_ALGORITHMS: tuple[str, ...] = ("RS256", "ES256", "EdDSA", "Ed25519")
_ASYMMETRIC = frozenset(DEFAULT_ALGORITHMS)
_TYPES = frozenset({"jwt", "at+jwt", "application/at+jwt"})
_MAX_TOKEN_CHARS = 16 * 1024


@dataclass(frozen=True, slots=True)
class IssuerConfig:
    issuer: str
    jwks_url: str
    audiences: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Verified:
    """A token that passed every check: its principal, until ``expires_at``, while
    ``keys`` still holds ``key`` for its header."""

    principal: Principal
    expires_at: float
    keys: IssuerKeys
    kid: str | None
    alg: str
    key: Key


class TokenValidator:
    """Validates bearer tokens; callable, so it is itself an ``Authenticator``.

    ``client`` is injectable (tests pass one over ``httpx.MockTransport``);
    one created here is closed by :meth:`aclose`. ``start`` runs an optional
    background refresher; without it keys refresh lazily on use.
    """

    def __init__(
        self,
        issuers: Sequence[IssuerConfig],
        *,
        leeway: float = 30.0,
        algorithms: Collection[str] = DEFAULT_ALGORITHMS,
        client: httpx.AsyncClient | None = None,
        jwks_max_age: float = 600.0,
        refresh_min_interval: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        max_verified: int = 4096,
    ) -> None:
        unsafe = set(algorithms) - _ASYMMETRIC
        if unsafe:
            raise ValueError(f"refusing non-asymmetric JWS algorithms: {sorted(unsafe)}")
        self._algorithms = frozenset(algorithms)
        self._leeway = int(leeway)
        self._wall_clock = wall_clock
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(timeout=5.0, follow_redirects=False)
        self._issuers = {i.issuer: i for i in issuers}
        self._keys = {
            i.issuer: IssuerKeys(i.jwks_url, self._client, algorithms=self._algorithms,
                                 max_age=jwks_max_age, min_interval=refresh_min_interval,
                                 clock=clock)
            for i in issuers
        }
        self._max_age = jwks_max_age
        self._task: asyncio.Task[None] | None = None
        self._verified: dict[str, _Verified] = {}
        self._max_verified = max_verified

    def keys(self, issuer: str) -> IssuerKeys:
        return self._keys[issuer]

    async def __call__(self, raw_token: str) -> Principal:
        return await self.authenticate(raw_token)

    async def authenticate(self, raw_token: str) -> Principal:
        """The principal for a valid token, or :class:`InvalidToken` with a reason."""
        token = raw_token.strip()
        if not token or len(token) > _MAX_TOKEN_CHARS:
            raise InvalidToken("malformed", "empty or oversized token")
        seen = self._verified.get(token)
        if seen is not None:
            if (self._wall_clock() < seen.expires_at
                    and seen.keys.current(seen.kid, seen.alg) is seen.key):
                return seen.principal
            del self._verified[token]
        header, unverified = _peek(token)
        alg = header.get("alg")
        if alg not in self._algorithms:
            raise InvalidToken("unsupported_alg", str(alg)[:20])
        typ = header.get("typ")
        if typ is not None and (not isinstance(typ, str) or typ.lower() not in _TYPES):
            raise InvalidToken("unsupported_type")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise InvalidToken("malformed", "kid is not a string")
        issuer = self._issuers.get(unverified.get("iss"))  # type: ignore[arg-type]
        if issuer is None:
            raise InvalidToken("bad_issuer")
        keys = self._keys[issuer.issuer]
        key = await keys.key_for(kid, alg)
        claims = self._verify(token, key, alg)
        self._validate_claims(claims, issuer)
        principal = principal_from_claims(claims)
        if principal.expires_at is not None:
            self._remember(token, _Verified(principal, principal.expires_at, keys, kid, alg, key))
        return principal

    def _remember(self, token: str, verified: _Verified) -> None:
        if self._max_verified <= 0:
            return
        while len(self._verified) >= self._max_verified:
            del self._verified[next(iter(self._verified))]  # the oldest
        self._verified[token] = verified

    def _verify(self, token: str, key: Key, alg: str) -> dict[str, Any]:
        declared = key.get("alg")
        if declared is not None and declared != alg:
            raise InvalidToken("bad_signature", "key is for another algorithm")
        try:
            with warnings.catch_warnings():
                # joserfc flags EdDSA as superseded by Ed25519 (RFC 9864); both are fine here.
                warnings.simplefilter("ignore", SecurityWarning)
                return jwt.decode(token, key, algorithms=[alg]).claims
        except (BadSignatureError, InvalidKeyTypeError):
            raise InvalidToken("bad_signature") from None
        except UnsupportedAlgorithmError:
            raise InvalidToken("unsupported_alg") from None
        except (JoseError, ValueError) as exc:
            raise InvalidToken("malformed", type(exc).__name__) from None

    def _validate_claims(self, claims: dict[str, Any], issuer: IssuerConfig) -> None:
        registry = jwt.JWTClaimsRegistry(
            now=int(self._wall_clock()),
            leeway=self._leeway,
            iss={"essential": True, "value": issuer.issuer},
            aud={"essential": True, "values": list(issuer.audiences)},
            exp={"essential": True},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError:
            raise InvalidToken("expired") from None
        except MissingClaimError as exc:
            raise InvalidToken("missing_claim", exc.claim) from None
        except ClaimError as exc:
            reason = {"iss": "bad_issuer", "aud": "bad_audience", "nbf": "not_yet_valid",
                      "iat": "not_yet_valid"}.get(exc.claim, "malformed")
            raise InvalidToken(reason, exc.claim) from None

    async def refresh_all(self) -> None:
        """Refetch every issuer's keys now (failures keep the old keys)."""
        await asyncio.gather(*(k.refresh(force=True) for k in self._keys.values()))

    async def start(self) -> None:
        """Fetch keys now and keep them fresh in the background until :meth:`stop`."""
        await self.refresh_all()
        if self._task is None:
            self._task = asyncio.create_task(self._refresh_loop(), name="jwks-refresh")

    async def _refresh_loop(self) -> None:
        interval = max(self._max_age * 0.8, 0.01)  # renew before requests see stale keys
        while True:
            await asyncio.sleep(interval)
            try:
                await self.refresh_all()
            except Exception:  # keep refreshing whatever one round did
                logger.exception("jwks background refresh failed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def aclose(self) -> None:
        await self.stop()
        if self._owns_client:
            await self._client.aclose()


def _peek(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims *before* verification, only to choose alg and issuer."""
    try:
        obj = jws.extract_compact(token.encode("ascii"))
        payload = json.loads(obj.payload or b"")
    except (JoseError, ValueError, UnicodeError):
        raise InvalidToken("malformed") from None
    if not isinstance(payload, dict):
        raise InvalidToken("malformed", "payload is not an object")
    return dict(obj.headers()), payload
