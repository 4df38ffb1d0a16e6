"""Parse single values as they appear in Japanese municipal data.

Every parser returns the clean value or raises :class:`FieldError` with the reason; none of
them guesses. Text is kept as published (HTML, script or formula-looking names stay plain
text — the pages and exports escape them); only control characters are refused, since they
can corrupt terminals, CSV exports and logs.
"""

from __future__ import annotations

import math
import re
import unicodedata

from bosai.geo_bounds import in_japan

from .problems import FieldError, quoted, reason

#: Published hazard-flag spellings: suitable for the hazard.
#: 「△」 is "suitable with conditions" (e.g. upper floors only): it counts as suitable.
FLAG_TRUE = frozenset({"1", "1.0", "○", "〇", "◯", "●", "△", "▲"})
#: Not suitable / not designated.
FLAG_FALSE = frozenset({"", "0", "0.0", "×", "✕", "✖", "-", "－", "ー"})

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NUMBER = r"(\d{1,3}(?:,\d{3})+|\d+)"
_INDOOR = re.compile(r"屋内[^\d]{0,6}" + _NUMBER)
_ANY_NUMBER = re.compile(_NUMBER)


def nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip()


def parse_text(raw: str | None, *, max_length: int, required: bool = False) -> str | None:
    """Trimmed text (None when empty). Control characters and over-long text are refused."""
    text = (raw or "").strip()
    if not text:
        if required:
            raise FieldError(reason("importers.problem.required_value"))
        return None
    if _CONTROL.search(text):
        raise FieldError(reason("importers.problem.control_characters", value=quoted(text)))
    if len(text) > max_length:
        raise FieldError(reason("importers.problem.too_long", limit=max_length))
    return text


def parse_hazard_flag(raw: str | None) -> bool:
    """「1」「1.0」「○」「△」 → True; 「」「0」「×」 → False; anything else is refused."""
    if raw in FLAG_TRUE:  # the common spellings, without normalising
        return True
    if raw in FLAG_FALSE:
        return False
    value = nfkc(raw or "")
    if value in FLAG_TRUE:
        return True
    if value in FLAG_FALSE:
        return False
    raise FieldError(reason("importers.problem.hazard_flag", value=quoted(raw)))


def parse_number(raw: str | None, *, required: bool = True) -> float | None:
    value = nfkc(raw or "")
    if not value:
        if required:
            raise FieldError(reason("importers.problem.required_value"))
        return None
    try:
        number = float(value.replace(",", ""))
    except ValueError as exc:
        raise FieldError(reason("importers.problem.not_a_number", value=quoted(raw))) from exc
    if not math.isfinite(number):
        raise FieldError(reason("importers.problem.not_a_number", value=quoted(raw)))
    return number


def parse_coordinates(
    lat_raw: str | float | None, lon_raw: str | float | None
) -> tuple[float, float]:
    """``(lat, lon)`` in WGS84 decimal degrees inside Japan.

    Swapped columns (latitude 139, longitude 37) get their own reason: it is the most common
    mistake in hand-made lists.
    """
    lat = parse_number(None if lat_raw is None else str(lat_raw))
    lon = parse_number(None if lon_raw is None else str(lon_raw))
    assert lat is not None and lon is not None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or not in_japan(lat, lon):
        if in_japan(lon, lat):
            raise FieldError(reason("importers.problem.swapped_coordinates", lat=lat, lon=lon))
        raise FieldError(reason("importers.problem.outside_japan", lat=lat, lon=lon))
    return lat, lon


def parse_count(raw: str | None) -> int:
    """A head count: a whole number ≥ 0 (「1,234」 and full-width digits accepted)."""
    value = nfkc(raw or "").replace(",", "")
    if not value:
        raise FieldError(reason("importers.problem.required_value"))
    if value.endswith(".0"):
        value = value[:-2]
    if not value.isdigit():
        raise FieldError(reason("importers.problem.not_a_count", value=quoted(raw)))
    return int(value)


def parse_capacity(raw: str | None) -> tuple[int | None, str | None]:
    """``(indoor capacity, text as published)`` from 想定収容人数.

    「屋内480人／屋外3,350人(面積の1/2)」 → 480; 「480」「480人」「約480人」 → 480; text with only
    an outdoor figure, several unlabelled figures or none → capacity unknown (None), text kept.
    """
    text = (raw or "").strip()
    if not text:
        return None, None
    if _CONTROL.search(text):
        raise FieldError(reason("importers.problem.control_characters", value=quoted(text)))
    if len(text) > 200:
        raise FieldError(reason("importers.problem.too_long", limit=200))
    normal = nfkc(text)
    indoor = _INDOOR.search(normal)
    if indoor:
        return int(indoor.group(1).replace(",", "")), text
    if "屋外" in normal:
        return None, text
    head = normal.split("(")[0]
    numbers = _ANY_NUMBER.findall(head)
    if len(numbers) == 1:
        return int(numbers[0].replace(",", "")), text
    return None, text
