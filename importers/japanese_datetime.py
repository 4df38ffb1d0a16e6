"""Parse the times municipalities write: 「令和6年1月9日午後6時」, 「令和6年5月29日正午」, ISO.

Times without a zone are Japan time (Asia/Tokyo); results are timezone-aware UTC, as stored.
Impossible dates (2月30日) and unknown eras are refused with the reason.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from bosai.jpdate import ERAS, TOKYO

from .problems import FieldError, quoted, reason

_ERA_FIRST_YEAR = {name: first.year for first, name, _ in ERAS}
_WAREKI = re.compile(
    r"^(?P<era>明治|大正|昭和|平成|令和)(?P<year>元|\d{1,2})年(?P<month>\d{1,2})月(?P<day>\d{1,2})日"
    r"(?:\([^)]*\))?"
    r"(?:(?P<noon>正午)|(?P<ampm>午前|午後)?(?P<hour>\d{1,2})時(?:(?P<minute>\d{1,2})分|(?P<half>半))?)?"
    r"(?:時点|現在)?$"
)
_WESTERN = re.compile(
    r"^(?P<year>\d{4})[-/年](?P<month>\d{1,2})[-/月](?P<day>\d{1,2})日?"
    r"(?:[ T]?(?P<hour>\d{1,2})[:時](?P<minute>\d{2})?分?(?::(?P<second>\d{2}))?)?(?:時点|現在)?$"
)


def parse_japanese_datetime(raw: str) -> dt.datetime:
    """A timezone-aware UTC datetime for a Japanese or ISO timestamp."""
    text = unicodedata.normalize("NFKC", raw or "").strip().replace(" ", "")
    if not text:
        raise FieldError(reason("importers.problem.required_value"))
    try:
        iso = dt.datetime.fromisoformat(raw.strip())
    except ValueError:
        iso = None
    if iso is not None:
        return _aware(iso)
    match = _WAREKI.match(text)
    if match:
        era_year = 1 if match["year"] == "元" else int(match["year"])
        year = _ERA_FIRST_YEAR[match["era"]] + era_year - 1
        hour, minute = _hour_minute(match, raw)
        return _build(raw, year, int(match["month"]), int(match["day"]), hour, minute)
    match = _WESTERN.match(text)
    if match:
        hour = int(match["hour"] or 0)
        minute = int(match["minute"] or 0)
        return _build(raw, int(match["year"]), int(match["month"]), int(match["day"]), hour, minute)
    raise FieldError(reason("importers.problem.not_a_datetime", value=quoted(raw)))


def _hour_minute(match: re.Match[str], raw: str) -> tuple[int, int]:
    if match["noon"]:
        return 12, 0
    if match["hour"] is None:
        return 0, 0
    hour = int(match["hour"])
    minute = 30 if match["half"] else int(match["minute"] or 0)
    if match["ampm"] == "午後":
        if hour > 11:
            raise FieldError(reason("importers.problem.impossible_datetime", value=quoted(raw)))
        hour += 12
    elif match["ampm"] == "午前" and hour > 12:
        raise FieldError(reason("importers.problem.impossible_datetime", value=quoted(raw)))
    return hour, minute


def _build(raw: str, year: int, month: int, day: int, hour: int, minute: int) -> dt.datetime:
    try:
        local = dt.datetime(year, month, day, hour, minute, tzinfo=TOKYO)
    except ValueError as exc:
        raise FieldError(
            reason("importers.problem.impossible_datetime", value=quoted(raw))
        ) from exc
    return local.astimezone(dt.UTC)


def _aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=TOKYO)
    return value.astimezone(dt.UTC)
