"""気象庁防災情報XML 「気象警報・注意報（Ｈ２７）」 (VPWW54) → telegrams and area warnings.

XML is parsed with defusedxml: a DTD, entity declarations (billion laughs) and external
references are refused before anything is expanded or fetched. The old-format telegram
「気象特別警報・警報・注意報」 (VPWW53) repeats VPWW54's warnings and is recognised and skipped.
Test telegrams (``Control/Status`` 試験) are skipped; drill telegrams (訓練) are read and marked.

A folder is read in report-time order, so replaying it leaves the latest state last.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Iterable
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from bosai.vocab import JMA_WARNING_STATUSES

from . import jma_codes
from .problems import FileRejected, Problem, quoted, reason
from .progress import Progress, tick
from .text_encoding import files_to_read

NS_REPORT = "http://xml.kishou.go.jp/jmaxml1/"
NS_HEAD = "http://xml.kishou.go.jp/jmaxml1/informationBasis1/"
NS_BODY = "http://xml.kishou.go.jp/jmaxml1/body/meteorology1/"


@dataclasses.dataclass(frozen=True)
class AreaWarning:
    level: str  # municipality, group, subdivision, prefecture
    area_code: str
    area_name: str | None
    kind_code: str
    kind_name: str
    status: str


@dataclasses.dataclass(kw_only=True)
class TelegramHead:
    """What every JMA telegram says of itself: its file and the hash of its bytes, its
    ``Control`` status and office, and the ``Head``'s identity, time and headline."""

    file: str
    content_sha256: str
    control_status: str
    info_type: str | None
    event_id: str | None
    serial: str | None
    title: str | None
    office: str | None
    report_time: dt.datetime
    headline: str | None

    @property
    def is_drill(self) -> bool:
        return self.control_status == "訓練"


@dataclasses.dataclass(kw_only=True)
class Telegram(TelegramHead):
    """A 気象警報・注意報 (VPWW54) telegram with its area warnings."""

    control_title: str
    info_kind: str
    warnings: list[AreaWarning]


@dataclasses.dataclass
class TelegramBatch:
    files: list[Path]
    telegrams: list[Telegram]  # in report-time order
    skipped: list[tuple[str, str]]  # (file, reason)
    problems: list[Problem]


class _LineRecorder(TreeBuilder):
    """Remembers the line each element starts on, for FILE:LINE problems."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[int, int] = {}
        self.parser: DefusedXMLParser | None = None

    def start(self, tag, attrs):
        element = super().start(tag, attrs)
        if self.parser is not None:
            self.lines[id(element)] = self.parser.parser.CurrentLineNumber
        return element


def parse_xml(data: bytes, label: str) -> tuple[Element, dict[int, int]]:
    """Parse safely; unsafe or broken XML raises :class:`FileRejected`."""
    builder = _LineRecorder()
    parser = DefusedXMLParser(
        target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    builder.parser = parser
    try:
        parser.feed(data)
        root = parser.close()
    except DefusedXmlException as exc:
        detail = type(exc).__name__
        raise FileRejected(
            Problem(label, "-", "-", reason("importers.problem.xml_forbidden", detail=detail))
        ) from exc
    except ParseError as exc:
        line, column = exc.position
        raise FileRejected(
            Problem(
                label, line, column, reason("importers.problem.xml_syntax", detail=quoted(str(exc)))
            )
        ) from exc
    return root, builder.lines


def _text(element: Element | None, path: str) -> str | None:
    if element is None:
        return None
    found = element.find(path)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


@dataclasses.dataclass(frozen=True)
class Report:
    """A JMA XML report as read: its file label and bytes, root, source lines by element, and
    the Control and Head blocks (either may be missing; the callers say what they need)."""

    label: str
    data: bytes
    root: Element
    lines: dict[int, int]
    control: Element | None
    head: Element | None

    @property
    def control_title(self) -> str:
        return _text(self.control, f"{{{NS_REPORT}}}Title") or ""

    @property
    def control_status(self) -> str:
        """発表 (normal), 訓練 (drill) or 試験 (test); "" when missing."""
        return _text(self.control, f"{{{NS_REPORT}}}Status") or ""


def open_report(path: Path | str) -> tuple[Report | None, list[Problem]]:
    """Read and safely parse one JMA XML file: the report, or the problems that name why not
    (missing or empty file, unsafe or broken XML, not a JMA ``Report``)."""
    path = Path(path)
    label = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, [Problem(label, "-", "-", reason("importers.problem.no_file"))]
    if not data.strip():
        return None, [Problem(label, "-", "-", reason("importers.problem.empty_file"))]
    try:
        root, lines = parse_xml(data, label)
    except FileRejected as exc:
        return None, [exc.problem]
    if root.tag != f"{{{NS_REPORT}}}Report":
        line = lines.get(id(root), 1)
        return None, [Problem(label, line, "-", reason("importers.problem.not_jma_xml"))]
    control = root.find(f"{{{NS_REPORT}}}Control")
    return Report(label, data, root, lines, control, root.find(f"{{{NS_HEAD}}}Head")), []


def read_telegram(path: Path | str) -> tuple[Telegram | None, str | None, list[Problem]]:
    """``(telegram, skip_reason, problems)``: a telegram to import, or why not."""
    report, problems = open_report(path)
    if report is None:
        return None, None, problems
    label, root, lines, head = report.label, report.root, report.lines, report.head
    control_title, control_status = report.control_title, report.control_status
    if control_title == jma_codes.VPWW53_TITLE:
        return None, reason("importers.skip.vpww53"), []
    if control_status == "試験":
        return None, reason("importers.skip.test_telegram"), []
    problems: list[Problem] = []
    if head is None:
        return (
            None,
            None,
            [
                Problem(
                    label, "-", "Head", reason("importers.problem.missing_element", element="Head")
                )
            ],
        )
    info_kind = _text(head, f"{{{NS_HEAD}}}InfoKind") or ""
    if info_kind != jma_codes.WARNING_INFO_KIND or control_title != jma_codes.VPWW54_TITLE:
        return None, reason("importers.skip.not_warning"), []
    report_raw = _text(head, f"{{{NS_HEAD}}}ReportDateTime")
    report_time = _report_time(report_raw, label, lines.get(id(head), "-"), problems)
    warnings = _warnings(root, label, lines, problems)
    if problems or report_time is None:
        return None, None, problems
    telegram = Telegram(
        **telegram_head(report, control_status, report_time),
        control_title=control_title,
        info_kind=info_kind,
        warnings=warnings,
    )
    return telegram, None, []


def telegram_head(report: Report, control_status: str, report_time: dt.datetime) -> dict:
    """The :class:`TelegramHead` fields of a report read (its ``Head`` is there)."""
    head = report.head
    return {
        "file": report.label,
        "content_sha256": hashlib.sha256(report.data).hexdigest(),
        "control_status": control_status,
        "info_type": _text(head, f"{{{NS_HEAD}}}InfoType"),
        "event_id": _text(head, f"{{{NS_HEAD}}}EventID"),
        "serial": _text(head, f"{{{NS_HEAD}}}Serial"),
        "title": _text(head, f"{{{NS_HEAD}}}Title"),
        "office": _text(report.control, f"{{{NS_REPORT}}}PublishingOffice"),
        "report_time": report_time,
        "headline": _text(head, f"{{{NS_HEAD}}}Headline/{{{NS_HEAD}}}Text"),
    }


def _report_time(
    raw: str | None, label: str, line: int | str, problems: list[Problem]
) -> dt.datetime | None:
    if raw is None:
        problems.append(
            Problem(
                label,
                line,
                "ReportDateTime",
                reason("importers.problem.missing_element", element="ReportDateTime"),
            )
        )
        return None
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:  # not a date-time, or one without its offset
        problems.append(
            Problem(
                label,
                line,
                "ReportDateTime",
                reason("importers.problem.not_a_datetime", value=quoted(raw)),
            )
        )
        return None
    return value.astimezone(dt.UTC)


def _warnings(
    root: Element, label: str, lines: dict[int, int], problems: list[Problem]
) -> list[AreaWarning]:
    found: list[AreaWarning] = []
    body = root.find(f"{{{NS_BODY}}}Body")
    if body is None:
        return found
    for warning in body.findall(f"{{{NS_BODY}}}Warning"):
        level = jma_codes.WARNING_LEVELS.get(warning.get("type", ""))
        if level is None:
            continue
        for item in warning.findall(f"{{{NS_BODY}}}Item"):
            area = item.find(f"{{{NS_BODY}}}Area")
            area_code = _text(area, f"{{{NS_BODY}}}Code")
            area_name = _text(area, f"{{{NS_BODY}}}Name")
            if area_code is None:
                problems.append(
                    Problem(
                        label,
                        lines.get(id(item), "-"),
                        "Area/Code",
                        reason("importers.problem.missing_element", element="Area/Code"),
                    )
                )
                continue
            seen: set[str] = set()
            for kind in item.findall(f"{{{NS_BODY}}}Kind"):
                line = lines.get(id(kind), "-")
                status = _text(kind, f"{{{NS_BODY}}}Status") or ""
                code = _text(kind, f"{{{NS_BODY}}}Code")
                name = _text(kind, f"{{{NS_BODY}}}Name")
                if status not in JMA_WARNING_STATUSES:
                    problems.append(
                        Problem(
                            label,
                            line,
                            "Kind/Status",
                            reason(
                                "importers.problem.unknown_warning_status", value=quoted(status)
                            ),
                        )
                    )
                    continue
                if code is None and status == "発表警報・注意報はなし":
                    code, name = jma_codes.NO_WARNING_CODE, jma_codes.NO_WARNING_NAME
                if code not in jma_codes.WARNING_KINDS:
                    problems.append(
                        Problem(
                            label,
                            line,
                            "Kind/Code",
                            reason("importers.problem.unknown_warning_code", value=quoted(code)),
                        )
                    )
                    continue
                if code in seen:
                    continue
                seen.add(code)
                found.append(
                    AreaWarning(
                        level,
                        area_code,
                        area_name,
                        code,
                        name or jma_codes.WARNING_KINDS[code],
                        status,
                    )
                )
    return found


def read_telegrams(
    paths: Iterable[Path | str], *, progress: Progress | None = None
) -> TelegramBatch:
    """Every telegram of the given files and folders, in report-time order.

    ``progress(files_done, files_total)`` is called after each file.
    """
    files = files_to_read(paths, ".xml")
    batch = TelegramBatch(files, [], [], [])
    seen: set[str] = set()
    for done, path in enumerate(files, start=1):
        telegram, skip, problems = read_telegram(path)
        tick(progress, done, len(files), step=1)
        batch.problems += problems
        if skip:
            batch.skipped.append((str(path), skip))
        if telegram is not None:
            if telegram.content_sha256 in seen:
                batch.skipped.append((str(path), reason("importers.skip.already_stored")))
                continue
            seen.add(telegram.content_sha256)
            batch.telegrams.append(telegram)
    batch.telegrams.sort(key=lambda t: (t.report_time, t.file))
    return batch


def warnings_for_city(
    telegram: Telegram, area_codes: Iterable[tuple[str, str]]
) -> tuple[str | None, list[AreaWarning]]:
    """The city's warnings: the most specific of its area codes the telegram covers.

    ``area_codes`` is ``CityConfig.jma_area_codes``: (level, code) from municipality to
    municipal group, primary subdivision and prefecture.
    """
    for level, code in area_codes:
        matched = [w for w in telegram.warnings if w.level == level and w.area_code == code]
        if matched:
            return level, matched
    return None, []
