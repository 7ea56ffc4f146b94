"""The assembled Strawberry schema (GraphQL 模式)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version

import strawberry


def _govhub_version() -> str:
    try:
        return package_version("govhub")
    except PackageNotFoundError:  # running from a checkout without an install
        return "0.0.0+local"


@strawberry.type(description="Entry points for reading govhub (查询入口).")
class Query:
    @strawberry.field(description="The running govhub version (版本号).")
    def version(self) -> str:
        return _govhub_version()


schema = strawberry.Schema(query=Query)
