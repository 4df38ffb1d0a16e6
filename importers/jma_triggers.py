"""気象庁防災情報XML telegrams that trigger evacuation rules: 土砂災害警戒情報 (VXWW50) and
指定河川洪水予報 (VXKO50–89) → plain trigger records (issue 17).

* 土砂災害警戒情報: ``Body/Warning[@type="土砂災害警戒情報"]/Item`` — per municipality
  (``Area/Code``, seven digits as in VPWW54) a ``Kind`` whose ``Code`` is 3 (土砂災害警戒) or
  1 (なし) and ``Status`` 発表 / 継続 / 解除 / なし. In force: code 3 with 発表 or 継続.
* 指定河川洪水予報: the river in ``Head/Headline/Information[@type="指定河川洪水予報（河川）"]``
  (or ``…（予報区域）``) ``Item/Areas/Area`` (name, river code) with the forecast ``Kind`` —
  codes 10 (解除), 20–22 氾濫注意情報, 30–31 氾濫警戒情報, 40–41 氾濫危険情報, 50–53 氾濫発生情報.

XML is parsed as safely as the warnings (:func:`importers.jma_warnings.parse_xml`). Test
telegrams (試験) are skipped; drill telegrams (訓練) are read and marked; a 取消 (cancel)
telegram ends what its event said. Problems name the file, the line and the element.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path
from xml.etree.ElementTree import Element

from .jma_warnings import (
    NS_BODY,
    NS_HEAD,
    TelegramHead,
    _report_time,
    _text,
    open_report,
    telegram_head,
)
from .problems import Problem, quoted, reason
from .text_encoding import files_to_read

LANDSLIDE_TITLE = "土砂災害警戒情報"
FLOOD_TITLE = "指定河川洪水予報"
#: 土砂災害警戒情報 kind codes.
LANDSLIDE_CODES = {"1": "なし", "3": "土砂災害警戒"}
LANDSLIDE_STATUSES = ("発表", "継続", "解除", "なし")
#: 指定河川洪水予報: the first digit of the kind code → the forecast kind (1: lifted).
FLOOD_KINDS = {
    "1": None,
    "2": "氾濫注意情報",
    "3": "氾濫警戒情報",
    "4": "氾濫危険情報",
    "5": "氾濫発生情報",
}
FLOOD_RIVER_TYPES = ("指定河川洪水予報（河川）", "指定河川洪水予報（予報区域）")


@dataclasses.dataclass(frozen=True)
class TriggerItem:
    """One subject of a trigger telegram: a municipality (landslide) or a river (flood)."""

    subject_code: str
    subject_name: str | None
    kind_code: str
    #: 土砂災害警戒 / なし, or the flood forecast kind (None when lifted).
    forecast: str | None
    in_force: bool
    line: int | str


@dataclasses.dataclass(kw_only=True)
class TriggerTelegram(TelegramHead):
    #: ``landslide_warning`` or ``flood_forecast`` (the rules' trigger kinds).
    kind: str
    items: list[TriggerItem]


def _problem(label: str, line: int | str, column: str, key: str, **values) -> Problem:
    return Problem(label, line, column, reason(key, **values))


def _missing(label: str, line: int | str, element: str) -> Problem:
    """``element`` is not there."""
    return _problem(label, line, element, "importers.problem.missing_element", element=element)


def _unknown_code(label: str, line: int | str, code: str | None) -> Problem:
    return _problem(
        label, line, "Kind/Code", "importers.problem.unknown_warning_code", value=quoted(code)
    )


def _landslide_item_problem(
    label: str,
    line: int | str,
    kind_line: int | str,
    code: str | None,
    kind_code: str | None,
    status: str,
) -> Problem | None:
    """What is wrong with one 土砂災害警戒情報 item — the first check it fails — or None."""
    checks = (
        (
            code is None,
            line,
            "Area/Code",
            "importers.problem.missing_element",
            {"element": "Area/Code"},
        ),
        (
            kind_code not in LANDSLIDE_CODES,
            kind_line,
            "Kind/Code",
            "importers.problem.unknown_warning_code",
            {"value": quoted(kind_code)},
        ),
        (
            status not in LANDSLIDE_STATUSES,
            kind_line,
            "Kind/Status",
            "importers.problem.unknown_warning_status",
            {"value": quoted(status)},
        ),
    )
    for failed, where, column, key, values in checks:
        if failed:
            return _problem(label, where, column, key, **values)
    return None


def _landslide_items(
    root: Element, label: str, lines: dict[int, int], problems: list[Problem]
) -> list[TriggerItem]:
    out = []
    body = root.find(f"{{{NS_BODY}}}Body")
    warnings = [] if body is None else body.findall(f"{{{NS_BODY}}}Warning")
    for warning in warnings:
        if warning.get("type") != LANDSLIDE_TITLE:
            continue
        for item in warning.findall(f"{{{NS_BODY}}}Item"):
            line = lines.get(id(item), "-")
            area = item.find(f"{{{NS_BODY}}}Area")
            code = _text(area, f"{{{NS_BODY}}}Code")
            kind = item.find(f"{{{NS_BODY}}}Kind")
            kind_code = _text(kind, f"{{{NS_BODY}}}Code")
            status = _text(kind, f"{{{NS_BODY}}}Status") or ""
            kind_line = lines.get(id(kind), line)
            problem = _landslide_item_problem(label, line, kind_line, code, kind_code, status)
            if problem is not None:
                problems.append(problem)
                continue
            out.append(
                TriggerItem(
                    code,
                    _text(area, f"{{{NS_BODY}}}Name"),
                    kind_code,
                    LANDSLIDE_CODES[kind_code],
                    kind_code == "3" and status in ("発表", "継続"),
                    line,
                )
            )
    return out


def _flood_items(
    head: Element, label: str, lines: dict[int, int], problems: list[Problem]
) -> list[TriggerItem]:
    """One item per river (a river listed both as 河川 and as 予報区域 is read once)."""
    out: list[TriggerItem] = []
    for info in head.findall(f"{{{NS_HEAD}}}Headline/{{{NS_HEAD}}}Information"):
        if info.get("type") not in FLOOD_RIVER_TYPES:
            continue
        for item in info.findall(f"{{{NS_HEAD}}}Item"):
            line = lines.get(id(item), "-")
            kind = item.find(f"{{{NS_HEAD}}}Kind")
            kind_code = _text(kind, f"{{{NS_HEAD}}}Code")
            if kind_code is None or kind_code[:1] not in FLOOD_KINDS or len(kind_code) != 2:
                problems.append(_unknown_code(label, lines.get(id(kind), line), kind_code))
                continue
            areas = item.findall(f"{{{NS_HEAD}}}Areas/{{{NS_HEAD}}}Area")
            if not areas:
                problems.append(_missing(label, line, "Areas/Area"))
                continue
            forecast = FLOOD_KINDS[kind_code[0]]
            for area in areas:
                name = _text(area, f"{{{NS_HEAD}}}Name")
                code = _text(area, f"{{{NS_HEAD}}}Code")
                if code is None:
                    problems.append(_missing(label, lines.get(id(area), line), "Area/Code"))
                    continue
                if all(i.subject_code != code for i in out):
                    out.append(
                        TriggerItem(code, name, kind_code, forecast, forecast is not None, line)
                    )
    return out


def read_trigger_telegram(
    path: Path | str,
) -> tuple[TriggerTelegram | None, str | None, list[Problem]]:
    """``(telegram, skip_reason, problems)`` for one file: a trigger telegram, or why not."""
    report, problems = open_report(path)
    if report is None:
        return None, None, problems
    label, root, lines, head = report.label, report.root, report.lines, report.head
    title, status = report.control_title, report.control_status
    if title not in (LANDSLIDE_TITLE, FLOOD_TITLE):
        return None, reason("importers.skip.not_trigger"), []
    if status == "試験":
        return None, reason("importers.skip.test_telegram"), []
    if head is None:
        return None, None, [_missing(label, "-", "Head")]
    problems: list[Problem] = []
    report_time = _report_time(
        _text(head, f"{{{NS_HEAD}}}ReportDateTime"), label, lines.get(id(head), "-"), problems
    )
    info_type = _text(head, f"{{{NS_HEAD}}}InfoType")
    if title == LANDSLIDE_TITLE:
        kind = "landslide_warning"
        items = [] if info_type == "取消" else _landslide_items(root, label, lines, problems)
    else:
        kind = "flood_forecast"
        items = _flood_items(head, label, lines, problems)
        if info_type == "取消":  # a cancelled forecast is no longer in force
            items = [dataclasses.replace(i, in_force=False) for i in items]
    if not items and not problems and info_type != "取消":
        problems.append(_missing(label, lines.get(id(head), "-"), "Item"))
    if problems or report_time is None:
        return None, None, problems
    telegram = TriggerTelegram(**telegram_head(report, status, report_time), kind=kind, items=items)
    return telegram, None, []


@dataclasses.dataclass
class TriggerBatch:
    files: list[Path]
    telegrams: list[TriggerTelegram]  # in report-time order
    skipped: list[tuple[str, str]]
    problems: list[Problem]


def read_trigger_telegrams(paths: Iterable[Path | str]) -> TriggerBatch:
    """Every trigger telegram of the given files and folders, in report-time order (a file
    repeated with the same bytes is read once)."""
    files = files_to_read(paths, ".xml")
    batch = TriggerBatch(files, [], [], [])
    seen: set[str] = set()
    for path in files:
        telegram, skip, problems = read_trigger_telegram(path)
        batch.problems += problems
        if skip:
            batch.skipped.append((str(path), skip))
        if telegram is not None and telegram.content_sha256 not in seen:
            seen.add(telegram.content_sha256)
            batch.telegrams.append(telegram)
    batch.telegrams.sort(key=lambda t: (t.report_time, t.file))
    return batch
