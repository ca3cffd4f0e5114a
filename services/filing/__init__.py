"""Filing matters exactly once (issue 5): the durable submissions table, the
filing service on top of it and the live-update hub for subscriptions.

    store      Submission, SubmissionStore, open_submission_store(url)
    sqlite     SqliteSubmissionStore (default)
    postgres   PostgresSubmissionStore (production, several processes)
    service    Filing, FilingService: claim → lease → create → (transfer: link) → audit → done
    reconciler Reconciler: FilingService.reconcile at start and every few seconds
    locks      KeyLocks: per-key locks that are dropped when idle
    updates    MatterUpdates: webhooks in, polling where a centre has none
"""

from __future__ import annotations

from .reconciler import Reconciler
from .service import Filed, Filing, FilingError, FilingService, refused
from .store import Submission, SubmissionStore, open_submission_store
from .updates import POLLED_CENTRES, MatterUpdates, fresh_read, webhook_matter_id

__all__ = [
    "POLLED_CENTRES", "Filed", "Filing", "FilingError", "FilingService", "MatterUpdates",
    "Reconciler", "Submission", "SubmissionStore", "fresh_read", "open_submission_store",
    "refused", "webhook_matter_id",
]
