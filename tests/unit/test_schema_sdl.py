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


def test_the_matter_keyword_filter_says_who_searches_what() -> None:
    # given the description a client reads of MatterFilter.text
    described = schema._schema.type_map["MatterFilter"].fields["text"].description or ""
    # then it says roles not shown titles search numbers only, and roles reading no matters
    # are refused (resolvers.matters.matter_criteria)
    assert "number only" in described and "titles" in described, described
    assert "reads no matters is refused (FORBIDDEN)" in described, described


def test_the_writebacks_field_says_who_sees_which_write_backs() -> None:
    # given the description a client reads of the root writebacks field
    described = schema._schema.query_type.fields["writebacks"].description or ""
    # then it names who sees what (resolvers.writeback.resolve_writebacks)
    assert "an administrator sees every write-back" in described, described
    assert "centre staff those of the matters in their jurisdiction" in described, described
