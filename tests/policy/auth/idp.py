"""A fake identity provider: keys, a JWKS endpoint over httpx.MockTransport, token minting."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, Key, OKPKey, RSAKey

from policy.auth import IssuerConfig, TokenValidator

ISSUER = "https://idp.test"
JWKS_URL = f"{ISSUER}/.well-known/jwks.json"
AUDIENCE = "onedoor"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    return ".".join([b64(json.dumps(header).encode()), b64(json.dumps(claims).encode()),
                     b64(signature)])


def hs256(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    """What a forger does with a public key: HMAC it as if it were a shared secret."""
    signing_input = unsigned(header, claims).rsplit(".", 1)[0]
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class FakeIdP:
    keys: list[Key] = field(default_factory=list)
    fetches: int = 0
    fail: bool = False

    def __post_init__(self) -> None:
        if not self.keys:
            self.keys.append(RSAKey.generate_key(2048, parameters={"kid": "rsa-1", "use": "sig",
                                                                   "alg": "RS256"}))

    def handler(self, request: httpx.Request) -> httpx.Response:
        assert str(request.url) == JWKS_URL
        self.fetches += 1
        if self.fail:
            return httpx.Response(503)
        return httpx.Response(200, json={"keys": [k.as_dict(private=False) for k in self.keys]})

    def add(self, kind: str, kid: str) -> Key:
        key: Key
        if kind == "RSA":
            key = RSAKey.generate_key(2048, parameters={"kid": kid})
        elif kind == "EC":
            key = ECKey.generate_key("P-256", parameters={"kid": kid})
        else:
            key = OKPKey.generate_key("Ed25519", parameters={"kid": kid})
        self.keys.append(key)
        return key

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        base: dict[str, Any] = {
            "iss": ISSUER, "aud": AUDIENCE, "sub": "caseworker-1", "client_id": "portal",
            "scope": "mediation:read pii:read", "region": ["632300"], "iat": now,
            "exp": now + 300, "jti": "t-1",
        }
        base.update(overrides)
        return {k: v for k, v in base.items() if v is not None}

    def mint(self, key: Key | None = None, alg: str = "RS256", header: dict[str, Any] | None = None,
             **overrides: Any) -> str:
        key = key or self.keys[0]
        hdr = {"alg": alg, "kid": key.kid, "typ": "JWT", **(header or {})}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SecurityWarning)
            return jwt.encode(hdr, self.claims(**overrides), key, algorithms=[alg])

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handler))

    def validator(self, client: httpx.AsyncClient, clock: FakeClock | None = None,
                  **kwargs: Any) -> TokenValidator:
        return TokenValidator([IssuerConfig(ISSUER, JWKS_URL, (AUDIENCE,))], client=client,
                              clock=clock or FakeClock(), **kwargs)
