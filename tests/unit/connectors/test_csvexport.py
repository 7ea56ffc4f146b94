"""Reading GBK CSV exports row by row: a broken row is marked, never the whole file."""

from __future__ import annotations

import base64

import pytest

from connectors.csvexport import CsvHeaderError, read_rows


def test_rows_are_decoded_with_their_source_bytes() -> None:
    content = '编号,姓名,诉求\r\nA1,张三,"多行\r\n诉求"\r\nA2,李四,无\r\n'.encode("gbk")

    header, rows = read_rows(content)

    first, second = list(rows)
    assert header == ["编号", "姓名", "诉求"]
    assert first.cells == {"编号": "A1", "姓名": "张三", "诉求": "多行\r\n诉求"}
    assert first.source_bytes.decode("gbk") == 'A1,张三,"多行\r\n诉求"\r\n'
    assert (second.cells["姓名"], second.problem) == ("李四", None)


def test_a_row_with_invalid_gbk_bytes_is_marked_and_its_neighbours_are_not() -> None:
    broken = "张".encode("gbk") + b"\xff\xfe" + "三".encode("gbk")
    content = (
        "编号,姓名\r\n".encode("gbk") + b"A1," + broken + b"\r\nA2," + "李四\r\n".encode("gbk")
    )

    _, rows = read_rows(content)

    first, second = list(rows)
    assert first.undecodable == ["姓名"] and first.problem is not None
    assert first.cells["编号"] == "A1"
    assert "\\xff" in first.cells["姓名"]  # escaped text: safe for JSON and UTF-8
    assert base64.b64decode(first.raw_base64()) == b"A1," + broken + b"\r\n"
    assert (second.cells["姓名"], second.problem) == ("李四", None)


def test_a_row_with_the_wrong_number_of_cells_is_a_problem() -> None:
    _, rows = read_rows("编号,姓名\r\nA1,张三,多余\r\n".encode("gbk"))

    (row,) = list(rows)
    assert row.problem == "row has 3 cells, the header 2"
    assert row.cells["_extra0"] == "多余"


@pytest.mark.parametrize("content", [b"", b"\xff\xfe,x\r\n"])
def test_a_missing_or_unreadable_header_is_an_error(content: bytes) -> None:
    with pytest.raises(CsvHeaderError):
        read_rows(content)
