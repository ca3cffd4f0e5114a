"""Composition root: the one module that knows starlette, settings and
connectors together. Everything else is framework-free.

    HTTP stage       RequestIdMiddleware → BodyLimitMiddleware → AuthMiddleware
    operation stage  strawberry schema extensions (limits, errors, audit)
    field stage      schema resolvers (scopes, jurisdiction, masking)
    centre stage     connectors (timeouts, retries, batching)
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from strawberry.extensions import DisableIntrospection

from connectors.base import Connector
from onedoor.model import Centre
from schema import ExtensionFactory, build_schema

from .graphql_app import OneDoorGraphQL
from .operation.errors import ErrorHygiene
from .operation.limits import OperationLimits
from .middleware import Authenticator, AuthMiddleware, BodyLimitMiddleware, RequestIdMiddleware
from .settings import GatewaySettings

__all__ = ["create_app"]


def create_app(
    settings: GatewaySettings,
    connectors: Mapping[Centre, Connector],
    authenticate: Authenticator,
    *,
    close_connectors: bool = True,
) -> Starlette:
    extensions: list[ExtensionFactory] = [ErrorHygiene, lambda: OperationLimits(settings.limits)]
    if not settings.introspection:
        extensions.append(DisableIntrospection)
    schema = build_schema(extensions, suggestions=settings.field_suggestions)
    graphql = OneDoorGraphQL(
        schema,
        connectors,
        graphql_ide="graphiql" if settings.introspection else None,
        allow_queries_via_get=True,
    )

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ready", "centres": sorted(c.value for c in connectors)})

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if close_connectors:
                for connector in connectors.values():
                    await connector.aclose()

    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ],
        middleware=[
            Middleware(RequestIdMiddleware),
            Middleware(BodyLimitMiddleware, max_bytes=settings.limits.max_body_bytes),
            Middleware(
                AuthMiddleware,
                authenticate=authenticate,
                reject_anonymous=settings.auth.reject_anonymous,
            ),
        ],
        lifespan=lifespan,
    )
