"""Append-only, hash-chained audit trail (PIPL Art.56, MLPS 2.0 level 3).

    record     AuditEntry (what happened) → AuditRecord (stored, chained), Decision
    chain      Anchor and ChainVerifier: the verification both stores share (records, index)
    store      AuditStore / ChainStore protocols, open_audit_store(url), verify_store(url)
    signing    the Ed25519 checkpoint key, kept outside the database
    witness    Checkpoint lines, the append-only FileWitness, open_witness(location)
    witness_postgres  PostgresWitness: checkpoints in another database
    checkpoint Checkpointer (signs the head, signs purges) and verify_audit
    sqlite     SqliteAuditStore: one WAL file
    postgres   PostgresAuditStore: asyncpg, chain serialised on a locked head row
"""

from __future__ import annotations

from .chain import Anchor, ChainState, ChainVerifier
from .checkpoint import Checkpointer, verify_audit
from .record import GENESIS_HASH, AuditEntry, AuditRecord, Decision, Finding, VerifyResult
from .signing import load_public_key, load_signing_key
from .store import (
    DEFAULT_RETENTION,
    AuditStore,
    ChainStore,
    decode_cursor,
    encode_cursor,
    open_audit_store,
    redact_url,
    verify_store,
)
from .witness import Checkpoint, FileWitness, Witness, open_witness

__all__ = [
    "DEFAULT_RETENTION",
    "GENESIS_HASH",
    "Anchor",
    "AuditEntry",
    "AuditRecord",
    "AuditStore",
    "ChainState",
    "ChainStore",
    "ChainVerifier",
    "Checkpoint",
    "Checkpointer",
    "Decision",
    "FileWitness",
    "Finding",
    "VerifyResult",
    "Witness",
    "decode_cursor",
    "encode_cursor",
    "load_public_key",
    "load_signing_key",
    "open_audit_store",
    "open_witness",
    "redact_url",
    "verify_audit",
    "verify_store",
]
