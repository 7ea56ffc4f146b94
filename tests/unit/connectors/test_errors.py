"""Errors quoting a source never carry a plaintext identifier."""

from __future__ import annotations

from connectors.errors import RecordError, SourceRequestRejected
from domain.enums import SourceSystem


def test_source_errors_mask_identifiers_the_source_quoted() -> None:
    error = SourceRequestRejected(
        SourceSystem.POLICE_110, "SOAP Client fault: 报警人 13812345678 身份证 11010519491231002X"
    )
    assert "13812345678" not in str(error) and "138****5678" in str(error)
    assert "11010519491231002X" not in str(error)


def test_record_error_reasons_are_masked() -> None:
    error = RecordError("INVALID_PHONE", "phone 13812345678 is not a number", key="J1")
    assert "13812345678" not in error.reason and error.code == "INVALID_PHONE"
