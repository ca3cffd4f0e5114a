"""Services: what the gateway does beyond reading — audit, filing, triage, storage.

    audit/     the hash-chained, signed audit trail (PIPL Art.56)
    filing/    submissions to centres, transfers, live updates
    triage/    routing rules for new matters
    storage    SQLite opened durably for several workers

Depends on ``policy``, ``connectors`` and ``onedoor``; never on ``schema``
or ``gateway``.
"""
