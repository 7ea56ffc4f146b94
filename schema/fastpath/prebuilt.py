"""Answers a resolver built whole, taken as they are (预先生成的答案).

A resolver that could answer its whole field at once (``resolvers.page_json``: a page of
records as JSON built by PostgreSQL) returns a :class:`Prebuilt`: the field's completed value,
already shaped as the selection asks (response keys, nulls, lists), its leaves serialised.
:class:`schema.fastpath.executor.PlainFieldExecutor` puts it in the answer without completing
it field by field; the values may hold ``orjson.Fragment`` text, which only the HTTP layer's
JSON encoder writes.

So a resolver returns one only when both ends agree: the schema executes with that executor
(:func:`accepts_prebuilt`, marked by :func:`mark_accepts_prebuilt`) and the answer goes out
as JSON encoded by orjson (the context's ``prebuilt_json``, set by
``hub.graphql_http.GraphQLOverHTTP.answer_json``). In-process callers, WebSockets and the
general schema never see one.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo, GraphQLSchema

_EXTENSION = "govhub_accepts_prebuilt"


class Prebuilt:
    """A field's completed value, to be placed in the answer as it is."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def mark_accepts_prebuilt(schema: GraphQLSchema) -> None:
    """Say that ``schema`` executes with an executor that places :class:`Prebuilt` values."""
    schema.extensions = {**(schema.extensions or {}), _EXTENSION: True}


def accepts_prebuilt(info: GraphQLResolveInfo[Any]) -> bool:
    """Whether a resolver of this request may return a :class:`Prebuilt`."""
    return bool((info.schema.extensions or {}).get(_EXTENSION)) and bool(
        getattr(info.context, "prebuilt_json", False)
    )
