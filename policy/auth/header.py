"""The ``Authorization`` header (RFC 6750 §2.1): ``Bearer`` and nothing else."""

from __future__ import annotations

import re

from .errors import InvalidToken

__all__ = ["bearer_token"]

# RFC 6750 b68token: base64url / base64 characters, optional trailing '='.
_B64TOKEN = re.compile(r"^[A-Za-z0-9\-._~+/]+=*$")


def bearer_token(header: str | None) -> str | None:
    """The token of a ``Bearer`` header; ``None`` when there is no header at all.

    >>> bearer_token("Bearer abc.def.ghi"), bearer_token(None)
    ('abc.def.ghi', None)

    Any other scheme (Basic, a bare token, ``Bearer`` without a token) is
    refused rather than treated as anonymous: a client that sent credentials
    meant to be someone.
    """
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise InvalidToken("unsupported_scheme")
    token = token.strip()
    if not _B64TOKEN.match(token):
        raise InvalidToken("malformed")
    return token
