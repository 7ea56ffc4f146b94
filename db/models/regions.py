"""Regions: administrative divisions (行政区划) and grids (网格) in one tree."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, enum_column
from domain.enums import RegionLevel


class Region(Base):
    """A province, city, county (6-digit GB/T 2260), township (9), village (12) or grid."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    level: Mapped[RegionLevel] = mapped_column(enum_column(RegionLevel))
    parent_code: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("regions.code", ondelete="RESTRICT")
    )
    population: Mapped[int | None]

    __table_args__ = (Index("ix_regions_parent_code", "parent_code"),)
