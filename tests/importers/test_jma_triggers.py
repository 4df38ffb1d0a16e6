"""JMA telegrams as evacuation triggers (issue 17): 土砂災害警戒情報 (VXWW50) and
指定河川洪水予報 (VXKO) parsed into triggers, stored once, and turned into the rules'
proposals — "土砂災害警戒情報 for the city → レベル4 for the landslide areas", "氾濫危険情報 on
the 阿賀川 → レベル4 for its flood areas". Samples: tests/data/jma_triggers (see its README)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from bosai.cli import main
from importers.jma_triggers import read_trigger_telegram, read_trigger_telegrams
from sql.imports.evacuation import import_trigger_telegrams
from sql.viewer import SYSTEM, Viewer

DATA = Path(__file__).parents[1] / "data" / "jma_triggers"
VPWW54 = Path(__file__).parents[1] / "data"


@pytest.mark.parametrize(
    ("name", "kind", "items"),
    [
        (
            "vxww50_issued.xml",
            "landslide_warning",
            [
                ("0720200", "会津若松市", "3", "土砂災害警戒", True),
                ("0720800", "喜多方市", "1", "なし", False),
            ],
        ),
        (
            "vxww50_lifted.xml",
            "landslide_warning",
            [
                ("0720200", "会津若松市", "1", "なし", False),
                ("0720800", "喜多方市", "1", "なし", False),
            ],
        ),
        (
            "vxko_agagawa_warning.xml",
            "flood_forecast",
            [("820500030001", "阿賀川", "30", "氾濫警戒情報", True)],
        ),
        (
            "vxko_agagawa_danger.xml",
            "flood_forecast",
            [("820500030001", "阿賀川", "40", "氾濫危険情報", True)],
        ),
    ],
)
def test_telegrams_become_triggers(name, kind, items):
    telegram, skip, problems = read_trigger_telegram(DATA / name)
    assert problems == [] and skip is None
    assert telegram.kind == kind and telegram.report_time.tzinfo is not None
    got = [
        (i.subject_code, i.subject_name, i.kind_code, i.forecast, i.in_force)
        for i in telegram.items
    ]
    assert got == items


def edited(tmp_path: Path, name: str, old: str, new: str) -> Path:
    path = tmp_path / name
    text = (DATA / name).read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "old", "new", "element", "says"),
    [
        (
            "vxww50_issued.xml",
            "<Code>3</Code><Status>発表</Status>",
            "<Code>9</Code><Status>発表</Status>",
            "Kind/Code",
            '"9"',
        ),
        (
            "vxww50_issued.xml",
            "<Code>3</Code><Status>発表</Status>",
            "<Code>3</Code><Status>たぶん</Status>",
            "Kind/Status",
            '"たぶん"',
        ),
        (
            "vxww50_issued.xml",
            "<Area><Name>会津若松市</Name><Code>0720200</Code></Area>\n      </Item>",
            "<Area><Name>会津若松市</Name></Area>\n      </Item>",
            "Area/Code",
            "Area/Code",
        ),
        (
            "vxko_agagawa_danger.xml",
            "<Code>40</Code>",
            "<Code>4</Code>",
            "Kind/Code",
            '"4"',
        ),
        (
            "vxko_agagawa_danger.xml",
            "<ReportDateTime>2026-07-10T05:05:00+09:00</ReportDateTime>",
            "<ReportDateTime>2026-07-10T05:05:00</ReportDateTime>",
            "ReportDateTime",
            "2026-07-10T05:05:00",
        ),
    ],
)
def test_bad_telegrams_name_file_line_and_element(tmp_path, name, old, new, element, says):
    path = edited(tmp_path, name, old, new)
    telegram, _, problems = read_trigger_telegram(path)
    assert telegram is None and problems
    problem = problems[0]
    assert problem.file == str(path) and problem.column == element
    assert isinstance(problem.row, int) and problem.row > 1
    assert says in str(problem)


def test_other_and_test_telegrams_are_skipped(tmp_path):
    other = tmp_path / "vpww54.xml"
    other.write_text(
        (DATA / "vxww50_issued.xml")
        .read_text(encoding="utf-8")
        .replace("<Title>土砂災害警戒情報</Title>", "<Title>気象警報・注意報（Ｈ２７）</Title>"),
        encoding="utf-8",
    )
    test = edited(
        tmp_path, "vxko_agagawa_danger.xml", "<Status>通常</Status>", "<Status>試験</Status>"
    )
    batch = read_trigger_telegrams([other, test, DATA / "vxww50_issued.xml"])
    assert [t.kind for t in batch.telegrams] == ["landslide_warning"]
    assert len(batch.skipped) == 2 and batch.problems == []


def stored(engine) -> list[tuple]:
    with engine.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT kind, subject_code, forecast, in_force FROM evacuation_triggers "
                "ORDER BY report_time, subject_code"
            )
        ).all()


def test_import_keeps_the_city_and_its_rivers_and_a_reimport_changes_nothing(engine):
    batch = read_trigger_telegrams([DATA])
    first = import_trigger_telegrams(engine, SYSTEM, batch.telegrams)
    assert first.added == 4 and first.unchanged == 0
    assert stored(engine) == [
        ("landslide_warning", "0720200", "土砂災害警戒", True),
        ("flood_forecast", "820500030001", "氾濫警戒情報", True),
        ("flood_forecast", "820500030001", "氾濫危険情報", True),
        ("landslide_warning", "0720200", "なし", False),
    ]
    with engine.connect() as conn:
        audits = conn.execute(
            sa.text(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'write:evacuation_triggers_imported'"
            )
        ).scalar()
    again = import_trigger_telegrams(engine, SYSTEM, read_trigger_telegrams([DATA]).telegrams)
    assert again.added == 0 and again.unchanged == 4
    assert len(stored(engine)) == 4
    with engine.connect() as conn:
        assert (
            conn.execute(
                sa.text(
                    "SELECT COUNT(*) FROM audit_log WHERE action = 'write:evacuation_triggers_imported'"
                )
            ).scalar()
            == audits
            == 1
        )


HQ = Viewer(role="hq", subject="hq-1")


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        # 土砂災害警戒情報 for the city → レベル4 for the landslide area
        (["vxww50_issued.xml"], {"LS-1": 4}),
        # … lifted before "now": nothing proposed
        (["vxww50_issued.xml", "vxww50_lifted.xml"], {}),
        # 氾濫警戒情報 on the 阿賀川: no rule for it
        (["vxko_agagawa_warning.xml"], {}),
        # 氾濫危険情報 on the 阿賀川 → レベル4 for its flood areas
        (["vxko_agagawa_warning.xml", "vxko_agagawa_danger.xml"], {"AG-1": 4, "AG-2": 4}),
    ],
)
def test_the_board_proposes_from_the_telegrams(evacuation_engine, files, expected):
    from dashboard.evacuation_state import build_board
    from sql.city_config import active_city

    batch = read_trigger_telegrams([DATA / f for f in files])
    import_trigger_telegrams(evacuation_engine, SYSTEM, batch.telegrams)
    board = build_board(evacuation_engine, HQ, 1, active_city(evacuation_engine))
    assert {p.area: p.level for p in board.proposals} == expected
    for p in board.proposals:
        newest = max(t.report_time for t in batch.telegrams)
        assert p.triggered_at is not None and p.triggered_at <= newest
        if p.area.startswith("AG"):
            assert p.trigger == {
                "kind": "flood_forecast",
                "forecast": "氾濫危険情報",
                "river": "阿賀川",
            }
            # since the 氾濫危険情報, not the earlier 氾濫警戒情報
            assert p.triggered_at == dt.datetime(2026, 7, 9, 20, 5, tzinfo=dt.UTC)


def test_a_drill_telegram_proposes_nothing_for_a_real_incident(evacuation_engine, tmp_path):
    from dashboard.evacuation_state import build_board
    from sql.city_config import active_city

    drill = edited(tmp_path, "vxww50_issued.xml", "<Status>通常</Status>", "<Status>訓練</Status>")
    (telegram,) = read_trigger_telegrams([drill]).telegrams
    assert telegram.is_drill
    import_trigger_telegrams(evacuation_engine, SYSTEM, [telegram])
    board = build_board(evacuation_engine, HQ, 1, active_city(evacuation_engine))
    assert board.proposals == []  # the demo's incident is real (its own clock, synthetic data)


def test_the_cli_imports_a_folder_and_says_what_it_did(sqlite_url, capsys):
    args = ["--database-url", sqlite_url, "evacuation", "import-jma", str(DATA)]
    assert main(args) == 0
    out = capsys.readouterr()
    assert "土砂災害警戒情報・指定河川洪水予報: 追加 4" in out.out
    assert main(args) == 0
    assert "変更なし 4" in capsys.readouterr().out
    bad = DATA.parent / "jma_triggers_bad_does_not_exist.xml"
    assert main(["--database-url", sqlite_url, "evacuation", "import-jma", str(bad)]) != 0
