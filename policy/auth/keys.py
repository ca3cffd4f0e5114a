"""One issuer's signing keys, fetched from its JWKS URL and cached.

Three things make a refetch: no keys yet, keys older than ``max_age``, and a
token whose ``kid`` is unknown (the issuer rotated). All three share one rate
limit (``min_interval`` since the last *attempt*, success or not) and one
lock, so a burst of forged ``kid`` values or a dead identity provider costs
at most one request per interval, and concurrent callers share one fetch.
A failed fetch keeps the last good key set: an identity-provider outage must
not log everybody out.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Collection
from typing import Any

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry, Key

from .errors import InvalidToken

__all__ = ["IssuerKeys"]

logger = logging.getLogger("onedoor.auth")

_MAX_JWKS_BYTES = 256 * 1024
# Which key type may verify which algorithm: an RSA key never checks an ES256 token.
_KEY_TYPES = {"RS256": "RSA", "ES256": "EC", "EdDSA": "OKP", "Ed25519": "OKP"}


class IssuerKeys:
    def __init__(
        self,
        jwks_url: str,
        client: httpx.AsyncClient,
        *,
        algorithms: Collection[str],
        max_age: float = 600.0,
        min_interval: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.jwks_url = jwks_url
        self._client = client
        self._algorithms = frozenset(algorithms)
        self._max_age = max_age
        self._min_interval = min_interval
        self._clock = clock
        self._keys: dict[str, Key] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0  # attempts, for metrics and tests

    @property
    def stale(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at >= self._max_age

    async def key_for(self, kid: str | None, alg: str) -> Key:
        """The key that must have signed a token with this header."""
        if self.stale:
            await self.refresh()
        key = self._lookup(kid, alg)
        if key is None and kid is not None:
            await self.refresh()  # perhaps rotated; rate-limited
            key = self._lookup(kid, alg)
        if key is None:
            if not self._keys:
                raise InvalidToken("keys_unavailable", self.jwks_url)
            raise InvalidToken("unknown_kid")
        return key

    def current(self, kid: str | None, alg: str) -> Key | None:
        """The key for this header in the fresh key set now held, without fetching
        (None when the set is stale or holds no such key)."""
        return None if self.stale else self._lookup(kid, alg)

    def _lookup(self, kid: str | None, alg: str) -> Key | None:
        if kid is None:
            # Without a kid only an unambiguous set will do.
            candidates = [k for k in self._keys.values() if k.key_type == _KEY_TYPES.get(alg)]
            return candidates[0] if len(candidates) == 1 else None
        return self._keys.get(kid)

    async def refresh(self, *, force: bool = False) -> bool:
        """Fetch the JWKS unless one was attempted within ``min_interval``.

        Returns whether a new key set is in place. ``force`` skips the rate
        limit (the background refresher, which runs on its own schedule).
        """
        attempted = self._attempted_at
        async with self._lock:
            if self._attempted_at != attempted:
                return self._fetched_at == self._attempted_at  # someone else just fetched
            now = self._clock()
            if (not force and self._attempted_at is not None
                    and now - self._attempted_at < self._min_interval):
                return False
            self._attempted_at = now
            self.fetches += 1
            try:
                keys = await self._fetch()
            except (httpx.HTTPError, ValueError) as exc:
                logger.warning("jwks refresh failed for %s: %s", self.jwks_url, exc)
                return False
            self._keys, self._fetched_at = keys, now
            return True

    async def _fetch(self) -> dict[str, Key]:
        response = await self._client.get(self.jwks_url, headers={"accept": "application/json"})
        response.raise_for_status()
        if len(response.content) > _MAX_JWKS_BYTES:
            raise ValueError("JWKS too large")
        document = json.loads(response.content)
        entries = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(entries, list):
            raise ValueError("JWKS has no keys array")
        keys = {}
        for entry in entries:
            key = self._import(entry)
            if key is not None and key.kid is not None:
                keys[key.kid] = key
        if not keys:
            raise ValueError("JWKS has no usable signing key")
        return keys

    def _import(self, entry: Any) -> Key | None:
        """A public signing key of an allowed kind, or ``None`` (skipped, per RFC 7517 §5)."""
        if not isinstance(entry, dict) or entry.get("kty") not in ("RSA", "EC", "OKP"):
            return None  # symmetric ("oct") keys never verify a third party's token
        if entry.get("use", "sig") != "sig":
            return None
        if "alg" in entry and entry["alg"] not in self._algorithms:
            return None
        if any(p in entry for p in ("d", "p", "q")):
            return None  # a private key published by mistake is not something to trust
        try:
            key = JWKRegistry.import_key(entry)
        except (JoseError, ValueError, TypeError) as exc:
            logger.warning("skipping unreadable JWK in %s: %s", self.jwks_url, exc)
            return None
        key.ensure_kid()
        return key
