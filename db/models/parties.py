"""People, organisations and the links between records (当事人、组织与关联).

A :class:`PartyMention` is a person or organisation exactly as one source record names them;
resolution clusters mentions into :class:`Person` / :class:`Organisation`. ID numbers and
phones are sealed, with a blind index beside each for exact matching.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, validates

from db.models.base import Base, UtcDateTime, enum_column, utcnow
from db.pii import Sealed, blind_index
from domain.enums import PartyRole
from domain.linking.evidence import BLOCKING_KEY_MAX
from domain.linking.organisations import ORGANISATION_KEY_MAX, organisation_name_key

_UNRESOLVED = text("person_id IS NULL AND organisation_id IS NULL")
_MERGED = text("merged_into_id IS NOT NULL")


class _SealedIdentity:
    """Keeps each sealed identifier's blind index in step with it."""

    id_number: Mapped[str | None]
    id_number_index: Mapped[str | None]
    phone: Mapped[str | None]
    phone_index: Mapped[str | None]

    @validates("id_number", "phone")
    def _index_identifier(self, key: str, value: str | None) -> str | None:
        setattr(self, f"{key}_index", blind_index(key, value))
        return value


class Person(_SealedIdentity, Base):
    """A resolved natural person (自然人)."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    id_number: Mapped[str | None] = mapped_column(Sealed)
    id_number_index: Mapped[str | None] = mapped_column(String(40), index=True)
    phone: Mapped[str | None] = mapped_column(Sealed)
    phone_index: Mapped[str | None] = mapped_column(String(40), index=True)
    birth_date: Mapped[date | None] = mapped_column(Date)
    region_code: Mapped[str | None] = mapped_column(String(32))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (
        # the few persons staff merged, read by every resolution pass (canonical_persons)
        Index(
            "ix_persons_merged_into_id",
            "merged_into_id",
            postgresql_where=_MERGED,
            sqlite_where=_MERGED,
        ),
    )


class Organisation(Base):
    """A resolved organisation (单位/组织), keyed by its unified social credit code when known."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128))
    name_key: Mapped[str | None] = mapped_column(String(ORGANISATION_KEY_MAX), index=True)
    """The name as resolution compares it (``organisation_name_key``): a pass finds the
    organisations its mentions can match by name through it, not by reading every
    organisation of their counties."""
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    region_code: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    @validates("name")
    def _key_name(self, key: str, value: str) -> str:
        self.name_key = organisation_name_key(value)
        return value


class PartyMention(_SealedIdentity, Base):
    """A party as one source record names it, role included (当事人提及)."""

    __tablename__ = "party_mentions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    role: Mapped[PartyRole] = mapped_column(enum_column(PartyRole))
    source_role: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(128))
    is_organisation: Mapped[bool] = mapped_column(default=False)
    id_number: Mapped[str | None] = mapped_column(Sealed)
    id_number_index: Mapped[str | None] = mapped_column(String(40))
    phone: Mapped[str | None] = mapped_column(Sealed)
    phone_index: Mapped[str | None] = mapped_column(String(40))
    uscc: Mapped[str | None] = mapped_column(String(18))
    address: Mapped[str | None] = mapped_column(String(256))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    match_confidence: Mapped[float | None] = mapped_column(Float)
    match_evidence: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    staff_decided: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (
        UniqueConstraint("record_id", "position"),
        Index("ix_party_mentions_person_id", "person_id"),
        Index("ix_party_mentions_organisation_id", "organisation_id"),
        Index("ix_party_mentions_id_number_index", "id_number_index"),
        Index("ix_party_mentions_phone_index", "phone_index"),
        # the mentions resolution has still to place (未归一): few, whatever the total
        Index(
            "ix_party_mentions_unresolved",
            "record_id",
            postgresql_where=_UNRESOLVED,
            sqlite_where=_UNRESOLVED,
        ),
    )


class PersonBlockingKey(Base):
    """A name key a person mention is found by (姓名分块键): its pinyin within its county, or
    one character masked within its village (see
    :func:`domain.linking.evidence.name_block_keys`).

    Resolution fetches a new mention's candidates through these, the most recent few per
    key, instead of loading every person of a county: its cost per batch does not grow with
    the persons already stored. ID numbers and phones are found by their blind indexes.
    A key goes with its mention: ingest deletes both when a record's parties are replaced.
    """

    __tablename__ = "person_blocking_keys"

    key: Mapped[str] = mapped_column(String(BLOCKING_KEY_MAX), primary_key=True)
    # the mention's id, not a foreign key: checking one per key cost a first load more than
    # the keys themselves; ingest deletes a replaced mention's keys (``db.ingest``), and the
    # candidate lookup joins the keys to their mentions (``db.blocking``)
    mention_id: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)


class Link(Base):
    """Two records that concern the same matter or people (关联), with confidence and evidence."""

    __tablename__ = "links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    from_record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    to_record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    link_kind: Mapped[str] = mapped_column(String(32))
    confidence: Mapped[float] = mapped_column(Float)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    decision: Mapped[str | None] = mapped_column(String(16))  # CONFIRMED | REJECTED by staff
    decided_by: Mapped[str | None] = mapped_column(String(128))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("from_record_id", "to_record_id", "link_kind"),
        Index("ix_links_to_record_id", "to_record_id"),
    )
