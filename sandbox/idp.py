"""The sandbox identity provider: OpenID discovery, JWKS and a client-credentials
token endpoint, signing RS256 JWTs with a key kept in the state directory.

The key is generated on first start (``<state_dir>/idp-private.pem``) and
reused, so tokens minted by :func:`mint_token` (the gateway's ``onedoor
token`` command) verify against a running sandbox. ``kid`` is the RFC 7638
thumbprint. The issuer URL is written to ``<state_dir>/idp-issuer`` so that
offline minting can default to it.

>>> token = mint_token(state_dir, {"sub": "auditor-1", "scope": "audit.read"}, ttl=600)
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

if TYPE_CHECKING:
    from joserfc.jwk import KeySetSerialization

__all__ = [
    "DEMO_CLIENTS", "create_app", "load_key", "mint_token", "public_key_set", "verify_token",
]

KEY_FILE = "idp-private.pem"
ISSUER_FILE = "idp-issuer"
# client id -> (secret, allowed scopes)
DEMO_CLIENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "onedoor-legal": ("legal-demo-secret", ("legal.read", "legal.write")),
}


def load_key(state_dir: Path) -> RSAKey:
    """The signing key, generated (2048-bit RSA) and saved on first use."""
    path = Path(state_dir) / KEY_FILE
    if path.exists():
        return RSAKey.import_key(path.read_bytes())
    path.parent.mkdir(parents=True, exist_ok=True)
    key = RSAKey.generate_key(2048, private=True)
    # Two processes may start on one state directory at once (the sandbox and
    # `onedoor token`): publish with an atomic link so the first key wins and
    # the other process reads it, instead of each signing with its own.
    tmp = path.with_name(f".{KEY_FILE}.{os.getpid()}")
    tmp.write_bytes(key.as_pem(private=True))
    tmp.chmod(0o600)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return RSAKey.import_key(path.read_bytes())
    finally:
        tmp.unlink()
    return key


def public_key_set(state_dir: Path) -> KeySet:
    return KeySet.import_key_set(cast("KeySetSerialization", _jwks(load_key(state_dir))))


def _jwks(key: RSAKey) -> dict[str, Any]:
    public = key.as_dict(private=False)
    return {"keys": [{**public, "kid": key.thumbprint(), "alg": "RS256", "use": "sig"}]}


def mint_token(state_dir: Path, claims: Mapping[str, Any], ttl: int = 3600, *,
               issuer: str | None = None) -> str:
    """Sign ``claims`` with the sandbox key; ``iat``/``exp``/``jti`` are added, and
    ``iss`` defaults to the last issuer URL a running IdP recorded."""
    key = load_key(state_dir)
    now = int(time.time())
    payload: dict[str, Any] = {"iat": now, "exp": now + ttl, "jti": secrets.token_hex(8)}
    recorded = Path(state_dir) / ISSUER_FILE
    if issuer is None and recorded.exists():
        issuer = recorded.read_text().strip()
    if issuer is not None:
        payload["iss"] = issuer
    payload.update(claims)
    return jwt.encode({"alg": "RS256", "kid": key.thumbprint(), "typ": "JWT"}, payload, key)


def verify_token(raw: str, keys: KeySet, issuer: str, scope: str | None = None) -> dict[str, Any]:
    """Claims of a valid token (signature, ``iss``, ``exp``, and ``scope`` if given).

    Raises ``joserfc.errors.JoseError`` or ``ValueError``.
    """
    token = jwt.decode(raw, keys, algorithms=["RS256"])
    jwt.JWTClaimsRegistry(leeway=30, iss={"essential": True, "value": issuer},
                          exp={"essential": True}).validate(token.claims)
    if scope is not None and scope not in str(token.claims.get("scope", "")).split():
        raise ValueError(f"scope {scope} missing")
    return dict(token.claims)


def create_app(state_dir: Path, issuer: str, *, ttl: int = 3600) -> Starlette:
    key = load_key(state_dir)
    (Path(state_dir) / ISSUER_FILE).write_text(issuer)

    async def discovery(request: Request) -> Response:
        return JSONResponse({
            "issuer": issuer, "jwks_uri": f"{issuer}/.well-known/jwks.json",
            "token_endpoint": f"{issuer}/oauth/token",
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                      "client_secret_post"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["token"], "subject_types_supported": ["public"],
            "scopes_supported": sorted({s for _, ss in DEMO_CLIENTS.values() for s in ss}),
        })

    async def jwks(request: Request) -> Response:
        return JSONResponse(_jwks(key))

    async def token(request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        client_id, secret = _basic(request.headers.get("authorization"))
        client_id = client_id or form.get("client_id")
        secret = secret or form.get("client_secret")
        client = DEMO_CLIENTS.get(client_id or "")
        if client is None or not secrets.compare_digest(client[0], secret or ""):
            return JSONResponse({"error": "invalid_client"}, status_code=401,
                                headers={"WWW-Authenticate": 'Basic realm="sandbox-idp"'})
        if form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        wanted = form.get("scope", " ".join(client[1])).split()
        if not set(wanted) <= set(client[1]):
            return JSONResponse({"error": "invalid_scope"}, status_code=400)
        scope = " ".join(wanted)
        raw = mint_token(state_dir, {"sub": client_id, "client_id": client_id, "scope": scope},
                         ttl, issuer=issuer)
        return JSONResponse({"access_token": raw, "token_type": "Bearer", "expires_in": ttl,
                             "scope": scope}, headers={"Cache-Control": "no-store"})

    return Starlette(routes=[
        Route("/.well-known/openid-configuration", discovery),
        Route("/.well-known/jwks.json", jwks),
        Route("/oauth/token", token, methods=["POST"]),
    ])


def _basic(header: str | None) -> tuple[str | None, str | None]:
    if not header or not header.lower().startswith("basic "):
        return None, None
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    return user, password

