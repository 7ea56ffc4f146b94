"""A request's figures settled (统计结果): grouped counts, empty buckets as zero, rankings and
the population behind 万人起诉率 — what ``recordStats``/``recordKpis`` and ``govhub report``
share, so a screen and the monthly review never disagree.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.figure_summary import counted_groups
from db.queries import REGIONS, RecordScope, region_prefix, region_range
from db.stats import Group, GroupKey, StatQuery
from domain.scope import outermost_prefixes
from domain.stats import (
    KpiId,
    StatDimension,
    TimeBucket,
    beijing_date,
    buckets_between,
)
from domain.validators import division_of_prefix

MAX_GROUPS = 5_000
"""Groups one request may return (a daily trend of three years by county stays well within)."""


class TooManyGroups(ValueError):
    """The figures asked for have more groups than :data:`MAX_GROUPS`."""


async def region_population(
    connection: AsyncConnection, codes: Sequence[str]
) -> dict[str, int | None]:
    """Each region's population as the region tree records it (``None`` when unknown)."""
    if not codes:
        return {}
    rows = await connection.execute(
        select(REGIONS.c.code, REGIONS.c.population).where(REGIONS.c.code.in_(sorted(set(codes))))
    )
    return {code: population for code, population in rows}


def with_empty_buckets(
    groups: list[Group], bucket: TimeBucket, first: date | None, last: date | None
) -> list[Group]:
    """``groups`` plus a zero group for every bucket from ``first`` to ``last`` (defaults: the
    first and last bucket counted) that a series (the groups sharing all but the period)
    lacks, so a chart has no holes. With nothing counted and no other dimension, one series
    of zeros."""
    periods = [group.key.period for group in groups if group.key.period is not None]
    low = first or (min(periods) if periods else None)
    high = last or (max(periods) if periods else None)
    if low is None or high is None:
        return groups
    series = {replace(group.key, period=None) for group in groups} or {GroupKey()}
    present = {group.key for group in groups}
    filled = list(groups)
    for start in buckets_between(low, high, bucket):
        for base in series:
            key = replace(base, period=start)
            if key not in present:
                filled.append(Group(key))
    return filled


def _order(group: Group) -> tuple[str, ...]:
    key = group.key
    values = (key.kind, key.source, key.category, key.status, key.risk_level)
    return (
        key.period.isoformat() if key.period else "",
        key.region_code or "",
        *(str(value or "") for value in values),
    )


def _reached(code: str, scope: RecordScope) -> list[str]:
    """The regions whose people count for ``code`` within the jurisdiction (辖区内人口): the
    region itself when the jurisdiction holds it whole, else the jurisdiction's regions inside
    it (a county's dashboard asking for its city counts the county's filings, so the county's
    people), none outside it."""
    prefixes = scope.region_prefixes
    own = region_prefix(code)
    if "" in prefixes or any(own.startswith(prefix) for prefix in prefixes):
        return [code]
    return _codes_of([prefix for prefix in prefixes if prefix.startswith(own)])


def _codes_of(prefixes: Sequence[str]) -> list[str]:
    """The region codes of jurisdiction prefixes, each region once: a prefix inside another
    (a token naming a city and one of its counties) adds no people of its own."""
    return [division_of_prefix(prefix) for prefix in outermost_prefixes(prefixes)]


def _narrowed(code: str, region: str | None) -> str:
    """The region a group of ``code`` counts: the filter's ``region`` when it lies inside
    (a township's figures rolled up to its county are the township's, and so are its people)."""
    if region is not None and region_prefix(region).startswith(region_prefix(code)):
        return region
    return code


def _population_codes(query: StatQuery, scope: RecordScope) -> list[str]:
    """The regions whose population is the denominator when figures are not by region: the
    filter's region within the jurisdiction, else the jurisdiction's (none for an unlimited
    one)."""
    if query.criteria.region_code is not None:
        return _reached(query.criteria.region_code, scope)
    if "" in scope.region_prefixes:
        return []
    return _codes_of(scope.region_prefixes)


def _population(known: dict[str, int | None], codes: Sequence[str]) -> int | None:
    """The people of ``codes`` together; ``None`` when there are none or one is unknown."""
    counted = [known.get(code) for code in codes]
    return sum(n or 0 for n in counted) if counted and None not in counted else None


def _within(inner: str, outer: str) -> bool:
    return inner != outer and region_prefix(inner).startswith(region_prefix(outer))


def _shown_beneath(code: str, shown: Collection[str]) -> list[str]:
    """The regions of ``shown`` inside ``code`` and inside no other of them."""
    inside = [other for other in shown if _within(other, code)]
    return [other for other in inside if not any(_within(other, o) for o in inside)]


async def _with_populations(
    connection: AsyncConnection, query: StatQuery, scope: RecordScope, groups: list[Group]
) -> None:
    """Put each group's population in as 万人起诉率's denominator (``None`` when unknown): the
    people of its region (or of the filter's) within the jurisdiction — but for a region
    shown beside finer ones inside it (a county that counted records placed at the county,
    beside its townships), only its people outside them, so that the rows add up to the
    whole (numerators and denominators summed) and count nobody twice."""
    kpi = KpiId.LITIGATION_PER_10K
    by_region = StatDimension.REGION in query.dimensions
    if by_region:
        reached = {
            code: _reached(_narrowed(code, query.criteria.region_code), scope)
            for code in {group.key.region_code for group in groups if group.key.region_code}
        }
    else:
        reached = {"": _population_codes(query, scope)}
    known = await region_population(
        connection, [code for codes in reached.values() for code in codes]
    )
    shown: dict[GroupKey, set[str]] = {}  # the regions of a series (all else the same)
    for group in groups:
        if by_region and group.key.region_code:
            series = replace(group.key, region_code=None)
            shown.setdefault(series, set()).add(group.key.region_code)
    for group in groups:
        region = (group.key.region_code or "") if by_region else ""
        population = _population(known, reached.get(region, []))
        if region and population is not None:
            inner = [
                _population(known, reached[other])
                for other in _shown_beneath(region, shown[replace(group.key, region_code=None)])
            ]
            rest = None if None in inner else population - sum(n or 0 for n in inner)
            population = rest if rest is not None and rest >= 0 else None
        group.kpis[kpi] = (group.kpis.get(kpi, (0, None))[0], population)


async def _with_every_region(
    connection: AsyncConnection, query: StatQuery, scope: RecordScope, groups: list[Group]
) -> list[Group]:
    """By region only, 万人起诉率 asks for every region of the level within the filter and the
    jurisdiction: one that counted no record still has people, so it is a group of zeros
    (with its population, :func:`_with_populations`) and the regions' rows add up to the whole
    — unless a coarser region holding it counted records (placed no finer than it, as court
    filings are at their county): its filings may be among those, so it gets no row of zeros.
    With a bucket, such a region gets the periods the others have (and the empty ones)."""
    if query.dimensions != (StatDimension.REGION,) or not scope.region_prefixes:
        return groups  # no placed record read: no region to add
    c = REGIONS.c
    conditions = [c.level == query.region_level]
    if query.criteria.region_code is not None:
        low, high = region_range(query.criteria.region_code)
        conditions += [c.code >= low, c.code < high]
    if "" not in scope.region_prefixes:
        conditions.append(or_(*(c.code.startswith(p) for p in sorted(scope.region_prefixes))))
    codes = (await connection.scalars(select(c.code).where(*conditions))).all()
    present = {group.key.region_code for group in groups}
    periods = sorted({group.key.period for group in groups if group.key.period is not None})
    if query.bucket is not None and not periods:
        return groups  # nothing counted at all: one series of zeros (with_empty_buckets)
    # a region beneath a counted coarser one (filings placed only at their court's county)
    # may have had filings counted there: its own figure is unknown, not zero
    coarser = [region_prefix(code) for code in present if code]
    missing = [
        code
        for code in codes
        if code not in present and not any(code.startswith(p) and code != p for p in coarser)
    ]
    added = [
        Group(GroupKey(region_code=code, period=period))
        for code in missing
        for period in (periods if query.bucket is not None else [None])
    ]
    if len(groups) + len(added) > MAX_GROUPS:
        return groups  # (villages by day): the counted regions alone, as before
    return groups + added


def _settled(groups: list[Group], query: StatQuery, top: int | None) -> list[Group]:
    """In key order (periods first); with a bucket, every period of the filter's range (else
    from the first to the last counted), empty ones as zero; with ``top``, only the ``top``
    largest groups, largest first. ``TooManyGroups`` past :data:`MAX_GROUPS`."""
    if top is not None:
        groups = sorted(groups, key=lambda group: (-group.count, _order(group)))[:top]
    elif query.bucket is not None:
        criteria = query.criteria
        first = beijing_date(criteria.occurred_from) if criteria.occurred_from else None
        last = (
            beijing_date(criteria.occurred_to - timedelta(microseconds=1))
            if criteria.occurred_to
            else None
        )
        groups = sorted(with_empty_buckets(groups, query.bucket, first, last), key=_order)
    else:
        groups = sorted(groups, key=_order)
    if len(groups) > MAX_GROUPS:
        raise TooManyGroups(
            f"These figures have {len(groups)} groups, more than {MAX_GROUPS}: group by less, "
            "use a coarser bucket or a shorter period."
        )
    return groups


FigureRequest = tuple[StatQuery, int | None]
"""A query and its ``top`` (``None``: every group)."""


async def figures_many(
    connection: AsyncConnection, requests: Sequence[FigureRequest], scope: RecordScope
) -> list[list[Group] | TooManyGroups]:
    """The settled groups of each request (see :func:`figures`), counted together
    (``db.figure_summary.counted_groups``: from the summary table where it can answer); a
    request with too many groups gets its error."""
    counted = await counted_groups(connection, [query for query, _ in requests], scope)
    results: list[list[Group] | TooManyGroups] = []
    for (query, top), groups in zip(requests, counted, strict=True):
        if KpiId.LITIGATION_PER_10K in query.kpis and top is None:
            groups = await _with_every_region(connection, query, scope, groups)
        try:
            settled = _settled(groups, query, top)
        except TooManyGroups as exc:
            results.append(exc)
            continue
        if KpiId.LITIGATION_PER_10K in query.kpis:
            await _with_populations(connection, query, scope, settled)
        results.append(settled)
    return results


async def figures(
    connection: AsyncConnection, query: StatQuery, scope: RecordScope, *, top: int | None = None
) -> list[Group]:
    """The groups of ``query`` within ``scope``, settled: in key order (periods first), every
    period of a bucketed range there (empty ones as zero), or the ``top`` largest first.
    ``TooManyGroups`` past :data:`MAX_GROUPS`."""
    (result,) = await figures_many(connection, [(query, top)], scope)
    if isinstance(result, TooManyGroups):
        raise result
    return result
