"""Authentication settings: the trusted issuers and how strict to be."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["AuthSettings", "IssuerSettings"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IssuerSettings(_Strict):
    issuer: str = Field(min_length=1)
    jwks_url: str = Field(min_length=1)
    audiences: tuple[str, ...] = ("onedoor",)


class AuthSettings(_Strict):
    issuers: tuple[IssuerSettings, ...] = ()
    # Without a token a caller sees only fields that need no scope; set this to
    # refuse token-less requests outright.
    reject_anonymous: bool = False
    leeway_seconds: int = Field(default=30, ge=0, le=300)
