"""Authentication: bearer JWTs from trusted issuers → :class:`~policy.principal.Principal`.

    errors      InvalidToken and its stable reason codes
    header      the Authorization header (Bearer only)
    keys        one issuer's JWKS, cached, rate-limited refresh
    claims      verified claims → Principal
    validator   TokenValidator: alg allow-list, signature, iss/aud/exp/nbf

The HTTP stage calls :func:`build_authenticator` once at start-up.
"""

from __future__ import annotations

from .claims import principal_from_claims
from .errors import REASONS, InvalidToken
from .header import bearer_token
from .keys import IssuerKeys
from .settings import AuthSettings
from .validator import DEFAULT_ALGORITHMS, IssuerConfig, TokenValidator

__all__ = [
    "DEFAULT_ALGORITHMS",
    "REASONS",
    "InvalidToken",
    "IssuerConfig",
    "IssuerKeys",
    "TokenValidator",
    "bearer_token",
    "build_authenticator",
    "principal_from_claims",
]


def build_authenticator(settings: AuthSettings) -> TokenValidator:
    """A validator for the configured issuers (no issuers: every token is refused).

    The result is callable as ``await authenticate(token)``; close it with
    ``await authenticate.aclose()`` at shutdown (``start()`` for background refresh).
    """
    return TokenValidator(
        [IssuerConfig(i.issuer, i.jwks_url, tuple(i.audiences)) for i in settings.issuers],
        leeway=settings.leeway_seconds,
    )
