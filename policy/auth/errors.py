"""Why a token was refused, as a stable machine-readable reason.

The reason goes to logs and metrics, never to the client: RFC 6750 clients
only ever see ``invalid_token`` (telling a forger *which* check failed helps
the forger).

    InvalidToken(reason)
      malformed          not a compact JWS, bad JSON, bad header, bad claim types
      unsupported_alg    alg outside the allow-list (none, HS*, ...)
      unsupported_type   typ is neither JWT nor at+jwt
      unsupported_scheme Authorization is not Bearer
      bad_issuer         iss is not a configured issuer
      unknown_kid        no key with that kid, even after a JWKS refresh
      keys_unavailable   the issuer's JWKS could not be fetched and none is cached
      bad_signature      signature does not verify with the issuer's key
      expired            exp is past (beyond the leeway)
      not_yet_valid      nbf / iat in the future (beyond the leeway)
      bad_audience       aud does not name this gateway
      missing_claim      iss, aud or exp absent
      bad_region         a region claim is not a GB/T 2260 code
      bad_subject        citizen:self without a valid resident ID as sub
"""

from __future__ import annotations

from typing import Final

__all__ = ["REASONS", "InvalidToken"]

REASONS: Final = frozenset({
    "malformed", "unsupported_alg", "unsupported_type", "unsupported_scheme", "bad_issuer",
    "unknown_kid", "keys_unavailable", "bad_signature", "expired", "not_yet_valid",
    "bad_audience", "missing_claim", "bad_region", "bad_subject",
})


class InvalidToken(Exception):
    """A refused bearer token; ``reason`` is one of :data:`REASONS`."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)
