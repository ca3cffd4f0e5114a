"""The GraphQL endpoint: strawberry's ASGI app as a transport, and nothing more.

Everything that must hold for every operation lives in the operation stage
(:mod:`gateway.operation`), which HTTP and WebSocket operations alike pass
through. What stays here is what only a transport can know:

* HTTP: GraphQL-over-HTTP content negotiation. ``application/graphql-response+json``
  (when the client names it) answers a request error — a document that was not
  executed — with 4xx; ``application/json`` (named, ``*/*`` or no ``Accept``)
  keeps 200 for every well-formed request, as the spec asks for legacy clients. Malformed
  requests get a JSON error with a code, never a bare text body.
* WebSocket (graphql-transport-ws): the caller is authenticated from the
  ``connection_init`` payload (``{"authorization": "Bearer …"}`` — what a
  browser's graphql-ws client can send) or, failing that, the upgrade's
  ``Authorization`` header. A bad token closes with 4403; the operation
  stage then treats each ``subscribe`` like an HTTP request.
"""

from __future__ import annotations

import contextlib
import json
import logging
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, process_result
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    _OperationStreamClosed,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.utils.aio import aclosing

from connectors.base import Connector
from onedoor.model import Centre
from policy.auth.errors import InvalidToken
from policy.principal import ANONYMOUS, Principal
from schema.context import RequestContext
from schema.loaders import Loaders

from .graphiql import graphiql_html
from .operation.audit import StoreHolder
from .projection import ProjectionHolder
from .webhooks import FilingHolder

__all__ = ["GRAPHQL_RESPONSE_JSON", "OneDoorGraphQL", "negotiate"]

log = logging.getLogger("onedoor.http")

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
Authenticator = Callable[[str], Awaitable[Principal]]

# Refusals that a client repairs by sending the document again (APQ): the
# Apollo convention is 200, and clients look for the code, not the status.
_RETRY_CODES = frozenset({"PERSISTED_QUERY_NOT_FOUND"})
_STATUS_BY_CODE = {"UNAUTHENTICATED": 401, "INTERNAL_SERVER_ERROR": 500}


def negotiate(accept: str | None) -> str | None:
    """The media type to answer with, or ``None`` when nothing acceptable is offered.

    ``application/graphql-response+json`` only when the client names it; a missing
    ``Accept``, ``*/*`` and ``application/*`` get ``application/json`` — what the
    GraphQL-over-HTTP spec asks of servers for clients that predate the new type,
    and what the ``graphql-http`` audit checks.

    >>> negotiate("application/json"), negotiate("*/*"), negotiate(None)
    ('application/json', 'application/json', 'application/json')
    >>> negotiate("application/graphql-response+json, application/json;q=0.9")
    'application/graphql-response+json'
    """
    if not accept or not accept.strip():
        return JSON
    best: tuple[float, int, str] | None = None
    for item in accept.split(","):
        media, _, params = item.strip().partition(";")
        media = media.strip().lower()
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        if media == GRAPHQL_RESPONSE_JSON:
            chosen, specific = GRAPHQL_RESPONSE_JSON, 1
        elif media == JSON:
            chosen, specific = JSON, 1
        elif media in ("*/*", "application/*"):
            chosen, specific = JSON, 0
        else:
            continue
        # Highest quality wins; then a named type over a wildcard; then the first listed.
        if best is None or (quality, specific) > (best[0], best[1]):
            best = (quality, specific, chosen)
    return best[2] if best else None


def _error_body(message: str, code: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


class _TransportWS(BaseGraphQLTransportWSHandler[RequestContext, None]):
    """graphql-transport-ws with the request ``extensions`` passed on (APQ and
    the safelist need them) and a hash-only ``subscribe`` accepted."""

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        payload: Any = message.get("payload")
        if not isinstance(payload, dict) or not isinstance(payload.get("query", ""), str | None):
            await self.websocket.close(code=4400, reason="Invalid subscribe payload")
            return
        payload.setdefault("query", None)
        extensions = payload.get("extensions")
        self._extensions = getattr(self, "_extensions", {})
        self._extensions[message["id"]] = extensions if isinstance(extensions, dict) else None
        await super().handle_subscribe(message)

    async def run_operation(self, operation: Any) -> None:
        # strawberry's own, but with ``operation_extensions`` (it passes none).
        try:
            result_source = await self.schema.stream(
                operation.query,
                variable_values=operation.variables,
                context_value=self.context,
                root_value=self.root_value,
                operation_name=operation.operation_name,
                operation_extensions=self._extensions.pop(operation.id, None),
            )
            async with aclosing(result_source):
                await self._send_result_stream(operation, result_source)
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except _OperationStreamClosed:
            return
        except Exception as error:
            await self.handle_task_exception(error)
            with contextlib.suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)
            raise


class OneDoorGraphQL(GraphQL[RequestContext, None]):
    """Builds a :class:`RequestContext` (principal, loaders) per request or connection;
    the operation gate forks a fresh one for each operation."""

    graphql_transport_ws_handler_class = _TransportWS

    def __init__(
        self,
        schema: Any,
        connectors: Mapping[Centre, Connector],
        *,
        audit: StoreHolder,
        authenticate: Authenticator,
        reject_anonymous: bool,
        filing: FilingHolder | None = None,
        projection: ProjectionHolder | None = None,
        **kwargs: Any,
    ) -> None:
        # One subscription protocol: graphql-transport-ws (the graphql-ws
        # library's). The legacy subscriptions-transport-ws is unmaintained.
        super().__init__(schema, subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,), **kwargs)
        self.connectors = connectors
        self.audit = audit
        self.filing = filing
        self.projection = projection
        self.authenticate = authenticate
        self.reject_anonymous = reject_anonymous

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
            projection=self.projection.store if self.projection else None,
        )

    # -- WebSocket ---------------------------------------------------------------

    async def on_ws_connect(self, context: RequestContext) -> None:
        """``connection_init``: the token in the payload wins over the upgrade header."""
        params: Any = getattr(context, "connection_params", None)
        token = _token_from_params(params if isinstance(params, dict) else {})
        if token is not None:
            try:
                context.principal = await self.authenticate(token)
            except InvalidToken as exc:
                log.info("websocket token refused reason=%s", exc.reason)
                raise ConnectionRejectionError from None
        if self.reject_anonymous and not context.principal.authenticated:
            raise ConnectionRejectionError
        if context.principal.expired():
            raise ConnectionRejectionError
        return None

    # -- HTTP --------------------------------------------------------------------

    async def run(self, request: Any, context: Any = None, root_value: Any = None) -> Any:
        if isinstance(request, WebSocket):
            return await super().run(request)
        request.state.media_type = negotiate(request.headers.get("accept"))
        if request.state.media_type is None and request.method == "POST":
            return JSONResponse(_error_body(
                "不支持所请求的响应格式 / none of the accepted media types can be served; "
                f"ask for {GRAPHQL_RESPONSE_JSON} or {JSON}", "NOT_ACCEPTABLE"), status_code=406)
        try:
            return await super().run(request)
        except HTTPException as exc:
            status = exc.status_code
            if status == 400 and request.method == "GET" and "mutation" in exc.reason.lower():
                status = 405  # GraphQL-over-HTTP: mutations are POST only
            code = {405: "METHOD_NOT_ALLOWED", 404: "NOT_FOUND"}.get(status, "BAD_REQUEST")
            headers = {"allow": "POST"} if status == 405 else None
            return JSONResponse(_error_body(exc.reason, code), status_code=status, headers=headers)

    def encode_json(self, data: object) -> str:
        # orjson: the dashboard's answer in a fifth of json.dumps' time, UTF-8 as is
        # (the content type says charset=utf-8) rather than \uXXXX escapes. A str, not
        # bytes: strawberry sends bytes over a WebSocket as binary frames.
        try:
            return orjson.dumps(data).decode()
        except TypeError:  # beyond orjson's types (an int over 64 bits): the standard encoder
            return json.dumps(data, separators=(",", ":"))

    def parse_json(self, data: str | bytes) -> Any:
        try:
            return super().parse_json(data)
        except RecursionError:  # nested deeper than any GraphQL request needs
            raise HTTPException(400, "请求体嵌套过深 / the request body is nested too deeply") from None

    def parse_query_params(self, params: Any) -> dict[str, Any]:
        try:
            return super().parse_query_params(params)
        except RecursionError:
            raise HTTPException(400, "参数嵌套过深 / a parameter is nested too deeply") from None

    async def parse_http_body(self, request: Any) -> Any:
        data = await super().parse_http_body(request)
        for item in data if isinstance(data, list) else [data]:
            # strawberry checks these for a single request only; a batch entry too.
            for name, value, kinds in (("query", item.query, str), ("variables", item.variables, dict),
                                       ("extensions", item.extensions, dict)):
                if not isinstance(value, kinds | None):
                    raise HTTPException(400, f"{name} 类型错误 / the GraphQL operation's `{name}` has the wrong type")
            if not isinstance(item.operation_name, str | None):
                raise HTTPException(400, "operationName 须为字符串 / operationName must be a string")
        return data

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        request.state.sub_response = sub_response
        return sub_response

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        body = process_result(result)
        if getattr(request.state, "media_type", JSON) != GRAPHQL_RESPONSE_JSON:
            return body
        if isinstance(result, PreExecutionError):
            codes = {(e.extensions or {}).get("code") for e in result.errors or ()}
            if not codes & _RETRY_CODES:
                # Not executed: a request error has no ``data`` entry, and a 4xx.
                body.pop("data", None)
                status = next((_STATUS_BY_CODE[c] for c in codes if c in _STATUS_BY_CODE), 400)
                sub: Response = request.state.sub_response
                sub.status_code = max(sub.status_code or 0, status)
        return body

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        response = super().create_response(response_data, sub_response)
        media = getattr(sub_response, "media", None)
        if media is not None:
            response.headers["content-type"] = f"{media}; charset=utf-8"
        return response

    async def execute_operation(self, request: Any, request_adapter: Any, request_data: Any,
                                context: Any, root_value: Any, sub_response: Any) -> Any:
        sub_response.media = getattr(request.state, "media_type", None) or JSON
        if isinstance(request_data, list):
            sub_response.media = JSON  # a batch is an Apollo extension, answered as JSON
            request.state.media_type = JSON
        return await super().execute_operation(request, request_adapter, request_data, context,
                                               root_value, sub_response)


def _token_from_params(params: Mapping[str, Any]) -> str | None:
    for key in ("authorization", "Authorization", "authToken", "token"):
        value = params.get(key)
        if isinstance(value, str) and value.strip():
            scheme, _, token = value.strip().partition(" ")
            if token and scheme.lower() == "bearer":
                return token.strip()
            return value.strip() if not token else None
    return None

