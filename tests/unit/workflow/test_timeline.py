"""Records a matter's timeline names, as a reader sees them (办理记录中的记录引用)."""

from __future__ import annotations

from domain.workflow.timeline import OUTSIDE, cited_record_ids, redact_entry


def test_every_record_named_in_details_is_cited() -> None:
    rows = [{"record_id": "7", "kind": "DISPUTE"}, {"evidence_record_id": "9"}, {"org": "x"}]
    assert cited_record_ids(rows) == {7, 9}


def test_a_record_the_reader_may_read_is_shown_as_it_is() -> None:
    note, details = redact_entry(
        "MEDIATION K1", {"record_id": "1", "kind": "DISPUTE"}, {1}.__contains__, automatic=True
    )
    assert (note, details) == ("MEDIATION K1", {"record_id": "1", "kind": "DISPUTE"})


def test_a_record_out_of_reach_is_a_placeholder_and_the_note_about_it_goes() -> None:
    # given a row about a record the reader may not read (the hub's note names it)
    row = {"record_id": "2", "kind": "PETITION", "reference": "411202-2026-000001-3-court"}
    note, details = redact_entry("PETITION XF2026-17", row, {1}.__contains__, automatic=True)
    # then the record and its kind are 辖区外记录 and the note is left out; the rest stands
    assert note == ""
    assert details == {**row, "record_id": OUTSIDE, "kind": OUTSIDE}
    assert OUTSIDE == "辖区外记录"


def test_a_result_a_person_reported_citing_a_record_out_of_reach_keeps_its_note() -> None:
    # a department's result note is its own, not the record's
    note, details = redact_entry(
        "已调解", {"evidence_record_id": "5"}, lambda _: False, automatic=False)
    assert (note, details) == ("已调解", {"evidence_record_id": OUTSIDE})


def test_a_result_taken_from_a_sync_of_a_record_out_of_reach_loses_its_note() -> None:
    # given automatic feedback: the hub's note names the record it was taken from
    row = {"evidence_record_id": "5", "result": "RESOLVED"}
    note, details = redact_entry("COURT (2026)豫1202民诉前17号: RESOLVED", row,
                                 lambda _: False, automatic=True)
    # then neither the record nor its source key reaches the reader
    assert (note, details) == ("", {"evidence_record_id": OUTSIDE, "result": "RESOLVED"})
    # and a reader who may read the record sees the note
    shown = redact_entry("COURT K5: RESOLVED", row, {5}.__contains__, automatic=True)
    assert shown == ("COURT K5: RESOLVED", row)


def test_an_id_that_does_not_parse_is_shown_as_out_of_reach() -> None:
    _, details = redact_entry("", {"record_id": "x1"}, lambda _: True, automatic=True)
    assert details == {"record_id": OUTSIDE}


def test_a_system_acceptance_or_conclusion_of_a_record_out_of_reach_says_nothing_of_it() -> None:
    # given the system's 受理 row taken over from a petition, and its 来源系统已办结 row
    admitted = {"source_accepted": "2024-12-07", "source_deadline": "2025-02-05",
                "evidence_record_id": "3"}
    concluded = {"fact": "SOURCE_CONCLUDED", "at": "2026-11-20T00:00:00+08:00",
                 "record_status": "RESOLVED", "evidence_record_id": "3"}
    # when a reader who may not read the petition reads them
    note, details = redact_entry("PETITION XF1", admitted, lambda _: False, automatic=True)
    # then neither the record, its key, its dates nor its status reaches the reader
    assert (note, details) == ("", dict.fromkeys(admitted, OUTSIDE))
    note, details = redact_entry("来源系统已办结：PETITION XF1（已答复）", concluded,
                                 lambda _: False, automatic=True)
    assert note == ""
    assert details == {**concluded, "record_status": OUTSIDE, "evidence_record_id": OUTSIDE}
    # and a reader who may read it sees the rows as they are
    assert redact_entry("PETITION XF1", admitted, {3}.__contains__, automatic=True) == (
        "PETITION XF1", admitted,
    )
