"""The grid's region tree against its columns: a name is cut to fit, a code that does not fit
refuses the tree with a clear error (a database error before, the whole sync failing)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tenacity import wait_none

from connectors.errors import SourceResponseError
from connectors.grid import GridConnector
from connectors.http import SourceClient
from domain.enums import RegionLevel, SourceSystem


def connector(nodes: list[dict[str, Any]]) -> GridConnector:
    def service(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"code": "OK", "data": nodes})

    http = httpx.AsyncClient(transport=httpx.MockTransport(service), base_url="http://grid")
    return GridConnector(SourceClient(SourceSystem.GRID, http, wait=wait_none()))


TOWNSHIP = {"code": "411202001", "name": "车站街道", "level": "TOWNSHIP", "parentCode": "411202"}


async def test_a_long_name_is_cut_to_its_column() -> None:
    rows = await connector([{**TOWNSHIP, "name": "街" * 200}]).region_rows()
    assert rows == [("411202001", "街" * 127 + "…", RegionLevel.TOWNSHIP, "411202", None)]


@pytest.mark.parametrize("field", ["code", "parentCode"])
async def test_a_code_longer_than_its_column_refuses_the_tree(field: str) -> None:
    with pytest.raises(SourceResponseError, match="longer than 32 characters"):
        await connector([{**TOWNSHIP, field: "4" * 33}]).region_rows()
