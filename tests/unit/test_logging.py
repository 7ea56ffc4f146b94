"""Logs never carry a plaintext ID number or phone."""

from __future__ import annotations

import logging

import pytest
import structlog

from hub.logging import configure_logging, mask_text


def test_mask_text_masks_ids_mobiles_and_landlines() -> None:
    masked = mask_text("身份证11010519491231002X 手机13812345678 座机0398-2812345 编号J2026")
    assert "11010519491231002X" not in masked
    assert "1101**********002X" in masked
    assert "138****5678" in masked
    assert "0398-****2345" in masked
    assert "J2026" in masked


def test_structured_and_stdlib_logs_are_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    # given JSON logging
    configure_logging(json=True)
    # when a careless caller logs identifiers through structlog and the standard library
    structlog.get_logger("t").warning(
        "party", id_number="11010519491231002X", note="电话13812345678"
    )
    logging.getLogger("t").warning("caller %s", "13812345678")
    # then neither identifier reaches the output
    err = capsys.readouterr().err
    assert "11010519491231002X" not in err
    assert "13812345678" not in err
    assert '"id_number": "1101**********002X"' in err
    assert "caller 138****5678" in err
