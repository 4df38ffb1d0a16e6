"""The installed ``bosai`` console script, as staff run it (a real process, real exit codes)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from sql.content_hash import content_hash
from sql.engine import get_engine
from sql.models import Shelter

from .conftest import BAD, DATA, rows

SCRIPT = Path(sys.executable).with_name("bosai")


def bosai_process(url: str, *args: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SCRIPT), "--database-url", url, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_console_script_imports_and_refuses(db_url):
    assert SCRIPT.exists(), f"no console script at {SCRIPT}"
    good = bosai_process(db_url, "import", "shelters", DATA / "aizu_two_sites.csv")
    assert good.returncode == 0, good.stderr
    assert good.stdout.startswith("避難所: 追加 2・変更 0・変更なし 0 / Shelters: 2 added")
    stored = rows(db_url, sa.select(Shelter.name, Shelter.capacity).order_by(Shelter.name))
    assert stored == [("会津若松市役所", 200), ("鶴ヶ城公園", None)]

    before = content_hash(get_engine(db_url))
    bad = bosai_process(db_url, "import", "shelters", BAD / "shelters_swapped_coordinates.csv")
    assert bad.returncode == 2
    lines = bad.stderr.splitlines()
    assert lines[0].startswith(
        "bosai: error: 避難所データに誤りがあります（何も書き込んでいません）"
    )
    assert lines[1].startswith(f"{BAD / 'shelters_swapped_coordinates.csv'}:2:緯度: ")
    assert "Traceback" not in bad.stderr and bad.stdout == ""
    assert content_hash(get_engine(db_url)) == before
