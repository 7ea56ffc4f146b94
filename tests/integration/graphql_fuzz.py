"""A GraphQL fuzzer built from the schema (模糊测试): documents, variables, headers and bodies
a hostile client might send, and a tally of what the server answered.

Used by ``bench/graphql_fuzz.py`` (thousands of requests against uvicorn) and by a bounded
test. Every document is made from the real schema — root fields with random arguments
(edge-case values: NUL, lone surrogates, huge numbers, far dates, bad ids, wrong types),
random selections — and a share of requests are malformed bodies or hostile headers. The pass
condition is no internal error: no 5xx and no ``INTERNAL_SERVER_ERROR``.
"""

from __future__ import annotations

import base64
import json
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
)

from domain.roles import Role
from tests.integration.auth_support import token

STRINGS = [
    "", " ", "张", "张三", "欠", "411202", "4112", "%00", "\x00", "a\x00b", "\ud800", "\udfff x",
    "' OR 1=1 --", "\\", '"', "🙂", "a" * 101, "一" * 65, "x" * 5000, "null", "<script>",
    "41120219800101123X", "13812345678",
]  # fmt: skip
INTS = [0, 1, -1, 20, 100, 101, 2**31, -(2**31) - 1, 2**63, 10**30]
FLOATS = [0.0, -1.5, 1e308, 3.14]
DATES = [
    "2026-03-01T00:00:00+08:00", "2026-03-01T00:00:00", "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+23:59", "garbage", "", "2026-13-45T99:00:00Z",
]  # fmt: skip
TYPES = ["Dispute", "GridEvent", "PoliceAlert", "Petition", "CourtFiling", "Person", "Link", "X"]
BODIES: list[bytes] = [
    b"", b"null", b"5", b'"x"', b"[]", b"[1]", b"{", b'{"query": 5}', b'{"query": "{"}',
    b'{"query": "{ version }", "variables": 5}', b'{"query": "{ version }", "operationName": 5}',
    b'{"query": "{ version }", "extensions": []}', b"\xff\xfe\x00", b'{"documentId": 5}',
    b'{"query": "{ version }", "variables": {"a": ' + b"[" * 5000 + b"]" * 5000 + b"}}",
    b'{"extensions": {"persistedQuery": {"sha256Hash": 5}}}',
    json.dumps({"query": "{" * 3000 + "}" * 3000}).encode(),
    json.dumps({"query": "query { " + "a: version " * 3000 + "}"}).encode(),
]  # fmt: skip


@dataclass
class Tally:
    """What the server answered: per HTTP status, per error code, and the internal errors."""

    statuses: Counter[int] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)
    internal: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def add(self, response: httpx.Response, sent: str) -> None:
        self.statuses[response.status_code] += 1
        codes: list[str] = []
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            for error in body.get("errors") or []:
                code = (error.get("extensions") or {}).get("code") or "NO_CODE"
                codes.append(code)
        for code in codes or ["(none)"]:
            self.codes[code] += 1
        if response.status_code >= 500 or "INTERNAL_SERVER_ERROR" in codes:
            self.internal.append(f"{response.status_code} {codes} {sent[:300]!r}")

    def report(self) -> str:
        lines = [f"requests: {self.requests}", "by HTTP status:"]
        lines += [f"  {status}: {n}" for status, n in sorted(self.statuses.items())]
        lines.append("by error code:")
        lines += [f"  {code}: {n}" for code, n in self.codes.most_common()]
        lines.append(f"internal errors: {len(self.internal)}")
        lines += [f"  {sample}" for sample in self.internal[:10]]
        return "\n".join(lines)


class DocumentFuzzer:
    """Random documents and variables from ``schema``, reproducible from ``seed``."""

    def __init__(self, schema: GraphQLSchema, seed: int) -> None:
        self.schema = schema
        self.rng = random.Random(seed)

    def _gid(self) -> str:
        number = self.rng.choice([1, 2, 7, 0, -5, 2**31, 10**30, "x"])
        return base64.b64encode(f"{self.rng.choice(TYPES)}:{number}".encode()).decode()

    def value(self, type_: Any, depth: int = 0) -> Any:
        """A value for an input type: usually of the right shape, sometimes not."""
        rng = self.rng
        if rng.random() < 0.05:
            return rng.choice([None, "x", 5, [], {}, True])  # the wrong type altogether
        if isinstance(type_, GraphQLNonNull):
            return self.value(type_.of_type, depth)
        if isinstance(type_, GraphQLList):
            return [self.value(type_.of_type, depth + 1) for _ in range(rng.randint(0, 3))]
        if isinstance(type_, GraphQLEnumType):
            return rng.choice([*type_.values, "NOT_A_VALUE"])
        if isinstance(type_, GraphQLInputObjectType):
            if depth > 3:
                return {}
            names = rng.sample(list(type_.fields), rng.randint(0, len(type_.fields)))
            return {name: self.value(type_.fields[name].type, depth + 1) for name in names}
        name = type_.name if isinstance(type_, GraphQLScalarType) else ""
        return {
            "Int": lambda: rng.choice(INTS),
            "Float": lambda: rng.choice(FLOATS),
            "Boolean": lambda: rng.choice([True, False]),
            "ID": self._gid,
            "DateTime": lambda: rng.choice(DATES),
            "Date": lambda: rng.choice(["2026-03-01", "9999-99-99", ""]),
            "JSON": lambda: {"a": [1, "\x00"]},
        }.get(name, lambda: rng.choice(STRINGS))()

    def selection(self, type_: Any, depth: int) -> str:
        named = get_named_type(type_)
        if isinstance(named, GraphQLUnionType):
            return "{ __typename }"
        if not isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            return ""
        fields = list(named.fields.items())
        chosen = self.rng.sample(fields, min(len(fields), self.rng.randint(1, 4)))
        parts = []
        for name, field_def in chosen:
            inner = get_named_type(field_def.type)
            if isinstance(inner, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType):
                if depth >= 3:
                    continue
                parts.append(f"{name} {self.selection(field_def.type, depth + 1)}")
            elif not any(isinstance(a.type, GraphQLNonNull) for a in field_def.args.values()):
                parts.append(name)
        return "{ " + (" ".join(parts) or "__typename") + " }"

    def request(self) -> dict[str, Any]:
        """One ``{"query", "variables", "operationName"}`` request."""
        rng = self.rng
        roots = [("query", self.schema.query_type)] * 8
        roots += [
            ("mutation", self.schema.mutation_type),
            ("subscription", self.schema.subscription_type),
        ]
        operation, root = rng.choice([r for r in roots if r[1] is not None])
        assert root is not None
        name, field_def = rng.choice(list(root.fields.items()))
        arguments, definitions, variables = [], [], {}
        for index, (arg_name, arg) in enumerate(field_def.args.items()):
            if not isinstance(arg.type, GraphQLNonNull) and rng.random() < 0.4:
                continue
            value = self.value(arg.type)
            variable = f"v{index}"
            definitions.append(f"${variable}: {arg.type}")
            arguments.append(f"{arg_name}: ${variable}")
            variables[variable] = value
        args = f"({', '.join(arguments)})" if arguments else ""
        header = (
            f"{operation} Fuzz{rng.randint(0, 9)}({', '.join(definitions)})"
            if definitions
            else operation
        )
        document = f"{header} {{ {name}{args} {self.selection(field_def.type, 1)} }}"
        return {"query": document, "variables": variables, "operationName": None}


def _headers(rng: random.Random) -> dict[str, str | bytes]:
    roll = rng.random()
    if roll < 0.6:
        role = rng.choice(list(Role))
        headers: dict[str, str | bytes] = {
            "Authorization": f"Bearer {token(role, ['411200'], ['pii:read'])}"
        }
    elif roll < 0.75:
        headers = {}
    else:
        headers = {
            "Authorization": rng.choice(["Bearer x", "Basic a", "Bearer " + "a." * 100, "Bearer"])
        }
    if rng.random() < 0.4:
        headers["X-Purpose"] = rng.choice(
            [
                "%00%00%00%00",
                "%ED%A0%80abcd",
                "核查 案件".encode(),
                "a" * 500,
                "ok purpose",
            ]
        )
    return headers


async def fuzz(
    client: httpx.AsyncClient, schema: GraphQLSchema, requests: int, seed: int = 13
) -> Tally:
    """Send ``requests`` fuzzed requests (about one in six a malformed body) through ``client``."""
    fuzzer = DocumentFuzzer(schema, seed)
    rng = random.Random(seed + 1)
    tally = Tally()
    for _ in range(requests):
        headers: dict[str, str | bytes] = {"content-type": "application/json"}
        headers |= _headers(rng)
        if rng.random() < 0.15:
            body = rng.choice(BODIES)
            if rng.random() < 0.3:
                body = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
        else:
            body = json.dumps(fuzzer.request()).encode()  # \\u escapes: NUL, surrogates travel
        response = await client.post("/graphql", content=body, headers=headers)
        tally.add(response, body.decode("utf-8", "replace"))
    return tally
