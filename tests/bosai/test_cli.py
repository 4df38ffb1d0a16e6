"""The command line: clear one-line errors, non-zero exits, city configuration as data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from bosai.cli import main
from sql.city_config import DEFAULT_CITY_FILE

ROOT = Path(__file__).resolve().parents[2]


def run_bosai(
    *args: str, url: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    env = {**os.environ}
    if url:
        env["BOSAI_DATABASE_URL"] = url
    return subprocess.run(
        [sys.executable, "-m", "bosai", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd or ROOT,
        timeout=120,
    )


def test_info_reports_revision_city_and_counts(sqlite_url, capsys):
    assert main(["--database-url", sqlite_url, "info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["schema_revision"] == info["code_revision"]
    assert info["city"] == "会津若松市 (072028)"
    assert info["counts"]["cities"] == 1 and info["counts"]["citizens"] == 0


def test_upgrade_creates_a_fresh_database_in_the_default_place(tmp_path):
    result = run_bosai("db", "upgrade", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "var" / "bosai.sqlite").exists()
    assert "schema at revision" in result.stdout


def test_an_unreachable_database_is_one_clear_line(tmp_path):
    result = run_bosai("info", url="postgresql://nobody@127.0.0.1:1/none")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bosai: error: database unavailable")
    assert "Traceback" not in result.stderr


def test_an_unmigrated_database_says_what_to_do(tmp_path):
    result = run_bosai("info", url=f"sqlite:///{tmp_path / 'empty.sqlite'}")
    assert result.returncode == 1
    assert "run `bosai db upgrade`" in result.stderr and "Traceback" not in result.stderr


def test_city_show_set_and_load(sqlite_url, tmp_path, capsys):
    assert main(["--database-url", sqlite_url, "city", "show"]) == 0
    shown = yaml.safe_load(capsys.readouterr().out)
    assert shown["jma_municipality_code"] == "0720200" and shown["jma_group_code"] == "070032"
    assert main(["--database-url", sqlite_url, "city", "set", "default_zoom=13"]) == 0
    capsys.readouterr()
    nanao = {
        **yaml.safe_load(DEFAULT_CITY_FILE.read_text(encoding="utf-8")),
        "municipality_code": "172022",
        "name_ja": "七尾市",
        "name_en": "Nanao",
        "prefecture_ja": "石川県",
        "prefecture_en": "Ishikawa",
        "jma_municipality_code": "1720200",
        "jma_group_code": "170011",
        "jma_subdivision_code": "170010",
        "jma_prefecture_code": "170000",
        "center_lat": 37.043,
        "center_lon": 136.967,
        "bbox_south": 36.95,
        "bbox_west": 136.80,
        "bbox_north": 37.20,
        "bbox_east": 137.10,
    }
    path = tmp_path / "nanao.yaml"
    path.write_text(yaml.safe_dump(nanao, allow_unicode=True), encoding="utf-8")
    assert main(["--database-url", sqlite_url, "city", "load", str(path)]) == 0
    assert "七尾市 (172022)" in capsys.readouterr().out
    assert main(["--database-url", sqlite_url, "city", "show"]) == 0
    assert yaml.safe_load(capsys.readouterr().out)["name_en"] == "Nanao"


def test_a_bad_city_file_names_every_problem_and_changes_nothing(sqlite_url, tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("municipality_code: '12'\nname_ja: X\ncenter_lat: north\n", encoding="utf-8")
    assert main(["--database-url", sqlite_url, "city", "load", str(path)]) == 2
    err = capsys.readouterr().err
    assert "municipality_code: expected 6 digits" in err
    assert "missing field 'prefecture_ja'" in err
    assert "center_lat: not a number" in err
    assert main(["--database-url", sqlite_url, "city", "show"]) == 0
    assert yaml.safe_load(capsys.readouterr().out)["municipality_code"] == "072028"
