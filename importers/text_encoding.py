"""Decode text files as Japanese municipalities publish them: UTF-8, UTF-8 with BOM, CP932.

The one decoder of input files (public data and questionnaire exports alike), and
:func:`files_to_read` for commands that take files and folders.

CP932 (Windows Shift_JIS) is a superset of Shift_JIS, so it covers both. Anything else —
UTF-16, EUC-JP, binary data — is refused with a reason rather than guessed at: a wrongly
guessed encoding would store garbled names.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from pathlib import Path

from .problems import FileRejected, Problem, reason
from .rejects import is_rejects_file

UTF8_BOM = codecs.BOM_UTF8
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
#: Characters Python's cp932 codec gives for bytes that Shift_JIS text never contains.
_CP932_STRAYS = re.compile("[\u0080\uf8f0-\uf8f3]")


def _half_width_kana_share(text: str) -> float:
    """Share of half-width katakana among non-ASCII characters (EUC-JP read as CP932)."""
    wide = [c for c in text if ord(c) > 0x7F]
    if not wide:
        return 0.0
    return sum(1 for c in wide if "\uff61" <= c <= "\uff9f") / len(wide)


def decode_text(data: bytes, label: str) -> tuple[str, str]:
    """``(text, encoding)`` where encoding is ``utf-8-sig``, ``utf-8`` or ``cp932``."""
    if not data.strip():
        raise FileRejected(Problem(label, "-", "-", reason("importers.problem.empty_file")))
    if data.startswith(UTF16_BOMS):
        raise FileRejected(Problem(label, "-", "-", reason("importers.problem.utf16")))
    if b"\x00" in data:
        raise FileRejected(Problem(label, "-", "-", reason("importers.problem.binary")))
    if data.startswith(UTF8_BOM):
        try:
            return data[len(UTF8_BOM) :].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise FileRejected(_undecodable(label, data, exc)) from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp932")
    except UnicodeDecodeError as exc:
        raise FileRejected(_not_cp932(label, data, exc)) from exc
    stray = _CP932_STRAYS.search(text)
    if stray:
        # Bytes 0x80, 0xA0, 0xFD-0xFF never occur in Shift_JIS text; Python maps them anyway.
        position = len(text[: stray.start()].encode("cp932"))
        raise FileRejected(
            _not_cp932(label, data, UnicodeDecodeError("cp932", data, position, position + 1, ""))
        )
    if _half_width_kana_share(text[:4000]) > 0.5:
        # EUC-JP kanji bytes decode as CP932 half-width katakana: refuse rather than store noise.
        raise FileRejected(Problem(label, "-", "-", reason("importers.problem.euc_jp")))
    return text, "cp932"


def _not_cp932(label: str, data: bytes, exc: UnicodeDecodeError) -> Problem:
    """Neither UTF-8 nor CP932: say EUC-JP when it is that, else where decoding failed."""
    try:
        data.decode("euc_jp")
    except UnicodeDecodeError:
        return _undecodable(label, data, exc)
    return Problem(label, "-", "-", reason("importers.problem.euc_jp"))


def _undecodable(label: str, data: bytes, exc: UnicodeDecodeError) -> Problem:
    line = data[: exc.start].count(b"\n") + 1
    return Problem(label, line, "-", reason("importers.problem.encoding"))


def read_text(path: Path, label: str | None = None) -> tuple[str, str]:
    """Read and decode a text file; see :func:`decode_text`."""
    label = label or str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError as exc:
        raise FileRejected(Problem(label, "-", "-", reason("importers.problem.no_file"))) from exc
    except IsADirectoryError as exc:
        raise FileRejected(
            Problem(label, "-", "-", reason("importers.problem.is_directory"))
        ) from exc
    return decode_text(data, label)


def files_to_read(paths: Iterable[Path | str], suffix: str) -> list[Path]:
    """The files to read: each file as given; each folder's ``*<suffix>`` files (recursively,
    sorted), leaving out the rejects files an earlier ``--skip-invalid`` wrote there."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(
                p
                for p in path.rglob("*")
                if p.suffix.lower() == suffix and p.is_file() and not is_rejects_file(p)
            )
        else:
            found.append(path)
    return found
