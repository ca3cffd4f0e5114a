"""Signed audit checkpoints from settings: which key, which witness, how often.

    checkpointer = open_checkpointer(store, settings)   # None: checkpoints are off
    checkpointer.start()                                # in the lifespan, beside retention
    await checkpointer.stop()                           # signs the head at shutdown

Demo mode makes a key in the state directory on first start; production signs
only with a configured ``[audit] signing_key`` (a missing file fails the start).
"""

from __future__ import annotations

import datetime as dt
import logging

from services.audit import AuditStore, ChainStore, Checkpointer, load_signing_key, open_witness

from .settings import GatewaySettings

__all__ = ["open_checkpointer"]

log = logging.getLogger("onedoor.audit")


def open_checkpointer(store: AuditStore | None, settings: GatewaySettings) -> Checkpointer | None:
    audit = settings.audit
    if store is None or not isinstance(store, ChainStore):
        return None
    if audit.signing_key is None and settings.mode != "demo":
        log.error("audit checkpoints are off: set [audit] signing_key (an Ed25519 key kept "
                  "outside the audit database) so `onedoor audit verify` can detect a "
                  "truncated, recomputed or replaced trail")
        return None
    key = load_signing_key(audit.signing_key_path(settings.state_dir),
                           create=audit.signing_key is None)
    return Checkpointer(store, key, open_witness(audit.witness_location(settings.state_dir)),
                        interval=audit.checkpoint_seconds,
                        retention=dt.timedelta(days=audit.retention_days))
