"""HTTP statuses and bodies for GraphQL over HTTP (GraphQL 的 HTTP 约定).

What a client sees at the HTTP level, decided from the operation's outcome:

- **401** with ``WWW-Authenticate: Bearer`` when the credential is missing, malformed, expired
  or forged. The body is the usual GraphQL one (one ``UNAUTHENTICATED`` error), so a client
  that reads only bodies sees what it always saw, and the clients that refresh a token on 401
  (Apollo Link, urql's auth exchange, gql) can do so.
- **400** for a request that cannot be parsed or validated (``GRAPHQL_PARSE_FAILED``,
  ``GRAPHQL_VALIDATION_FAILED``, bad variables), when the client accepts
  ``application/graphql-response+json`` (the GraphQL-over-HTTP spec); the answer then comes
  with that media type. A client that asks for ``application/json`` keeps HTTP 200 for these.
- **200** for everything that happened inside a valid operation: ``FORBIDDEN``,
  ``NOT_FOUND``, ``BAD_USER_INPUT`` from a resolver and the like.
- A request that is not GraphQL at all (malformed JSON, an unsupported content type, no
  query) answers its 4xx with a JSON error body coded ``BAD_REQUEST`` (``NOT_FOUND`` for
  GraphiQL where it is not served, ``METHOD_NOT_ALLOWED``), not plain text.

The usual request, one operation POSTed as ``application/json`` with its ``query`` text, is
answered straight from the decoded body (:meth:`GraphQLOverHTTP.answer_json`): the same
context, execution, statuses, headers and body as Strawberry's view, without its request
adapter, content-type parsing (``email.message``) and dispatch layers, a few per cent of a
small query's time. Everything else (GET, batches, persisted ``documentId``s, streamed
answers, other content types, a body that is not such an object) goes Strawberry's way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, process_result
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from domain.masking import mask_text
from hub.context import Context
from schema.errors import ErrorCode

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
REQUEST_ERRORS = frozenset({ErrorCode.GRAPHQL_PARSE_FAILED, ErrorCode.GRAPHQL_VALIDATION_FAILED})
REQUEST_ERROR_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}
"""``extensions.code`` of a refused request by HTTP status; any other is ``BAD_REQUEST``."""
POST_OPERATIONS = OperationType.from_http("POST")


def json_content(content_type: str | None) -> bool:
    """Whether a ``Content-Type`` is ``application/json`` (parameters such as a charset
    aside): the requests :meth:`GraphQLOverHTTP.answer_json` may answer."""
    if content_type is None:
        return False
    media_type = content_type.partition(";")[0].strip().lower()
    return media_type == JSON


def one_operation(data: object) -> bool:
    """A decoded body that is one operation with its document's text and well-typed
    members, as Strawberry's view would accept it (anything else is left to the view)."""
    return (
        isinstance(data, dict)
        and isinstance(data.get("query"), str)
        and isinstance(data.get("variables"), dict | None)
        and isinstance(data.get("extensions"), dict | None)
        and isinstance(data.get("operationName"), str | None)
    )


def accepted_media_type(accept: str | None) -> str:
    """``application/graphql-response+json`` when the client prefers (or only takes) it over
    ``application/json``; else ``application/json``. Ties go to the order the client lists."""
    best, best_q = JSON, -1.0
    for position, item in enumerate((accept or "").split(",")):
        media, _, params = item.strip().partition(";")
        media = media.strip().lower()
        if media not in (GRAPHQL_RESPONSE, JSON, "application/*", "*/*"):
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        # the exact types outrank wildcards at the same weight; then the client's order
        weight = q - (0.001 if "*" in media else 0.0) - position * 1e-6
        if q > 0 and weight > best_q:
            best, best_q = (GRAPHQL_RESPONSE if media == GRAPHQL_RESPONSE else JSON), weight
    return best


def error_codes(result: ExecutionResult) -> list[str]:
    return [str((error.extensions or {}).get("code")) for error in result.errors or ()]


def http_status(results: Iterable[ExecutionResult], media_type: str) -> int:
    """The status for the results of one request (one, or a batch)."""
    outcomes = [error_codes(result) for result in results]
    if outcomes and all(ErrorCode.UNAUTHENTICATED in codes for codes in outcomes):
        return 401
    if media_type == GRAPHQL_RESPONSE and len(outcomes) == 1:
        [codes] = outcomes
        if codes and all(code in REQUEST_ERRORS for code in codes):
            return 400
    return 200


def www_authenticate(authorization: str | None) -> str:
    """The RFC 6750 challenge: no credential, or one that was refused."""
    if not (authorization or "").strip():
        return 'Bearer realm="govhub"'
    return 'Bearer realm="govhub", error="invalid_token"'


def request_error(status: int, message: str, media_type: str = JSON) -> Response:
    """A request refused before any GraphQL ran, as a GraphQL error body (no ``data``)."""
    code = REQUEST_ERROR_CODES.get(status, "BAD_REQUEST")
    # the reason may quote the request (an unknown operation name): never an identifier
    body = {"errors": [{"message": mask_text(message), "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status, media_type=media_type)


def _fragment_value(value: object) -> object:
    """An ``orjson.Fragment`` (JSON text built whole, ``schema.fastpath.prebuilt``) as the
    value it holds, for the standard library's encoder."""
    if isinstance(value, orjson.Fragment):
        return json.loads(orjson.dumps(value))
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class GraphQLOverHTTP(GraphQL[Context, None]):
    """Strawberry's ASGI view with the statuses, challenge and bodies described above."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        response: Response
        try:  # as strawberry's own, with a JSON body for a refused request
            data = None
            if request.method == "POST" and self._plain_json(request):
                data = self.parse_json(await request.body())  # kept: the view reads it again
            if one_operation(data):
                assert isinstance(data, dict)
                response = await self.answer_json(request, data)
            else:
                response = await self.run(request)
        except HTTPException as exc:
            media_type = accepted_media_type(request.headers.get("accept"))
            response = request_error(exc.status_code, exc.reason, media_type)
        await response(scope, receive, send)

    def _plain_json(self, request: Request) -> bool:
        """A JSON body, answered as one JSON document (no streamed answer asked for)."""
        if not json_content(request.headers.get("content-type")):
            return False
        accept = request.headers.get("accept", "")
        return not any(
            transport.accepts(accept) for transport in self._stream_transport_map.values()
        )

    async def answer_json(self, request: Request, data: dict[str, Any]) -> Response:
        """One operation POSTed as JSON, answered as Strawberry's view answers it."""
        sub_response = await self.get_sub_response(request)
        context = await self.get_context(request, response=sub_response)
        context.prebuilt_json = True  # encode_json writes the answer: JSON built whole may go in
        try:
            result = await self.schema.execute(
                data["query"],
                root_value=None,  # the view's root value (GraphQL[Context, None])
                variable_values=data.get("variables"),
                context_value=context,
                operation_name=data.get("operationName"),
                allowed_operation_types=POST_OPERATIONS,
                operation_extensions=data.get("extensions"),
            )
        except CannotGetOperationTypeError as exc:
            raise HTTPException(400, exc.as_http_error_reason()) from exc
        except InvalidOperationTypeError as exc:
            raise HTTPException(400, exc.as_http_error_reason("POST")) from exc
        except MissingQueryError as exc:
            raise HTTPException(400, "No GraphQL query found in the request") from exc
        self.answer_status(request, [result], sub_response)
        response_data = process_result(result)
        if result.errors:  # Strawberry's hook (Sentry's integration): does nothing here
            self._handle_errors(result.errors, response_data)
        return self.create_response(response_data, sub_response)

    def answer_status(
        self, request: Request, results: list[ExecutionResult], sub_response: Response
    ) -> None:
        """Status, challenge and content type of an answer (see the module's doc)."""
        media_type = accepted_media_type(request.headers.get("accept"))
        status = http_status(results, media_type)
        if status != 200:
            sub_response.status_code = status
        if status == 401:
            authorization = request.headers.get("authorization")
            sub_response.headers["WWW-Authenticate"] = www_authenticate(authorization)
        if media_type == GRAPHQL_RESPONSE:
            sub_response.headers["content-type"] = f"{GRAPHQL_RESPONSE}; charset=utf-8"

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> Any:
        result = await super().execute_operation(
            request, request_adapter, request_data, context, root_value, sub_response
        )
        results = result if isinstance(result, list) else [result]
        finished = [item for item in results if isinstance(item, ExecutionResult)]
        if len(finished) == len(results):  # not a stream of results
            self.answer_status(request, finished, sub_response)
        return result

    def encode_json(self, data: object) -> str:
        """Answers as compact UTF-8 JSON, encoded by orjson.

        The benchmark page of 50 records (23 KB of JSON) took the standard library 0.44 ms
        to encode, orjson 0.07 ms. Chinese text goes out as UTF-8 rather than ``\\u``
        escapes: the same JSON, 8 % smaller on that page. A value orjson does not take (an
        integer beyond 64 bits in a ``JSON`` scalar, a lone surrogate echoed from a hostile
        input) is encoded by the standard library as before, all non-ASCII escaped. A string,
        not bytes: WebSocket frames must stay text frames.
        """
        try:
            return orjson.dumps(data).decode()
        except orjson.JSONEncodeError:
            return json.dumps(data, separators=(",", ":"), default=_fragment_value)

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        media_type = sub_response.headers.get("content-type")
        if media_type is not None:  # one content type, not strawberry's and ours
            response.headers["content-type"] = media_type
        return response
