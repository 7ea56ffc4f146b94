"""Adding a record kind through the kind table (docs/extending.md), on a throwaway copy.

The copy gets a sixth source and kind — 劳动仲裁案件 from a labour-arbitration system — by
the edits docs/extending.md lists: the two enum members (and the source's label), one
``KindSpec``, one ORM model and one GraphQL type. A fresh interpreter then checks the new
kind is in the schema, the access rules and the scope without any other registry edited.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.unit.throwaway import Edits, check_edited_copy

EDITS: Edits = {
    "domain/enums.py": [
        (
            '    COURT = "COURT"  # 法院案件系统 / 调解平台\n',
            '    COURT = "COURT"  # 法院案件系统 / 调解平台\n'
            '    ARBITRATION = "ARBITRATION"  # 劳动人事争议仲裁系统\n',
        ),
        (
            '    COURT_FILING = "COURT_FILING"  # 诉讼 / 诉前调解案件\n',
            '    COURT_FILING = "COURT_FILING"  # 诉讼 / 诉前调解案件\n'
            '    LABOUR_ARBITRATION = "LABOUR_ARBITRATION"  # 劳动仲裁案件\n',
        ),
        ('"法院案件系统",\n', '"法院案件系统",\n                "劳动人事争议仲裁系统",\n'),
    ],
    "domain/kinds.py": [
        (
            "KIND_SPECS: dict",
            "KINDS = (*KINDS, KindSpec(RecordKind.LABOUR_ARBITRATION, (SourceSystem.ARBITRATION,),"
            ' "劳动仲裁案件", "LabourArbitration", "labourArbitrations",'
            " frozenset({Role.ADMIN, Role.CENTER_STAFF, Role.PARTNER_JUDICIAL})))\n\n"
            "KIND_SPECS: dict",
        )
    ],
    "db/models/records.py": [
        (
            "\n\ndef kind_models()",
            textwrap.dedent(
                """


                class LabourArbitration(Record):
                    __tablename__ = "labour_arbitrations"
                    __mapper_args__ = {"polymorphic_identity": RecordKind.LABOUR_ARBITRATION}

                    id: Mapped[int] = _record_fk()
                    award_number: Mapped[str | None] = mapped_column(String(64))
                """
            ).rstrip()
            + "\n\n\ndef kind_models()",
        )
    ],
    "schema/kinds.py": [
        (
            "\n\ndef _types_by_kind()",
            textwrap.dedent(
                """


                @strawberry.type(description="Labour arbitration case (劳动仲裁案件).")
                class LabourArbitration(Record):
                    award_number: str | None = strawberry.field(
                        metadata=PUBLIC, description="Award number (裁决书编号)."
                    )
                """
            ).rstrip()
            + "\n\n\ndef _types_by_kind()",
        )
    ],
}

CHECK = textwrap.dedent(
    """
    from db.queries import KIND_TABLES, scope_conditions
    from domain.enums import RecordKind, Role
    from domain.roles import POLICIES, Principal
    from resolvers.root import schema
    from schema.access import access_problems, selected_fields
    from schema.errors import Forbidden

    new = RecordKind.LABOUR_ARBITRATION
    sdl = str(schema)
    assert "type LabourArbitration implements Record & Node" in sdl, "type"
    assert "labourArbitrations(" in sdl, "connection"
    assert "LABOUR_ARBITRATION 劳动仲裁案件" in sdl, "enum label"
    assert KIND_TABLES[new].name == "labour_arbitrations", "model"
    assert new in POLICIES[Role.PARTNER_JUDICIAL].kinds, "readers"
    assert new not in POLICIES[Role.PARTNER_POLICE].kinds, "deny by default"
    graphql = schema._schema
    doc = "{ labourArbitrations { nodes { title awardNumber summary } } }"
    fields = selected_fields(graphql, doc)
    police = Principal("p", Role.PARTNER_POLICE, regions=("41",))
    judicial = Principal("j", Role.PARTNER_JUDICIAL, regions=("41",))
    refused = [p.message for p in access_problems(police, None, "dev", fields, graphql)]
    assert any("LABOUR_ARBITRATION" in m for m in refused), refused
    judicial_problems = access_problems(judicial, None, "dev", fields, graphql)
    assert [p.message for p in judicial_problems] == ["Role partner_judicial may not read summary."]
    assert all(isinstance(p, Forbidden) for p in judicial_problems)
    where = " ".join(str(c.compile()) for c in scope_conditions(judicial.scope))
    assert "kind" in where
    print("NEW KIND OK")
    """
)


def test_a_new_kind_needs_only_the_kind_table_a_model_and_a_type(tmp_path: Path) -> None:
    check_edited_copy(tmp_path, EDITS, CHECK, "NEW KIND OK")
