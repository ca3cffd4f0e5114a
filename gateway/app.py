"""Composition root: the one module that knows starlette, settings and
connectors together. Everything else is framework-free.

    HTTP stage       RequestIdMiddleware → BodyLimitMiddleware → AuthMiddleware
    operation stage  strawberry schema extensions (limits, errors, audit)
    field stage      schema resolvers (scopes, jurisdiction, masking)
    centre stage     connectors (timeouts, retries, batching)
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Mapping

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from strawberry.extensions import DisableIntrospection

from connectors.base import Connector
from connectors.health import centre_statuses
from onedoor.model import Centre
from schema import ExtensionFactory, build_schema
from services.audit import AuditStore, Checkpointer, open_audit_store
from services.filing import FilingService, Reconciler, SubmissionStore, open_submission_store
from services.filing.broadcast import open_broadcast

from .calendar_notices import load_notices
from .checkpoints import open_checkpointer
from .graphiql import graphiql_mount
from .graphql_app import OneDoorGraphQL
from .middleware import (
    AdminListener,
    Authenticator,
    AuthMiddleware,
    BodyLimitMiddleware,
    RequestIdMiddleware,
)
from .operation.audit import AuditTrail
from .operation.errors import ErrorHygiene
from .operation.gate import OperationGate
from .operation.limits import DocumentCache, OperationLimits
from .persisted import PersistedQueries
from .portal import portal_mount
from .projection import ProjectionHolder
from .settings import GatewaySettings
from .telemetry.core import Telemetry
from .webhooks import FilingHolder, Webhooks

__all__ = ["create_app"]

log = logging.getLogger("onedoor.audit")


class _AuditHolder:
    """The audit store once opened; operations read it at request time."""

    def __init__(self, store: AuditStore | None) -> None:
        self.store = store


async def _retention_loop(holder: _AuditHolder, days: int, signed: Checkpointer | None) -> None:
    """Purges records past the retention period (PIPL Art.56: ≥ 3 years) once a day;
    with checkpoints on, each purge is signed first so verify can tell it from tampering."""
    while True:
        store = holder.store
        if store is not None:
            cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
            try:
                purged = await (signed.purge_expired() if signed is not None
                                else store.purge_older_than(cutoff))
                if purged:
                    log.info("audit retention purged %d records", purged)
            except Exception as exc:
                log.error("audit retention failed: %s", type(exc).__name__)
        await asyncio.sleep(24 * 3600)


def create_app(
    settings: GatewaySettings,
    connectors: Mapping[Centre, Connector],
    authenticate: Authenticator,
    *,
    audit: AuditStore | None = None,
    close_connectors: bool = True,
    telemetry: Telemetry | None = None,
    submissions: SubmissionStore | None = None,
    projection: ProjectionHolder | None = None,
) -> Starlette:
    """The app; with ``audit=None`` the store named in settings is opened at start-up
    (until it is, requests touching citizen data fail closed). The analytic projection
    (``[projection]``) is opened and fed in the lifespan unless ``projection`` is given."""
    load_notices(settings.calendar.notices)  # holiday notices newer than the installed calendar
    telemetry = telemetry or Telemetry(settings.telemetry, logging=settings.logging)
    connectors = telemetry.connectors(connectors)
    holder = _AuditHolder(telemetry.audit(audit) if audit is not None else None)
    documents = DocumentCache()  # parsed and validated once per worker, by query text
    persisted = PersistedQueries.from_settings(settings.persisted_queries)
    extensions: list[ExtensionFactory] = [
        # Outermost: whatever goes wrong in any later stage leaves masked, with a code.
        ErrorHygiene,
        # Then the gate: every later stage sees the fresh context and what it decided.
        lambda: OperationGate(reject_anonymous=settings.auth.reject_anonymous, persisted=persisted,
                              max_string_chars=settings.limits.max_string_chars),
        telemetry.extension,
        lambda: OperationLimits(settings.limits, documents),
        lambda: AuditTrail(holder),
    ]
    if not settings.introspection:
        extensions.append(DisableIntrospection)
    schema = build_schema(extensions, suggestions=settings.field_suggestions,
                          max_batch=settings.limits.max_batch, federation=settings.subgraph)
    filing = FilingHolder(FilingService(submissions, connectors, holder) if submissions else None)
    webhooks = Webhooks.from_settings(settings.centres, filing)  # signed centre callbacks
    projected = projection or ProjectionHolder()
    graphql = OneDoorGraphQL(
        schema,
        connectors,
        audit=holder,
        filing=filing,
        projection=projected,
        graphql_ide="graphiql" if settings.introspection else None,
        allow_queries_via_get=True,
        authenticate=authenticate,
        reject_anonymous=settings.auth.reject_anonymous,
    )

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> JSONResponse:
        store = holder.store
        writable = store is not None and await store.writable()
        body: dict[str, object] = {
            "status": "ready" if writable else "not ready",
            "config": "loaded",
            "auditWritable": writable,
            # Informational: a centre that is down degrades answers, it does not
            # take the gateway out of rotation (partial results are the design).
            "centres": {s.centre.value: {"status": s.status,
                                         "breaker": s.breaker.value if s.breaker else None}
                        for s in centre_statuses(connectors)},
        }
        if (detail := projected.status()) is not None:  # each centre's watermark, lag and drift
            body["projection"] = detail
        return JSONResponse(body, status_code=200 if writable else 503)

    @contextlib.asynccontextmanager
    async def lifespan(started: Starlette) -> AsyncIterator[None]:
        opened = holder.store is None
        audit_store = audit
        if opened:
            audit_store = await open_audit_store(settings.audit.url)
            holder.store = telemetry.audit(audit_store)
        checkpointer = open_checkpointer(audit_store, settings)  # None: checkpoints off
        if filing.service is None:  # submissions table beside the state (same URL convention)
            url = settings.submissions.url or f"sqlite:///{settings.state_dir / 'submissions.sqlite'}"
            store = await open_submission_store(url)
            filing.service = FilingService(store, connectors, holder)
        # Filings left unfinished (a crash, a transfer whose source centre was down): at
        # start, then periodically — a row another request is completing is left alone.
        await filing.service.updates.start(open_broadcast(settings.submissions.broadcast_url))
        reconciler = started.state.reconciler = Reconciler(filing.service,
                                                           settings.submissions.reconcile_seconds)
        await reconciler.run_once()
        start = getattr(authenticate, "start", None)
        if start is not None:
            await start()
        retention = asyncio.create_task(_retention_loop(holder, settings.audit.retention_days,
                                                        checkpointer))
        if checkpointer is not None:
            checkpointer.start()
        reconciler.start()
        await projected.open(settings, webhooks.listeners,
                             telemetry.metrics.registry if telemetry.metrics is not None else None)
        try:
            yield
        finally:
            await projected.aclose()
            await reconciler.stop()
            retention.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await retention
            if checkpointer is not None:
                await checkpointer.stop()  # signs the head one last time
            close = getattr(authenticate, "aclose", None)
            if close is not None:
                await close()
            if close_connectors:
                for connector in connectors.values():
                    await connector.aclose()
            if opened and holder.store is not None:
                await holder.store.aclose()
            if filing.service is not None:
                await filing.service.updates.aclose()
            if submissions is None and filing.service is not None:
                await filing.service.store.aclose()

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/webhooks/{centre}", webhooks.receive, methods=["POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route(telemetry.settings.metrics_path, telemetry.endpoint),
            *([portal_mount(settings)] if settings.mode == "demo" else []),  # static demo page
            *([graphiql_mount()] if settings.introspection else []),  # the IDE's assets, no CDN
        ],
        middleware=[
            Middleware(AdminListener, admin_port=settings.admin_port,
                       admin_paths=frozenset({telemetry.settings.metrics_path, "/readyz"})),
            *telemetry.outer_middleware(),
            Middleware(RequestIdMiddleware),
            *telemetry.middleware(),
            Middleware(BodyLimitMiddleware, max_bytes=settings.limits.max_body_bytes),
            Middleware(
                AuthMiddleware,
                authenticate=authenticate,
                reject_anonymous=settings.auth.reject_anonymous,
            ),
        ],
        lifespan=lifespan,
    )
    app.state.filing = filing  # tests and operators reach reconcile through it
    app.state.webhooks = webhooks
    app.state.projection = projected
    app.state.documents = documents
    return app
