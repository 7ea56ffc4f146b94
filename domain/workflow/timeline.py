"""What a matter's timeline shows of the records it names (办理记录中的记录引用).

Timeline rows name records by id in their details: ``record_id`` (a record that joined, was
attached to or detached from the matter) and ``evidence_record_id`` (the synced record a
result, an acceptance (受理) or a conclusion (办结) was taken from). Reading a matter is not
reading its records: a partner department reads only its own kinds, staff of one county only
their county. So a reference is shown only when the reader may read that record (the record
scope, as reading the record applies it); otherwise it is :data:`OUTSIDE` (辖区外记录, the
placeholder of risk evidence), and so is what else the row says of that record: its ``kind``
(a PETITION linked is news in itself), the source's dates and status (:data:`ABOUT_RECORD`),
the note of a row about it — the hub's ``SOURCE key`` of a record joined by write-back, a
detach reason — and the note of any row the hub wrote citing it (automatic feedback notes
``SOURCE key: STATUS`` beside ``evidence_record_id``). A person's note is theirs and stays,
whatever record their row cites.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from domain.risk.redaction import OUTSIDE

RECORD_DETAILS = ("record_id", "evidence_record_id")
"""Detail keys whose value is a record's id."""
SUBJECT = "record_id"
"""The detail naming the record a row is about (its note speaks of it)."""
ABOUT_RECORD = (
    "kind", "source_accepted", "source_deadline", "source_date_ignored", "record_status",
)
"""Detail keys that describe the row's record: redacted with it (its kind; the source's 受理
date and 办理期限 on a system 受理 row; its status on a 来源系统已办结 row)."""


def _record_id(value: str) -> int | None:
    return int(value) if value.isdecimal() else None


def cited_record_ids(details: Iterable[Mapping[str, str]]) -> set[int]:
    """Every record id the rows' details name."""
    return {
        record_id
        for detail in details
        for key in RECORD_DETAILS
        if key in detail and (record_id := _record_id(detail[key])) is not None
    }


def redact_entry(
    note: str, details: Mapping[str, str], visible: Callable[[int], bool],
    *, automatic: bool,
) -> tuple[str, dict[str, str]]:
    """A row's note and details with each record the reader may not read replaced by
    :data:`OUTSIDE` (an id that does not parse counts as such: deny by default), with what
    the row says of it: its kind, and its note when the row is about such a record or the
    hub wrote it (``automatic``: a system row's note names the records it cites)."""
    shown = dict(details)
    hidden = False
    for key in RECORD_DETAILS:
        if key not in shown:
            continue
        record_id = _record_id(shown[key])
        if record_id is None or not visible(record_id):
            shown[key] = OUTSIDE
            hidden = True
            if key == SUBJECT:
                note = ""
    if hidden:
        for key in ABOUT_RECORD:
            if key in shown:
                shown[key] = OUTSIDE
        if automatic:
            note = ""
    return note, shown
