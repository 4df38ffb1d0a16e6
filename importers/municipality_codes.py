"""全国地方公共団体コード: the 6-digit municipality code with its check digit.

>>> with_check_digit("07202")
'072028'
>>> normalise_municipality_code("17202")
'172022'
>>> normalise_municipality_code("172022")
'172022'
>>> municipality_code_from_gsi_id("E0720200001201")
'072028'
"""

from __future__ import annotations

import re
import unicodedata

_GSI_COMMON_ID = re.compile(r"^[A-Z](\d{5})\d{8}$")


def check_digit(five: str) -> str:
    """The check digit of a 5-digit code (総務省: weights 6..2, modulus 11)."""
    total = sum(int(d) * w for d, w in zip(five, (6, 5, 4, 3, 2), strict=True))
    return str((11 - total % 11) % 10)


def with_check_digit(five: str) -> str:
    return five + check_digit(five)


def normalise_municipality_code(raw: str | int | None) -> str | None:
    """A 6-digit code from 5 or 6 digits (None when it is not a valid code).

    Codes stored as numbers lose their leading zero (「72028」 for 072028); that is restored.
    """
    if raw is None:
        return None
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    if text.endswith(".0"):
        text = text[:-2]
    if not text.isdigit():
        return None
    if len(text) == 6:
        return text if _valid_six(text) else None
    if len(text) == 5:
        if not text.startswith("0") and _valid_six("0" + text):
            return "0" + text  # a 6-digit code that lost its leading zero
        return with_check_digit(text)
    if len(text) == 4:  # a 5-digit code that lost its leading zero
        return with_check_digit("0" + text)
    return None


def _valid_six(code: str) -> bool:
    return len(code) == 6 and code.isdigit() and check_digit(code[:5]) == code[5]


def municipality_code_from_gsi_id(common_id: str) -> str | None:
    """GSI 共通ID 「E0720200001201」 starts with the 5-digit code (07202) after its letter."""
    match = _GSI_COMMON_ID.match(common_id or "")
    return with_check_digit(match.group(1)) if match else None
