"""Append-only, hash-chained audit trail (PIPL Art.56, MLPS 2.0 level 3).

    record     AuditEntry (what happened) → AuditRecord (stored, chained), Decision
    chain      Anchor and ChainVerifier: the verification both stores share
    store      AuditStore protocol, open_audit_store(url), verify_store(url)
    sqlite     SqliteAuditStore: one WAL file
    postgres   PostgresAuditStore: asyncpg, chain serialised on a locked head row
"""

from __future__ import annotations

from .chain import Anchor, ChainVerifier
from .record import GENESIS_HASH, AuditEntry, AuditRecord, Decision, VerifyResult
from .store import (
    DEFAULT_RETENTION,
    AuditStore,
    decode_cursor,
    encode_cursor,
    open_audit_store,
    redact_url,
    verify_store,
)

__all__ = [
    "DEFAULT_RETENTION",
    "GENESIS_HASH",
    "Anchor",
    "AuditEntry",
    "AuditRecord",
    "AuditStore",
    "ChainVerifier",
    "Decision",
    "VerifyResult",
    "decode_cursor",
    "encode_cursor",
    "open_audit_store",
    "redact_url",
    "verify_store",
]
