"""The GraphQL endpoint: strawberry's ASGI app with our per-request context."""

from __future__ import annotations

import dataclasses
import urllib.parse
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.types import ExecutionResult

from connectors.base import Connector
from onedoor.model import Centre
from policy.principal import ANONYMOUS
from schema.context import RequestContext
from schema.loaders import Loaders

from .graphiql import graphiql_html
from .operation.audit import StoreHolder
from .persisted import PersistedQueries, PersistedQueryError
from .webhooks import FilingHolder

__all__ = ["OneDoorGraphQL"]


class OneDoorGraphQL(GraphQL[RequestContext, None]):
    """Builds a fresh :class:`RequestContext` (principal, loaders) for every request."""

    def __init__(
        self,
        schema: Any,
        connectors: Mapping[Centre, Connector],
        *,
        audit: StoreHolder,
        filing: FilingHolder | None = None,
        persisted: PersistedQueries | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(schema, **kwargs)
        self.connectors = connectors
        self.audit = audit
        self.filing = filing
        self.persisted = persisted

    async def execute_single(
        self, request: Any, request_adapter: Any, sub_response: Any, context: RequestContext,
        root_value: None, request_data: Any,
    ) -> Any:
        # strawberry runs a batch's operations concurrently with one context;
        # each gets its own so trackers (audit, omitted centres) stay per operation.
        if self.persisted is not None:  # hash → document before anything parses it
            try:
                query = self.persisted.resolve(request_data.query, request_data.extensions)
            except PersistedQueryError as exc:
                return ExecutionResult(data=None, errors=[exc.as_graphql_error()])
            request_data = dataclasses.replace(request_data, query=query)
        return await super().execute_single(
            request, request_adapter, sub_response, context.fork(), root_value, request_data
        )

    @property
    def graphql_ide_html(self) -> str:
        # strawberry's page loads React and GraphiQL from a public CDN; ours, from the gateway.
        return graphiql_html()

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A persisted-query GET has no ``query`` parameter: it is an operation, not a browser.
        return "extensions" not in request.query_params and super().should_render_graphql_ide(request)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> RequestContext:
        state = request.scope.get("state", {})
        # Headers are ASCII: a Chinese purpose arrives percent-encoded (RFC 3986).
        raw = request.headers.get("x-purpose")
        purpose = urllib.parse.unquote(raw) if raw else None
        return RequestContext(
            principal=state.get("principal", ANONYMOUS),
            connectors=self.connectors,
            loaders=Loaders(self.connectors),
            request_id=state.get("request_id", "-"),
            purpose=purpose[:200] if purpose else None,
            audit=self.audit.store,
            filing=self.filing.service if self.filing else None,
        )
