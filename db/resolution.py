"""Storing person and organisation resolution (人员归一入库).

Two entry points:

* :func:`resolve_all` — a full run: every mention not fixed by staff is re-clustered. Clusters
  keep the person id most of their mentions already had, so ids stay stable across runs.
* :func:`resolve_new_mentions` — the incremental step, meant to run after each sync batch:
  only mentions with no person (or organisation) yet are resolved, against the stored persons
  that could match them (same ID index, same phone index, or a record in the same county).
  It then re-links the records those mentions belong to. The sync engine calls it after
  about every thousand changed records (see :mod:`connectors.sync`).

ID numbers and phones are decrypted only in memory — the birth date and, for a new person,
the sealed copy on its row come from them; everything else matches on blind indexes.
Staff decisions are never overridden: ``staff_decided`` mentions keep their person (and
anchor the clustering), and a person merged by staff (``merged_into_id``) stands for its
target. Neither kind of run merges two stored persons; that stays a staff decision.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Table, and_, bindparam, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from db.blocking import candidates
from db.bulk import insert_returning, update_rows
from db.linking_facts import MentionRow, canonical_persons, load_mention_rows
from db.matter_links import link_records
from db.models import Organisation, PartyMention, Person, Record
from db.queries import column_scalars, in_list
from domain.enums import SourceSystem
from domain.jsontext import column_json
from domain.linking import (
    MentionFacts,
    NewPerson,
    OrganisationFacts,
    PersonMatch,
    PersonResolver,
    resolve_organisations,
    resolve_persons,
)
from domain.linking.evidence import PreparedMention, name_block_keys
from domain.linking.organisations import KnownOrganisation, organisation_name_key
from domain.linking.persons import PersonKey
from domain.validators import InvalidIdentifier, birth_date_from_resident_id

_WRITE_BATCH = 2000


@dataclass
class ResolutionCounts:
    """What a run did."""

    mentions: int = 0
    persons_created: int = 0
    organisations_created: int = 0
    reassigned: int = 0
    links_written: int = 0
    links_removed: int = 0
    records_linked: set[int] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class _Loaded:
    """A person mention as loaded, with its plaintext identifiers (memory only)."""

    facts: MentionFacts
    id_number: str | None
    phone: str | None


@dataclass
class _Births:
    """Birth dates by the blind index of the ID number they were read from, for one day."""

    day: date | None = None
    dates: dict[str, date | None] = field(default_factory=dict)


_BIRTHS = _Births()
_BIRTHS_MAX = 16384
"""Birth dates remembered (about 4 MB): as many as :data:`domain.linking.names.NAME_CACHE`."""


def _birth(id_number: str | None, id_index: str | None) -> date | None:
    """The birth date in a mention's ID number; None without one or when it is not valid.

    Remembered by the number's blind index (never the number itself) for the day: a person's
    number is read again with each of their mentions, in every pass that loads them. The
    recent ones are enough (:data:`_BIRTHS_MAX`), and a new day starts afresh (a number whose
    birth date was still to come becomes valid).
    """
    if not id_number:
        return None
    today = date.today()
    known = _BIRTHS.dates
    if _BIRTHS.day != today or len(known) >= _BIRTHS_MAX:
        known.clear()
        _BIRTHS.day = today
    if id_index is not None and id_index in known:
        return known[id_index]
    try:
        born: date | None = birth_date_from_resident_id(id_number, today=today)
    except InvalidIdentifier:
        born = None
    if id_index is not None:
        known[id_index] = born
    return born


async def _load(
    session: AsyncSession,
    where: Any = None,
    records: set[int] | None = None,
    params: dict[str, Any] | None = None,
) -> tuple[list[_Loaded], list[OrganisationFacts]]:
    rows = await load_mention_rows(session, where, params)
    return _facts_of(rows, await canonical_persons(session), records)


def _facts_of(
    rows: Iterable[MentionRow], canonical: Mapping[int, int], records: set[int] | None = None
) -> tuple[list[_Loaded], list[OrganisationFacts]]:
    """Mentions as the resolvers take them (a staff merge's person stands for the merged
    one); ``records`` collects their records."""
    persons: list[_Loaded] = []
    organisations: list[OrganisationFacts] = []
    for row in rows:
        if records is not None:
            records.add(row.record_id)
        if row.organisation:
            organisations.append(
                OrganisationFacts(
                    row.mention_id, row.name, row.uscc, row.region_code, row.organisation_id,
                    row.staff_decided,
                )
            )  # fmt: skip
            continue
        person_id = canonical.get(row.person_id, row.person_id) if row.person_id else None
        facts = MentionFacts(
            mention_id=row.mention_id,
            name=row.name,
            record_id=None if row.reporter else row.record_id,
            id_index=row.id_index,
            phone_index=row.phone_index,
            birth_date=_birth(row.id_number, row.id_index),
            region_code=row.region_code,
            address=row.address,
            person_id=person_id,
            staff_decided=row.staff_decided,
        )
        persons.append(_Loaded(facts, row.id_number, row.phone))
    return persons, organisations


def _most_common(values: Sequence[str | None]) -> str | None:
    """The value given most often (the first of those tied), empty ones left out."""
    present = [value for value in values if value]
    if not present:
        return None
    first = present[0]
    if present.count(first) == len(present):  # most persons: one mention, or one value
        return first
    return Counter(present).most_common(1)[0][0]


_PERSONS: Table = Person.__table__  # type: ignore[assignment]  # a declarative model's table
_SUMMARY = ("name", "id_number", "id_number_index", "phone", "phone_index", "birth_date",
            "region_code")  # fmt: skip
_CURRENT = ("id", "name", "id_number_index", "phone_index", "region_code")
"""What a stored person's summary is compared by: its identifiers by their blind indexes, so
no sealed value is opened to learn it is unchanged."""


async def _materialise(
    session: AsyncSession, matches: Sequence[PersonMatch], loaded: dict[int, _Loaded]
) -> tuple[dict[PersonKey, int], int]:
    """Choose a stored person for every cluster: the one most members had, else a new row."""
    members: dict[PersonKey, list[_Loaded]] = {}
    for match in matches:
        members.setdefault(match.person, []).append(loaded[match.mention_id])
    chosen: dict[PersonKey, int] = {k: k for k in members if isinstance(k, int)}
    taken = set(chosen.values())
    created: list[tuple[PersonKey, dict[str, Any]]] = []
    for key, group in sorted(members.items(), key=lambda kv: -len(kv[1])):
        if isinstance(key, int):
            continue
        votes = Counter(m.facts.person_id for m in group if m.facts.person_id is not None)
        previous = next((pid for pid, _ in votes.most_common() if pid not in taken), None)
        if previous is None:
            blank = dict.fromkeys(_SUMMARY)
            created.append((key, blank | _summary(group, blank | {"name": group[0].facts.name})))
            continue
        chosen[key] = previous
        taken.add(previous)
    stored = dict(chosen)
    if created:  # in bulk (an ORM object per person cost more than the row): on PostgreSQL
        # ids from the sequence and a COPY, not a multi-row INSERT whose text (and prepared
        # statement, thousands of parameters) changes with every count of new persons
        now = datetime.now(UTC)
        rows = [{**values, "merged_into_id": None, "created_at": now} for _, values in created]
        ids = await insert_returning(session, _PERSONS, rows)
        chosen.update((key, pid) for (key, _), pid in zip(created, ids, strict=True))
    await _refresh_persons(session, members, stored)
    return chosen, len(created)


async def _refresh_persons(
    session: AsyncSession, members: dict[PersonKey, list[_Loaded]], chosen: dict[PersonKey, int]
) -> None:
    """Keep each person's summary (name, sealed identifiers, birth date, region) current:
    one bulk update per set of columns that change (``db.bulk.update_rows``)."""
    ids = sorted(set(chosen.values()))
    current: dict[int, Any] = {}
    columns = [_PERSONS.c[name] for name in _CURRENT]
    for start in range(0, len(ids), _WRITE_BATCH):
        rows = await session.execute(
            select(*columns).where(
                in_list(_PERSONS.c.id, "ids"), _PERSONS.c.merged_into_id.is_(None)
            ),
            {"ids": ids[start : start + _WRITE_BATCH]},
        )
        current.update((row.id, row._asdict()) for row in rows)
    changes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for key, pid in chosen.items():
        person = current.get(pid)
        if person is None:  # gone, or merged by staff: its target stands for it
            continue
        values = {
            name: value for name, value in _summary(members[key], person).items()
            if value != person.get(name, _UNSET)
        }  # fmt: skip
        if values:
            changes.setdefault(tuple(sorted(values)), []).append({"id": pid, **values})
    for names, changed in changes.items():
        for start in range(0, len(changed), _WRITE_BATCH):
            await update_rows(session, _PERSONS, names, changed[start : start + _WRITE_BATCH])
        _refresh_loaded(session, changed)


_UNSET = object()


def _refresh_loaded(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Give persons this session holds as objects (a staff decision's) their new summary."""
    loaded = {obj.id: obj for obj in session.identity_map.values() if isinstance(obj, Person)}
    for values in rows if loaded else ():
        person = loaded.get(values["id"])
        for name, value in values.items() if person is not None else ():
            if name != "id":
                set_committed_value(person, name, value)


def _summary(group: Sequence[_Loaded], person: dict[str, Any]) -> dict[str, Any]:
    """A person's summary (name, sealed identifiers with their blind indexes, birth date,
    region) from its mentions, over what ``person`` holds now (its identifiers by their blind
    indexes); only the identifiers that change are given.

    A mention's blind indexes are those of its identifiers (``db.models.parties``), so the
    most common identifier is found, and compared, by its index, and its birth date is the
    one its mention was loaded with."""
    full_names = [m.facts.name for m in group if len(m.facts.name) >= 2]
    name = _most_common([n for n in full_names if not n.endswith(("先生", "女士"))])
    values: dict[str, Any] = {"name": (name or person["name"])[:64]}
    id_number = _most_common_carrier(group, [m.facts.id_index for m in group])
    if id_number is not None and person["id_number_index"] != id_number.facts.id_index:
        values["id_number"] = id_number.id_number
        values["id_number_index"] = id_number.facts.id_index
        values["birth_date"] = id_number.facts.birth_date
    phone = _most_common_carrier(group, [m.facts.phone_index for m in group])
    if phone is not None and person["phone_index"] != phone.facts.phone_index:
        values["phone"] = phone.phone
        values["phone_index"] = phone.facts.phone_index
    region = max((m.facts.region_code or "" for m in group), key=len)
    values["region_code"] = region or person["region_code"]
    return values


def _most_common_carrier(group: Sequence[_Loaded], indexes: list[str | None]) -> _Loaded | None:
    """The first mention of ``group`` whose blind index (``indexes``, one per mention) is the
    one given most often; None when none is given."""
    index = _most_common(indexes)
    return None if index is None else group[indexes.index(index)]


async def _write_matches(
    session: AsyncSession,
    matches: Sequence[PersonMatch],
    chosen: dict[PersonKey, int],
    loaded: dict[int, _Loaded],
) -> int:
    rows = []
    moved = 0
    for match in matches:
        mention = loaded[match.mention_id].facts
        if mention.staff_decided:
            continue
        person_id = chosen[match.person]
        moved += mention.person_id is not None and mention.person_id != person_id
        rows.append(
            {"mid": match.mention_id, "pid": person_id, "conf": match.confidence,
             "ev": match.evidence}
        )  # fmt: skip
    await _bulk_update(session, rows, person_id="pid")
    return moved


async def _bulk_update(session: AsyncSession, rows: list[dict[str, Any]], **target: str) -> None:
    """Set each mention's person (or organisation), confidence and evidence: on PostgreSQL
    one ``UPDATE … FROM unnest(…)`` per chunk, not a statement per mention."""
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        [(column, param)] = target.items()
        unnest = text(
            f"UPDATE party_mentions AS m SET {column} = v.target, match_confidence = v.conf, "  # noqa: S608 -- fixed names
            "match_evidence = CAST(v.ev AS json) FROM unnest(CAST(:mid AS integer[]), "
            "CAST(:target AS integer[]), CAST(:conf AS float8[]), CAST(:ev AS text[])) "
            "AS v(mid, target, conf, ev) WHERE m.id = v.mid"
        )
        for start in range(0, len(rows), _UNNEST_BATCH):
            chunk = rows[start : start + _UNNEST_BATCH]
            await session.execute(unnest, {
                "mid": [row["mid"] for row in chunk], "target": [row[param] for row in chunk],
                "conf": [row["conf"] for row in chunk],
                "ev": [column_json(row["ev"]) for row in chunk],
            })  # fmt: skip
        return
    statement = (
        update(PartyMention.__table__)  # type: ignore[arg-type]  # a Core update on the table
        .where(PartyMention.__table__.c.id == bindparam("mid"))
        .values(
            match_confidence=bindparam("conf"),
            match_evidence=bindparam("ev"),
            **{column: bindparam(param) for column, param in target.items()},
        )
    )
    for start in range(0, len(rows), _WRITE_BATCH):
        await session.execute(statement, rows[start : start + _WRITE_BATCH])


_UNNEST_BATCH = 10000


async def _resolve_organisations(
    session: AsyncSession, mentions: list[OrganisationFacts], counts: ResolutionCounts
) -> None:
    if not mentions:
        return
    matches = resolve_organisations(mentions, await _known_organisations(session, mentions))
    facts = {m.mention_id: m for m in mentions}
    created: dict[object, Organisation] = {}
    for match in matches:
        target = match.organisation
        if isinstance(target, NewPerson) and target not in created:
            fact = facts[match.mention_id]
            created[target] = Organisation(
                name=fact.name[:128], uscc=fact.uscc, region_code=fact.region_code
            )
    if created:  # one multi-row INSERT, not a flush per organisation
        session.add_all(created.values())
        await session.flush()
        counts.organisations_created += len(created)
    rows = []
    for match in matches:
        if facts[match.mention_id].staff_decided:
            continue
        target = match.organisation
        oid = created[target].id if isinstance(target, NewPerson) else target
        rows.append(
            {"mid": match.mention_id, "oid": oid, "conf": match.confidence,
             "ev": match.evidence}
        )  # fmt: skip
    await _bulk_update(session, rows, organisation_id="oid")


async def _known_organisations(
    session: AsyncSession, mentions: list[OrganisationFacts]
) -> list[KnownOrganisation]:
    """The stored organisations ``mentions`` can match, in id order: those holding one of
    their credit codes, or one of their names as compared (``name_key``, indexed) — not every
    organisation of their counties, on every pass. Those named alike in another county are
    read too, and never matched (a name matches within its county)."""
    table = Organisation.__table__.c
    codes = sorted({m.uscc for m in mentions if m.uscc})
    names = sorted({organisation_name_key(m.name) for m in mentions})
    found: dict[int, KnownOrganisation] = {}
    for column, values in ((table.uscc, codes), (table.name_key, names)):
        for start in range(0, len(values), _WRITE_BATCH):
            stored = await session.execute(
                select(table.id, table.name, table.uscc).where(in_list(column, "values")),
                {"values": values[start : start + _WRITE_BATCH]},
            )
            found.update((oid, KnownOrganisation(oid, name, uscc)) for oid, name, uscc in stored)
    return [found[oid] for oid in sorted(found)]


async def _finish(
    session: AsyncSession,
    matches: list[PersonMatch],
    loaded: dict[int, _Loaded],
    organisations: list[OrganisationFacts],
    counts: ResolutionCounts,
) -> None:
    chosen, created = await _materialise(session, matches, loaded)
    counts.persons_created += created
    counts.reassigned += await _write_matches(session, matches, chosen, loaded)
    counts.mentions += len(matches) + len(organisations)
    await _resolve_organisations(session, organisations, counts)
    await session.flush()


async def resolve_all(session: AsyncSession, *, link: bool = True) -> ResolutionCounts:
    """Full run: re-cluster every mention (staff decisions kept), then re-link all records."""
    counts = ResolutionCounts()
    persons, organisations = await _load(session)
    loaded = {m.facts.mention_id: m for m in persons}
    matches = resolve_persons([m.facts for m in persons])
    free = [o for o in organisations if not o.staff_decided]
    await _finish(session, matches, loaded, free, counts)
    if link:
        written, removed = await link_records(session, None)
        counts.links_written, counts.links_removed = written, removed
    return counts


async def _candidates(session: AsyncSession, new: Sequence[_Loaded]) -> tuple[list[_Loaded], Any]:
    """Stored mentions that could match ``new`` (the recent members of its blocks, from the
    database: see :mod:`db.blocking`), and the sizes of the name blocks they fill."""
    prepared = [PreparedMention.of(m.facts) for m in new]
    found = await candidates(
        session,
        {key for p in prepared for key in name_block_keys(p.name, p.region)},
        {m.facts.id_index for m in new if m.facts.id_index},
        {m.facts.phone_index for m in new if m.facts.phone_index},
    )
    ids = sorted(found.mention_ids)
    existing: list[_Loaded] = []
    among = in_list(PartyMention.id.expression, "ids")
    for start in range(0, len(ids), _WRITE_BATCH):
        loaded, _ = await _load(session, among, params={"ids": ids[start : start + _WRITE_BATCH]})
        existing.extend(loaded)
    return existing, found.block_sizes


_UNRESOLVED = select(PartyMention.id).where(
    PartyMention.person_id.is_(None),
    PartyMention.organisation_id.is_(None),
    PartyMention.staff_decided.is_(False),
)


async def _load_unresolved(
    session: AsyncSession,
    source: SourceSystem | None,
    records: set[int],
    fresh: Mapping[int, MentionRow],
) -> tuple[list[_Loaded], list[OrganisationFacts]]:
    """The mentions with no person or organisation yet (of ``source``'s records), in id order.

    Their ids first, from the partial index that holds only them, then the mentions by id:
    joined to the records in one statement, PostgreSQL took the unresolved mentions for a
    large share of the table and scanned every record of the source (1.3-1.7 s a pass at
    1,000,000 records, for a few hundred mentions). A mention in ``fresh`` (as it was just
    written) is taken from there instead: still unresolved, it is still what was written."""
    ids = list(await column_scalars(session, _UNRESOLVED.order_by(PartyMention.id)))
    among = and_(
        in_list(PartyMention.id.expression, "ids"),
        *([Record.source == source] if source is not None else []),
    )
    persons, organisations = _facts_of((fresh[i] for i in ids if i in fresh), {}, records)
    stored = [i for i in ids if i not in fresh]
    for start in range(0, len(stored), _WRITE_BATCH):
        chunk = {"ids": stored[start : start + _WRITE_BATCH]}
        found, found_organisations = await _load(session, among, records, params=chunk)
        persons.extend(found)
        organisations.extend(found_organisations)
    if len(stored) < len(ids):
        persons.sort(key=lambda m: m.facts.mention_id)
        organisations.sort(key=lambda m: m.mention_id)
    return persons, organisations


async def resolve_new_mentions(
    session: AsyncSession,
    *,
    link: bool = True,
    source: SourceSystem | None = None,
    relink: Collection[int] = (),
    fresh: Mapping[int, MentionRow] | None = None,
) -> ResolutionCounts:
    """Resolve mentions that have no person or organisation yet, then re-link their records.

    ``source`` limits the run to that source's records (the sync engine resolves each batch
    this way, so a source's resolution never touches rows another source is writing);
    ``relink`` names further records to re-link though none of their mentions is new (a
    changed or withdrawn record). ``fresh`` gives mentions (of ``source``'s records) as they
    were just written, by id (``db.ingest.IngestCounts.mentions``): on PostgreSQL, whose ids
    are never given twice, those still unresolved are not read back. Safe to call after every
    sync batch (the caller commits).
    Existing persons are never merged or split here; see :func:`resolve_all`.
    """
    counts = ResolutionCounts()
    touched: set[int] = set(relink)
    if session.get_bind().dialect.name != "postgresql":
        fresh = None  # SQLite may give a deleted mention's id to a new one: never a sequence's
    new, organisations = await _load_unresolved(session, source, touched, fresh or {})
    if new or organisations:
        resolver = PersonResolver()
        existing, sizes = await _candidates(session, new)
        resolver.add_existing(m.facts for m in existing if m.facts.person_id is not None)
        resolver.block_sizes(sizes)
        loaded = {m.facts.mention_id: m for m in new}
        matches = resolver.resolve([m.facts for m in new])
        await _finish(session, matches, loaded, organisations, counts)
    if link and touched:
        counts.records_linked = touched
        written, removed = await link_records(session, counts.records_linked)
        counts.links_written, counts.links_removed = written, removed
    return counts
