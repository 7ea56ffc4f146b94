"""Synthetic but valid identifiers: resident ID numbers (居民身份证号码), USCC codes
(统一社会信用代码) and mobile numbers (手机号码).

The check characters come from ``domain.validators`` (GB 11643 / ISO 7064 MOD 11-2 and
GB 32100), so the sandbox never emits a number the hub would reject.
"""

from __future__ import annotations

import random
from datetime import date

from domain.validators import resident_id_check_char, uscc_check_char

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714 organisation code
_ORG_BODY_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
MOBILE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151",
    "152", "153", "155", "156", "157", "158", "159", "166", "173", "175", "176", "177",
    "178", "180", "181", "182", "183", "185", "186", "187", "188", "189", "191", "198", "199",
)


def resident_id(county_code: str, birth: date, sequence: int, male: bool) -> str:
    """An 18-digit 居民身份证号码: area code, birth date, 3-digit order code (odd for men)."""
    order = (sequence % 500) * 2 + (1 if male else 0)
    first17 = f"{county_code}{birth:%Y%m%d}{order:03d}"
    return first17 + resident_id_check_char(first17)


def organisation_code(rng: random.Random) -> str:
    """A 9-character GB 11714 organisation code (组织机构代码) with its check character.

    Codes issued with a USCC since 2015 start with ``MA``; characters weigh their base-36 value.
    """
    body = "MA" + "".join(rng.choice(_ORG_BODY_CHARSET) for _ in range(6))
    total = sum(int(c, 36) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return body + ("X" if check == 10 else "0" if check == 11 else str(check))


def uscc(rng: random.Random, authority_and_type: str, county_code: str) -> str:
    """An 18-character 统一社会信用代码, e.g. ``91411202MA…`` for a company.

    ``authority_and_type``: "11" 机关, "91" 企业, "Y1" other bodies such as a 人民调解委员会.
    """
    first17 = f"{authority_and_type}{county_code}{organisation_code(rng)}"
    return first17 + uscc_check_char(first17)


def mobile(rng: random.Random) -> str:
    """An 11-digit mainland mobile number with a real carrier prefix."""
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(100_000_000):08d}"
