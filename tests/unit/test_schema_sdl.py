"""The committed SDL (schema.graphql) is the contract: it must match the code."""

from __future__ import annotations

from pathlib import Path

from resolvers.root import schema

SDL = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_committed_sdl_matches_the_code() -> None:
    # given the SDL printed from the code and the one committed
    printed = schema.as_str() + "\n"
    committed = SDL.read_text(encoding="utf-8") if SDL.exists() else ""
    # then they are the same; a change to the schema regenerates the file in the same commit
    assert printed == committed, (
        "schema.graphql differs from the code: run `make schema` (or "
        "`.venv/bin/strawberry export-schema resolvers.root:schema --output schema.graphql`), "
        "review the diff for breaking changes, and commit it."
    )


def test_every_type_and_field_is_described_with_its_chinese_term() -> None:
    # given the printed schema's own types (not GraphQL's or Relay's built-ins)
    graphql_schema = schema._schema
    undescribed = []
    for name, graphql_type in graphql_schema.type_map.items():
        if name.startswith("__") or name in {
            "Node",
            "String",
            "Int",
            "Float",
            "Boolean",
            "ID",
            "DateTime",
            "Date",
            "Decimal",
            "JSON",
        }:
            continue  # fmt: skip
        if not graphql_type.description or not any(
            "\u4e00" <= c <= "\u9fff" for c in graphql_type.description
        ):
            undescribed.append(name)
        for field_name, field in getattr(graphql_type, "fields", {}).items():
            if field_name == "id":
                continue  # Relay's Node.id, described by strawberry
            if not field.description or not any(
                "\u4e00" <= c <= "\u9fff" for c in field.description
            ):
                undescribed.append(f"{name}.{field_name}")
    # then every one carries a description with the Chinese term
    assert undescribed == []
