"""The council report on a real incident known only from snapshots: the Nanao 2024 shelter head
counts (``bosai import occupancy``). The peak comes out as the largest snapshot total, read here
straight from the CSV files; the sections without data say so."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess

import pandas as pd
import pytest

from bosai.cli import main
from bosai.jpdate import wareki
from reports import council
from sql.engine import make_engine
from tests.conftest import ROOT

NANAO_CITY = ROOT / "tests" / "importers" / "data" / "nanao_172022.yaml"


def snapshot_total(path) -> int:
    frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    column = next(c for c in frame.columns if c.startswith("人数"))
    return int(pd.to_numeric(frame[column], errors="coerce").fillna(0).sum())


@pytest.fixture
def nanao(tmp_path, sqlite_template, opendata):
    path = tmp_path / "nanao.sqlite"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    history = opendata / "nanao_noto2024" / "history"
    assert main(["--database-url", url, "city", "load", str(NANAO_CITY)]) == 0
    assert main(["--database-url", url, "import", "occupancy", str(history)]) == 0
    return url, sorted(history.glob("*.csv"))


@pytest.mark.opendata
def test_nanao_peak_and_empty_sections(nanao, tmp_path):
    url, files = nanao
    totals = {f: snapshot_total(f) for f in files}
    top = max(files, key=lambda f: (totals[f], -files.index(f)))
    stamp = re.search(r"(\d{4})-(\d{2})-(\d{2})-(\d{2})(\d{2})", top.name).groups()
    year, month, day, hour, minute = map(int, stamp)

    engine = make_engine(url)
    report = council.build(engine, incident="1")
    data = council.render(report, "pdf")
    engine.dispose()
    shelter_map = next(c for c in report.charts if c.key == "map_shelters")
    note = shelter_map.figure.layout.annotations[0].text
    assert "開設避難所のオープンデータ" in note and "合成データ" not in note
    path = tmp_path / "nanao.pdf"
    path.write_bytes(data)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    peak_line = next(line for line in text.splitlines() if "避難者数のピーク（合計）" in line)
    assert f"{totals[top]:,}" in peak_line
    assert f"{wareki(dt.date(year, month, day))} {hour}:{minute:02d}" in peak_line
    assert "七尾市" in text
    assert "令和6年1月9日" in text and "2024年1月9日" in text  # the period, both calendars
    assert "この事案には市民からの安否報告がありません" in text
    assert "この事案には救助要請がありません" in text
    shelters = len({row for f in files for row in pd.read_csv(f, dtype=str)["名称"]})
    used = next(line for line in text.splitlines() if "使用した避難所" in line)
    assert re.search(r"使用した避難所\s+" + str(shelters) + r"\b", used)
