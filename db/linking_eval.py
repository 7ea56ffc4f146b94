"""Measuring linking against a sandbox world's ground truth (关联质量评估).

Person resolution is scored pairwise over mentions (two mentions of one true person ↔ one
resolved person or organisation), matter linking pairwise over records (two records of one
true matter ↔ connected by links staff have not rejected). Only records present in the
database count; a record whose stored parties do not line up with the truth's (a party the
connector could not read) is left out of the person score and counted in ``skipped``.
"""

from __future__ import annotations

import json
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.linking_facts import canonical_persons
from db.models import Link, PartyMention, Record
from domain.linking import PairwiseScore, connected_components, pairwise_score


@dataclass(frozen=True, slots=True)
class LinkingEvaluation:
    persons: PairwiseScore
    matters: PairwiseScore
    records: int
    skipped_records: int


class TruthFileError(ValueError):
    """The ground-truth file is not one ``govhub sandbox --truth`` writes."""


_RECORD_KEYS = ("system", "key", "matter", "storyline")


def load_truth(path: Path) -> dict[str, Any]:
    """The sandbox's ground truth (``govhub sandbox --truth``); :class:`TruthFileError` saying
    what is wrong with a file that is not one."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TruthFileError(f"{path}: not a JSON ground truth ({exc})") from exc
    records = document.get("records") if isinstance(document, dict) else None
    if not isinstance(records, list):
        raise TruthFileError(f"{path}: no \"records\" list (written by govhub sandbox --truth?)")
    for index, record in enumerate(records):
        missing = [k for k in _RECORD_KEYS if not isinstance(record, dict) or k not in record]
        if missing:
            raise TruthFileError(f"{path}: records[{index}] lacks {', '.join(missing)}")
    truth: dict[str, Any] = document
    return truth


async def evaluate_linking(session: AsyncSession, truth: dict[str, Any]) -> LinkingEvaluation:
    """Score what the database holds now against ``truth`` (``sandbox.world.write_truth``)."""
    by_key = {(r["system"], r["key"]): r for r in truth["records"]}
    records: dict[int, dict[str, Any]] = {}
    tombstones: set[int] = set()
    for rid, source, key, deleted in await session.execute(
        select(Record.id, Record.source, Record.source_key, Record.deleted)
    ):
        if (source.value, key) in by_key:
            records[rid] = by_key[(source.value, key)]
            if deleted:
                tombstones.add(rid)
    canonical = await canonical_persons(session)
    mentions: dict[int, list[tuple[int, Hashable]]] = {}
    rows = await session.execute(
        select(
            PartyMention.id, PartyMention.record_id, PartyMention.position,
            PartyMention.person_id, PartyMention.organisation_id,
        ).order_by(PartyMention.record_id, PartyMention.position)
    )  # fmt: skip
    for mid, rid, _position, pid, oid in rows:
        label: Hashable = (
            ("person", canonical.get(pid, pid)) if pid is not None
            else ("organisation", oid) if oid is not None else ("unresolved", mid)
        )  # fmt: skip
        mentions.setdefault(rid, []).append((mid, label))
    true_person: dict[Hashable, Hashable] = {}
    predicted_person: dict[Hashable, Hashable] = {}
    skipped = 0
    for rid, record in records.items():
        stored = mentions.get(rid, [])
        if not stored and rid in tombstones:
            continue  # first seen already deleted: a tombstone names no one
        if len(stored) != len(record["parties"]):
            skipped += 1
            continue
        for (mid, label), party in zip(stored, record["parties"], strict=True):
            true_person[mid] = party["person"]
            predicted_person[mid] = label
    links = await session.execute(
        select(Link.from_record_id, Link.to_record_id).where(
            or_(Link.decision.is_(None), Link.decision != "REJECTED")
        )
    )
    components = connected_components(records, [(a, b) for a, b in links])
    true_matter: dict[Hashable, Hashable] = {rid: r["matter"] for rid, r in records.items()}
    return LinkingEvaluation(
        persons=pairwise_score(true_person, predicted_person),
        matters=pairwise_score(true_matter, components),
        records=len(records),
        skipped_records=skipped,
    )
