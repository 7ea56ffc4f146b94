"""Case numbers (案号) under 法〔2015〕137号, legacy forms accepted and flagged."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Final

from domain.validators.errors import _CASE, InvalidIdentifier, _clean, _is_digits

# ---------------------------------------------------------------- case numbers (案号)
CASE_TYPE_CODES: Final[dict[str, str]] = {
    "民初": "民事一审", "民终": "民事二审", "民申": "民事申请再审审查",
    "民抗": "民事抗诉再审审查", "民监": "民事依职权再审审查", "民再": "民事再审",
    "民撤": "第三人撤销之诉", "民特": "民事特别程序", "民催": "公示催告",
    "民督": "申请支付令（督促程序）", "民破": "破产", "民算": "强制清算",
    "民辖": "民事管辖", "民辖终": "民事管辖上诉", "民他": "其他民事",
    "民诉前调": "诉前调解", "诉前调确": "诉前调解司法确认", "诉前调书": "诉前调解出具调解书",
    "刑初": "刑事一审", "刑终": "刑事二审", "刑申": "刑事申诉审查", "刑再": "刑事再审",
    "刑核": "刑事复核", "刑更": "刑罚与执行变更", "刑医": "强制医疗",
    "行初": "行政一审", "行终": "行政二审", "行申": "行政申请再审审查", "行再": "行政再审",
    "行审": "非诉行政行为申请执行审查",
    "执": "首次执行", "执恢": "恢复执行", "执保": "财产保全执行", "执异": "执行异议",
    "执复": "执行复议", "执监": "执行监督", "执协": "执行协调", "执他": "其他执行",
    "财保": "非诉财产保全审查", "司救": "司法救助", "司惩": "司法制裁审查",
}
# High courts use the abbreviation alone, intermediate courts add 2 digits, basic courts 4;
# 兵 is the Xinjiang Production and Construction Corps (新疆生产建设兵团) courts.
COURT_PROVINCE_ABBREVIATIONS: Final = (
    "京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川贵云藏陕甘青宁新兵"
)
SUPREME_COURT_CODE: Final = "最高法"
_BRACKETS: Final = str.maketrans({"〔": "(", "〕": ")", "【": "(", "】": ")", "[": "(", "]": ")"})
_COURT: Final = re.compile(rf"{SUPREME_COURT_CODE}|[{COURT_PROVINCE_ABBREVIATIONS}]([0-9]*)")
_HAN: Final = re.compile(r"[\u4e00-\u9fff]*")


@dataclass(frozen=True, slots=True)
class CaseNumber:
    """A parsed case number (案号).

    ``legacy`` marks the pre-2016 form "(2014)成民初字第123号", whose court part is the
    court's own free-text abbreviation (empty for the Supreme People's Court).
    """

    year: int
    court_code: str
    type_code: str
    sequence: int
    legacy: bool = False

    @property
    def normalized(self) -> str:
        """The canonical text with ASCII brackets, e.g. "(2024)豫1202民初123号"."""
        marker = "字第" if self.legacy else ""
        return f"({self.year}){self.court_code}{self.type_code}{marker}{self.sequence}号"


def _sequence(digits: str) -> int:
    if not digits or not _is_digits(digits):
        raise InvalidIdentifier(
            _CASE, "sequence", "case number: 号 must follow the sequence digits"
        )
    if int(digits) == 0:
        raise InvalidIdentifier(_CASE, "sequence", "case number: sequence must be at least 1")
    return int(digits)


def _parse_modern(year: int, body: str) -> CaseNumber:
    court = _COURT.match(body)
    if court is None:
        raise InvalidIdentifier(
            _CASE, "court_code",
            "case number: court code must be 最高法 or a province abbreviation such as 豫",
        )
    if court.group(1) is not None and len(court.group(1)) not in (0, 2, 4):
        raise InvalidIdentifier(
            _CASE, "court_code",
            f"case number: court code needs 2 (intermediate) or 4 (basic court) digits after "
            f"the abbreviation, got {len(court.group(1))}",
        )
    rest = body[court.end():]
    type_code = rest.rstrip("0123456789")
    if not type_code:
        raise InvalidIdentifier(
            _CASE, "case_type", "case number: the case type (e.g. 民初) is missing"
        )
    if type_code not in CASE_TYPE_CODES:
        raise InvalidIdentifier(_CASE, "case_type", f"case number: unknown case type {type_code!r}")
    return CaseNumber(year, court.group(), type_code, _sequence(rest[len(type_code):]))


def _parse_legacy(year: int, body: str) -> CaseNumber:
    prefix, _, digits = body.partition("字第")
    if not _HAN.fullmatch(prefix):
        raise InvalidIdentifier(
            _CASE, "format", "case number: text before 字第 must be Chinese characters only"
        )
    # The court part is free text, so the type is the longest known code the text ends with.
    start = next((i for i in range(len(prefix)) if prefix[i:] in CASE_TYPE_CODES), None)
    if start is None:
        raise InvalidIdentifier(
            _CASE, "case_type", f"case number: no known case type at the end of {prefix!r}"
        )
    return CaseNumber(year, prefix[:start], prefix[start:], _sequence(digits), legacy=True)


def parse_case_number(s: str, *, today: date | None = None) -> CaseNumber:
    """Parse a case number; the year must lie in 1949..next year (``today`` for tests).

    Full-width and other brackets （）〔〕【】 become (), whitespace inside is dropped and
    leading zeros of the sequence are removed.
    """
    text = "".join(_clean(s).translate(_BRACKETS).split())
    head = re.match(r"\(([0-9]{4})\)", text)
    if head is None:
        raise InvalidIdentifier(
            _CASE, "format", "case number must start with a 4-digit year in brackets, e.g. (2024)"
        )
    year = int(head.group(1))
    latest = (today if today is not None else date.today()).year + 1
    if not 1949 <= year <= latest:
        raise InvalidIdentifier(
            _CASE, "year", f"case number year {year} is outside 1949–{latest}"
        )
    if not text.endswith("号"):
        raise InvalidIdentifier(_CASE, "format", "case number must end with 号")
    body = text[head.end():-1]
    return _parse_legacy(year, body) if "字第" in body else _parse_modern(year, body)
