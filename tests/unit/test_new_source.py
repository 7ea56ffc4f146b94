"""Adding a source of an existing kind (docs/extending.md), on a throwaway copy.

The copy gets a sixth source — the 12345 citizen hotline (12345 政务服务便民热线), whose work
orders about disputes arrive as grid events — by the edits docs/extending.md lists: the enum
member and its label, the source added to the kind's ``sources``, a connector module and its
line in the registry. A fresh interpreter checks the schema, the kind table, the connector
registry and the sources file all know it, with nothing else edited.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.unit.throwaway import Edits, check_edited_copy

CONNECTOR = textwrap.dedent(
    '''
    """12345 政务服务便民热线: work orders (工单) about disputes, delivered as grid events."""

    from __future__ import annotations

    from collections.abc import AsyncIterator

    import httpx

    from connectors.base import Batch
    from connectors.breaker import CircuitBreaker
    from connectors.config import SourceConfig
    from domain.enums import SourceSystem


    class HotlineConnector:
        source = SourceSystem.HOTLINE_12345

        def __init__(self, config: SourceConfig, http: httpx.AsyncClient) -> None:
            self.config, self.http = config, http

        async def fetch(self, checkpoint: str | None, *, full: bool) -> AsyncIterator[Batch]:
            return
            yield


    def build(
        config: SourceConfig, http: httpx.AsyncClient, breaker: CircuitBreaker
    ) -> HotlineConnector:
        return HotlineConnector(config, http)
    '''
)

EDITS: Edits = {
    "domain/enums.py": [
        (
            '    COURT = "COURT"  # 法院案件系统 / 调解平台\n',
            '    COURT = "COURT"  # 法院案件系统 / 调解平台\n'
            '    HOTLINE_12345 = "HOTLINE_12345"  # 12345 政务服务便民热线\n',
        ),
        ('"法院案件系统",\n', '"法院案件系统",\n                "12345政务服务便民热线",\n'),
    ],
    "domain/kinds.py": [
        ("(SourceSystem.GRID,),", "(SourceSystem.GRID, SourceSystem.HOTLINE_12345),"),
    ],
    "connectors/registry.py": [
        (
            '    SourceSystem.COURT: "connectors.court",\n',
            '    SourceSystem.COURT: "connectors.court",\n'
            '    SourceSystem.HOTLINE_12345: "connectors.hotline",\n',
        )
    ],
    "connectors/hotline.py": [("", CONNECTOR)],
}

CHECK = textwrap.dedent(
    """
    import asyncio, tempfile, pathlib
    import httpx
    from connectors.config import load_sources
    from connectors.registry import CONNECTOR_MODULES, build_connector
    from domain.enums import RecordKind, SourceSystem
    from domain.kinds import KIND_OF_SOURCE
    from resolvers.root import schema

    new = SourceSystem.HOTLINE_12345
    assert KIND_OF_SOURCE[new] is RecordKind.GRID_EVENT, "kind of the source"
    assert KIND_OF_SOURCE[SourceSystem.GRID] is RecordKind.GRID_EVENT, "the first source kept"
    assert set(CONNECTOR_MODULES) == set(SourceSystem), "registry"
    sdl = str(schema)
    assert "HOTLINE_12345" in sdl and "12345政务服务便民热线" in sdl, "enum and its label"
    path = pathlib.Path(tempfile.mkdtemp()) / "sources.toml"
    path.write_text('[sources.HOTLINE_12345]\\nbase_url = "http://127.0.0.1:9999"\\n')
    sources = load_sources(path)
    connector = build_connector(new, sources[new], httpx.AsyncClient())
    assert connector.source is new, "connector"
    print("NEW SOURCE OK")
    """
)


def test_a_new_source_of_a_kind_needs_the_enum_the_kind_table_and_a_connector(
    tmp_path: Path,
) -> None:
    check_edited_copy(tmp_path, EDITS, CHECK, "NEW SOURCE OK")
