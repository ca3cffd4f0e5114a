"""The identity provider: discovery, JWKS, client credentials, offline minting."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from sandbox.idp import load_key, mint_token, verify_token
from sandbox.runner import Sandbox


@pytest.mark.asyncio(loop_scope="module")
async def test_discovery_jwks_and_token(sb: Sandbox) -> None:
    async with httpx.AsyncClient() as http:
        config = (await http.get(f"{sb.idp_url}/.well-known/openid-configuration")).json()
        assert config["issuer"] == sb.idp_url
        jwks = (await http.get(config["jwks_uri"])).json()
        assert jwks["keys"][0]["kid"] == load_key(sb.state_dir).thumbprint()
        assert "d" not in jwks["keys"][0]
        form = {"grant_type": "client_credentials", "client_id": "onedoor-legal",
                "client_secret": "legal-demo-secret"}
        issued = (await http.post(config["token_endpoint"], data=form)).json()
        bad = await http.post(config["token_endpoint"], data={**form, "client_secret": "no"})
        assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
        grant = await http.post(config["token_endpoint"], data={**form, "grant_type": "password"})
        assert grant.status_code == 400
        scope = await http.post(config["token_endpoint"], data={**form, "scope": "admin"})
        assert scope.json()["error"] == "invalid_scope"
    token = jwt.decode(issued["access_token"], KeySet.import_key_set(jwks), algorithms=["RS256"])
    assert token.header["kid"] == jwks["keys"][0]["kid"]
    assert token.claims["iss"] == sb.idp_url and token.claims["scope"] == "legal.read legal.write"


def test_key_is_reused_and_minting_verifies(tmp_path: Path) -> None:
    first = load_key(tmp_path).thumbprint()
    assert load_key(tmp_path).thumbprint() == first
    assert (tmp_path / "idp-private.pem").stat().st_mode & 0o077 == 0
    raw = mint_token(tmp_path, {"sub": "auditor", "scope": "a b"}, ttl=60, issuer="http://idp")
    keys = KeySet.import_key_set({"keys": [load_key(tmp_path).as_dict(private=False)]})
    claims = verify_token(raw, keys, "http://idp", "b")
    assert claims["sub"] == "auditor" and claims["exp"] - claims["iat"] == 60
    with pytest.raises(ValueError):
        verify_token(raw, keys, "http://idp", "legal.read")
    expired = mint_token(tmp_path, {"scope": "a"}, ttl=-120, issuer="http://idp")
    with pytest.raises(Exception, match="expired"):
        verify_token(expired, keys, "http://idp")
