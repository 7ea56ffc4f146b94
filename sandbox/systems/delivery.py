"""Record-level faults: malformed records, duplicates, out-of-order versions, schema drift.

Malformed records are chosen once, deterministically from the world seed, the system and the
rate (:func:`choose_malformed`), and are broken the same way on every delivery, so a
reconciliation against ``/_sandbox/stats`` is exact. Kinds:

``bad_id_check``      an 18-digit ID number (身份证号) with a wrong check character
``missing_required``  the first plain field after the key is left out (CSV: an empty cell)
``impossible_date``   a date field set to the 30th of February
``broken_encoding``   a Chinese text field carrying bytes that are not valid text: a lone
                      surrogate ``\\udcff\\udcfe`` in JSON, raw ``0xFF 0xFE`` in the GBK CSV,
                      the classic mojibake ``锟斤拷`` in 110 XML (raw bytes would break the
                      whole SOAP document)
``broken_element``    110 only: ``BJSJ`` arrives as a misspelt trailing element ``BJSJ_ERR``

A kind that does not apply to a payload (no ID number, no date) falls back to
``missing_required``. Keys added later by ``mutate`` are never malformed.
"""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Callable
from typing import Any

from sandbox.model import SourceRecord
from sandbox.systems.common import Malformation, SystemContext

GENERIC_KINDS = ("bad_id_check", "missing_required", "impossible_date", "broken_encoding")
TIME_FIELDS = frozenset({"GXSJ", "updateTime", "updatedAt", "modifiedAt", "更新时间"})
BROKEN_BYTES = "\udcff\udcfe"
"""Encodes (``errors="surrogateescape"``) to the bytes 0xFF 0xFE, invalid in GBK and UTF-8."""

_ID = re.compile(r"^\d{17}[\dXx]$")
_DATE = re.compile(
    r"^((?:19|20)\d{2})([-/]?)(0[1-9]|1[0-2])\2(0[1-9]|[12]\d|3[01])(?=$|[ T]|\d{6}$)")
_CHINESE_DATE = re.compile(r"^((?:19|20)\d{2})年\d{1,2}月\d{1,2}日")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_check_char(first17: str) -> str:
    """The GB 11643 check character of an ID number's first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def choose_malformed(ctx: SystemContext, rate: float) -> dict[str, Malformation]:
    """Pick ``rate`` of the live keys and a kind for each, reproducibly from the seed."""
    if rate <= 0:
        return {}
    kinds = ctx.malformed_kinds or GENERIC_KINDS
    rng = random.Random(f"{ctx.world.seed}:{ctx.system}:malformed:{rate}")
    keys = sorted(k for k, r in ctx.store.latest.items() if not r.deleted)
    chosen = rng.sample(keys, min(len(keys), max(1, round(rate * len(keys)))))
    result: dict[str, Malformation] = {}
    for key in sorted(chosen):
        _, result[key] = malform(ctx.store.latest[key].payload, key, rng.choice(kinds))
    return result


def malform(
    payload: dict[str, Any], key: str, kind: str, mojibake: str | None = None,
) -> tuple[dict[str, Any], Malformation]:
    """Return a broken deep copy of ``payload`` and how it was broken (kind actually applied)."""
    broken = copy.deepcopy(payload)
    protected = {name for name, value in broken.items() if value == key} | TIME_FIELDS
    if kind == "broken_element" and "BJSJ" in broken:
        broken["BJSJ_ERR"] = broken.pop("BJSJ")
        return broken, Malformation(kind, "BJSJ")
    for container, name, value in _string_leaves(broken, protected):
        if kind == "bad_id_check" and _ID.match(value):
            wrong = "0" if id_check_char(value[:17]) != "0" else "1"
            container[name] = value[:17] + wrong
            return broken, Malformation(kind, str(name))
        if kind == "impossible_date" and (match := _DATE.match(value)):
            year, dash = match.group(1), match.group(2)
            container[name] = f"{year}{dash}02{dash}30" + value[match.end():]
            return broken, Malformation(kind, str(name))
        if kind == "impossible_date" and (match := _CHINESE_DATE.match(value)):
            container[name] = f"{match.group(1)}年2月30日" + value[match.end():]
            return broken, Malformation(kind, str(name))
        if kind == "broken_encoding" and _CJK.search(value):
            container[name] = mojibake if mojibake else value[:1] + BROKEN_BYTES + value[1:]
            return broken, Malformation(kind, str(name))
    for name, value in list(broken.items()):
        if name not in protected and isinstance(value, str):
            del broken[name]
            return broken, Malformation("missing_required", name)
    return broken, Malformation("missing_required", "")


def _string_leaves(
    node: Any, protected: set[str],
) -> list[tuple[Any, Any, str]]:
    """(container, key, value) of every string value, depth first, skipping protected keys."""
    found: list[tuple[Any, Any, str]] = []
    items: list[tuple[Any, Any]] = (
        list(node.items()) if isinstance(node, dict) else list(enumerate(node))
    )
    for name, value in items:
        if isinstance(name, str) and name in protected:
            continue
        if isinstance(value, str):
            found.append((node, name, value))
        elif isinstance(value, dict | list):
            found.extend(_string_leaves(value, set()))
    return found


def deliver(
    ctx: SystemContext,
    page: list[SourceRecord],
    render: Callable[[SourceRecord], dict[str, Any]],
    drift_field: str,
    mojibake: str | None = None,
    *,
    stale_versions: bool = True,
) -> list[dict[str, Any]]:
    """Render one page of records with the record-level faults currently switched on.

    ``stale_versions=False`` keeps ``out_of_order`` from adding older versions (a CSV row
    carries no update time, so a stale row could not be told apart).

    Paging is computed by the caller on the clean, ordered set; duplicates and stale
    versions are *extra* items inserted into the page, never replacing a latest one.
    """
    state, settings = ctx.faults, ctx.faults.settings
    out: list[dict[str, Any]] = []

    def one(record: SourceRecord) -> dict[str, Any]:
        payload = render(record)
        flaw = ctx.malformed.get(record.key)
        if flaw is not None and not record.deleted:
            payload, _ = malform(payload, record.key, flaw.kind, mojibake)
            state.count("malformed")
        if settings.schema_drift:
            payload = {**payload, drift_field: "v2"}
            state.count("schema_drift")
        return payload

    for record in page:
        item = one(record)
        out.append(item)
        if state.chance(settings.duplicate_rate):
            out.append(copy.deepcopy(item))
            state.count("duplicate")
        stale = ctx.store.previous.get(record.key)
        if stale_versions and settings.out_of_order and stale is not None:
            out.append(one(stale))
            state.count("out_of_order")
    return out
