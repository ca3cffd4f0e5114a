"""Filing matters exactly once (issue 5): the durable submissions table, the
filing service on top of it and the live-update hub for subscriptions.

    store      Submission, SubmissionStore, open_submission_store(url)
    sqlite     SqliteSubmissionStore (default)
    postgres   PostgresSubmissionStore (production, several processes)
    service    Filing, FilingService: claim → lease → create → audit → done; reconcile
    updates    MatterUpdates: webhooks in, polling where a centre has none
"""

from __future__ import annotations

from .service import Filed, Filing, FilingError, FilingService
from .store import Submission, SubmissionStore, open_submission_store
from .updates import POLLED_CENTRES, MatterUpdates, fresh_read, webhook_matter_id

__all__ = [
    "POLLED_CENTRES", "Filed", "Filing", "FilingError", "FilingService", "MatterUpdates",
    "Submission", "SubmissionStore", "fresh_read", "open_submission_store", "webhook_matter_id",
]
