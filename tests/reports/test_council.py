"""The council report of the demo incident and drill (a real SQLite file, real chromium for the
charts, real WeasyPrint): the PDF's text holds the figures computed here independently with
SQL; its pages are not blank; the workbook opens, holds no formula and escapes every cell that
could start one; hostile shelter names stay text in every format."""

from __future__ import annotations

import datetime as dt
import io
import re
import statistics
import subprocess
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from PIL import Image

from bosai.cli import main
from reports import council
from sql.engine import make_engine
from tests.conftest import sql, sqlite_backup

SAMPLES = Path(__file__).resolve().parents[1] / "surveys" / "samples"
HOSTILE = '=HYPERLINK("http://evil.invalid/","x")'
SCRIPT = "<script>alert(1)</script>"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
SAFE = ("safe_at_home", "at_shelter", "elsewhere_safe")


def seed_hostile_names(url: str) -> dict[str, int]:
    """Rename the two shelters with the highest peak to a formula and a script tag, and make
    one used shelter's counts small (3): the report must escape the first two and suppress
    the third."""
    peaks = sql(
        url,
        "SELECT shelter_id, MAX(head_count) AS peak FROM shelter_occupancy WHERE incident_id = 1 "
        "GROUP BY shelter_id ORDER BY peak DESC, shelter_id",
    )
    formula, script, small = peaks[0][0], peaks[1][0], peaks[-1][0]
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE shelters SET name = :n WHERE id = :i"), {"n": HOSTILE, "i": formula}
        )
        # One real GSI site among the synthetic ones: the maps must name both sources.
        conn.execute(
            sa.text("UPDATE shelters SET source = 'gsi', is_synthetic = :f WHERE id = :i"),
            {"f": False, "i": formula},
        )
        conn.execute(
            sa.text("UPDATE shelters SET name = :n WHERE id = :i"), {"n": SCRIPT, "i": script}
        )
        conn.execute(
            sa.text("UPDATE shelters SET name = :n WHERE id = :i"),
            {"n": "少人数避難所", "i": small},
        )
        conn.execute(
            sa.text("UPDATE shelter_occupancy SET head_count = 3 WHERE shelter_id = :i"),
            {"i": small},
        )
    engine.dispose()
    return {"formula": formula, "script": script, "small": small}


@pytest.fixture(scope="module")
def demo(tmp_path_factory, demo_city) -> tuple[str, dict[str, int]]:
    """The demo city (2,000 citizens), the sample questionnaires linked to its drill, the
    UI/UX timing sheet, and hostile shelter names."""
    path = tmp_path_factory.mktemp("council") / "demo.sqlite"
    url = sqlite_backup(demo_city(2000), path)
    for file in ("google_forms_drill_2022.csv", "kobo_drill_2022.csv"):
        args = [
            "survey",
            "import",
            str(SAMPLES / file),
            "--instrument",
            "drill-2022",
            "--drill",
            "1",
        ]
        assert main(["--database-url", url, *args]) == 0
    assert (
        main(
            [
                "--database-url",
                url,
                "survey",
                "import-timings",
                str(SAMPLES / "uiux_timings_2021.csv"),
            ]
        )
        == 0
    )
    return url, seed_hostile_names(url)


def pdf_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def squeezed(text: str) -> str:
    """The text without any whitespace (table cells wrap over lines in the layout)."""
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def incident_pdf(demo, tmp_path_factory) -> tuple[bytes, str, Path]:
    url, _ = demo
    engine = make_engine(url)
    data = council.produce(engine, "pdf", incident="1")
    engine.dispose()
    where = tmp_path_factory.mktemp("pdf")
    return data, pdf_text(data, where), where


def expected_figures(url: str) -> dict[str, str]:
    """The summary figures, computed here from the tables themselves."""
    citizens = sql(url, "SELECT COUNT(*) FROM citizens")[0][0]
    reached = sql(
        url,
        "SELECT COUNT(DISTINCT e.citizen_id) FROM notification_events e "
        "JOIN notification_requests r ON r.id = e.request_id "
        "WHERE r.incident_id = 1 AND e.event = 'delivered'",
    )[0][0]
    latest = sql(
        url,
        "SELECT s.state FROM status_reports s WHERE s.incident_id = 1 AND s.id = ("
        " SELECT s2.id FROM status_reports s2 WHERE s2.citizen_id = s.citizen_id"
        " AND s2.incident_id = 1 ORDER BY s2.reported_at DESC, s2.id DESC LIMIT 1)",
    )
    confirmed = sum(1 for (state,) in latest if state in SAFE)
    evacuated = sql(
        url,
        "SELECT COUNT(DISTINCT citizen_id) FROM status_reports WHERE incident_id = 1 "
        "AND state IN ('evacuating', 'at_shelter')",
    )[0][0]
    requests = sql(url, "SELECT COUNT(*) FROM rescue_requests WHERE incident_id = 1")[0][0]
    firsts = sql(
        url,
        "SELECT r.requested_at, MIN(e.at) FROM rescue_requests r JOIN rescue_request_events e "
        "ON e.request_id = r.id WHERE r.incident_id = 1 "
        "AND e.to_status IN ('assigned', 'en_route', 'resolved') GROUP BY r.id, r.requested_at",
    )

    def minutes(a, b) -> float:
        return (
            dt.datetime.fromisoformat(str(b)) - dt.datetime.fromisoformat(str(a))
        ).total_seconds() / 60

    assign = statistics.median(minutes(a, b) for a, b in firsts)
    # Every open shelter of the demo reports at every observation: the per-time sum is the total.
    peak = max(
        n
        for (n,) in sql(
            url,
            "SELECT SUM(head_count) FROM shelter_occupancy WHERE incident_id = 1 GROUP BY observed_at",
        )
    )
    register = sql(url, "SELECT citizen_id FROM support_register")
    register_ids = {r[0] for r in register}
    register_latest = sql(
        url,
        "SELECT s.citizen_id, s.state FROM status_reports s WHERE s.incident_id = 1 AND s.id = ("
        " SELECT s2.id FROM status_reports s2 WHERE s2.citizen_id = s.citizen_id"
        " AND s2.incident_id = 1 ORDER BY s2.reported_at DESC, s2.id DESC LIMIT 1)",
    )
    register_confirmed = sum(1 for c, s in register_latest if c in register_ids and s in SAFE)
    used = sql(
        url,
        "SELECT COUNT(*) FROM (SELECT shelter_id FROM shelter_operations WHERE incident_id = 1 "
        "UNION SELECT shelter_id FROM shelter_occupancy WHERE incident_id = 1 AND head_count > 0)",
    )[0][0]
    return {
        "登録市民（オプトイン）": f"{citizens:,}",
        "通知が届いた人": f"{reached:,}",
        "無事を確認できた人（期間末）": f"{confirmed:,}",
        "避難した人": f"{evacuated:,}",
        "救助要請": f"{requests:,}",
        "隊の割当までの時間（中央値）": f"{assign:.0f} 分",
        "使用した避難所": f"{used:,}",
        "避難者数のピーク（合計）": f"{peak:,}",
        "要支援者の安否確認率（期間末）": f"{register_confirmed / len(register_ids):.1%}",
    }


def test_the_pdf_states_the_figures_computed_independently(demo, incident_pdf):
    url, _ = demo
    _, text, _ = incident_pdf
    for label, value in expected_figures(url).items():
        assert re.search(re.escape(label) + r"\s+" + re.escape(value), text), (label, value)
    assert "令和8年7月10日" in text and "2026年7月10日" in text  # 和暦 and Western dates
    assert "会津若松市" in text
    assert "【デモ】" in text  # synthetic data are marked


def test_pdf_fonts_are_embedded_japanese_and_pages_are_not_blank(incident_pdf):
    data, text, where = incident_pdf
    path = where / "report.pdf"
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    rows = [line.split() for line in fonts.stdout.splitlines()[2:]]
    assert rows and all("Noto-Sans-CJK-JP" in r[0] for r in rows)
    assert all("yes" in r[-5:-2] for r in rows), fonts.stdout  # emb = yes
    images = subprocess.run(
        ["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True
    )
    assert len(images.stdout.splitlines()) - 2 >= 8, "the charts and maps are in the PDF"
    subprocess.run(["pdftoppm", "-r", "24", "-png", str(path), str(where / "page")], check=True)
    pages = sorted(where.glob("page-*.png"))
    assert len(pages) == text.count("\f")
    for page in pages:
        gray = Image.open(page).convert("L")
        dark = sum(gray.histogram()[:200])
        assert dark > 0.005 * gray.width * gray.height, f"{page.name} is blank"


def test_hostile_names_are_text_in_the_pdf_and_the_html(demo, incident_pdf):
    url, _ = demo
    _, text, _ = incident_pdf
    flat = squeezed(text)
    assert squeezed(HOSTILE) in flat
    assert squeezed(SCRIPT) in flat
    engine = make_engine(url)
    html = council.produce(engine, "html", incident="1").decode("utf-8")
    engine.dispose()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count('src="data:image/png;base64,') >= 8


def test_small_cells_are_suppressed(demo, incident_pdf):
    url, _ = demo
    _, text, _ = incident_pdf
    assert "5人未満" in text  # the method note
    # The PDF lists the shelters with the highest peaks (the rest in the workbook, said so).
    assert "全169件はExcel版の同じ表にあります" in text or "Excel版" in text
    engine = make_engine(url)
    report = council.build(engine, incident="1", draw_charts=False)
    engine.dispose()
    table = next(t for t in report.appendix if t.key == "shelters")
    row = next(r for r in table.text_rows() if r[0] == "少人数避難所")
    assert row[3] == "5未満" and row[5] == "—"
    assert "3" not in row[3:6]
    districts = next(t for t in report.appendix if t.key == "districts")
    for cells, (_, raw) in zip(districts.text_rows(), districts.frame.iterrows(), strict=True):
        for k, column in enumerate(districts.columns):
            if column.kind == "count" and 0 < raw[column.key] < 5:
                assert cells[k] == "5未満"


def test_the_workbook_has_one_sheet_per_table_and_no_formula(demo):
    url, ids = demo
    engine = make_engine(url)
    report = council.build(engine, incident="1", draw_charts=False)
    data = council.render(report, "xlsx")
    engine.dispose()
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert len(book.sheetnames) == 1 + len(report.appendix) + 1  # cover, tables, notes
    found_formula = found_script = small = False
    for sheet in book.worksheets:
        used = {
            cell.column_letter
            for row in sheet.iter_rows()
            for cell in row
            if cell.value is not None
        }
        for letter in used:
            assert sheet.column_dimensions[letter].width >= 8, (sheet.title, letter)
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(FORMULA_PREFIXES), (sheet.title, cell.value)
                    found_formula |= cell.value == "'" + HOSTILE
                    found_script |= cell.value == SCRIPT
    assert found_formula and found_script
    sheet = book["使用した避難所"]
    for row in sheet.iter_rows(values_only=True):
        if row[0] == "少人数避難所":
            assert row[3] == "5未満" and row[5] == "—"
            small = True
    assert small
    # Numbers stay numbers where they are shown.
    curve = book["避難者数の推移（合計）"]
    values = [r[1] for r in curve.iter_rows(min_row=4, values_only=True) if r[1] is not None]
    assert values and all(isinstance(v, int) or v == "5未満" for v in values)


def test_drill_report_has_the_research_findings(demo, tmp_path):
    url, _ = demo
    engine = make_engine(url)
    data = council.produce(engine, "pdf", drill="1")
    engine.dispose()
    text = pdf_text(data, tmp_path)
    participants = sql(
        url, "SELECT COUNT(DISTINCT citizen_id) FROM drill_events WHERE drill_id = 1"
    )[0][0]
    assert re.search(r"訓練参加者\s+" + f"{participants:,}", text)
    linked = sql(
        url,
        "SELECT COUNT(*) FROM survey_responses WHERE drill_id = 1 AND instrument_id = 'drill-2022'",
    )[0][0]
    assert f"回答 {linked} 件" in text
    for title in (
        "訓練の記録",
        "アンケートの結果",
        "オプトイン（同意）の受容",
        "UI/UXテストの結果",
    ):
        assert title in text
    timings = sql(url, "SELECT COUNT(DISTINCT participant) FROM uiux_task_timings")[0][0]
    assert timings > 0 and "所要時間" in text
    assert "防災訓練の報告書" in text


def test_english_labels_and_the_cli(demo, tmp_path):
    url, _ = demo
    engine = make_engine(url)
    report = council.build(engine, incident="1", lang="en", draw_charts=False)
    engine.dispose()
    html = council.to_html(report)
    assert "Disaster response report to the council" in html and "Summary figures" in html
    out = tmp_path / "r.xlsx"
    assert (
        main(["--database-url", url, "report", "council", "--incident", "1", "--out", str(out)])
        == 0
    )
    assert out.stat().st_size > 0
    bad = tmp_path / "none.pdf"
    assert (
        main(["--database-url", url, "report", "council", "--incident", "99", "--out", str(bad)])
        == 2
    )
    assert main(["--database-url", url, "report", "council", "--out", str(bad)]) == 2
    assert not bad.exists()


@pytest.mark.pg
def test_council_report_on_postgresql(pg_url, tmp_path):
    assert main(["--database-url", pg_url, "demo", "--citizens", "600"]) == 0
    engine = make_engine(pg_url)
    data = council.produce(engine, "pdf", incident="1")
    engine.dispose()
    text = pdf_text(data, tmp_path)
    expected = expected_figures_pg(pg_url)
    for label, value in expected.items():
        assert re.search(re.escape(label) + r"\s+" + re.escape(value), text), (label, value)


def expected_figures_pg(url: str) -> dict[str, str]:
    citizens = sql(url, "SELECT COUNT(*) FROM citizens")[0][0]
    reached = sql(
        url,
        "SELECT COUNT(DISTINCT e.citizen_id) FROM notification_events e JOIN notification_requests r "
        "ON r.id = e.request_id WHERE r.incident_id = 1 AND e.event = 'delivered'",
    )[0][0]
    confirmed = sql(
        url,
        "SELECT COUNT(*) FROM (SELECT DISTINCT ON (citizen_id) citizen_id, state FROM status_reports "
        "WHERE incident_id = 1 ORDER BY citizen_id, reported_at DESC, id DESC) latest "
        "WHERE state IN ('safe_at_home', 'at_shelter', 'elsewhere_safe')",
    )[0][0]
    peak = sql(
        url,
        "SELECT MAX(total) FROM (SELECT SUM(head_count) AS total FROM shelter_occupancy "
        "WHERE incident_id = 1 GROUP BY observed_at) t",
    )[0][0]
    return {
        "登録市民（オプトイン）": f"{citizens:,}",
        "通知が届いた人": f"{reached:,}",
        "無事を確認できた人（期間末）": f"{confirmed:,}",
        "避難者数のピーク（合計）": f"{peak:,}",
    }


def test_maps_name_where_the_shelters_come_from(demo):
    from reports.council_figures import incident_figures
    from reports.council_incident import map_note
    from sql.city_config import active_city
    from sql.queries.report_figures import find_incident
    from sql.viewer import SYSTEM

    url, _ = demo
    engine = make_engine(url)
    figures = incident_figures(engine, find_incident(engine, 1), active_city(engine), SYSTEM)
    engine.dispose()
    note = map_note(figures, "ja", cells=True)
    assert "出典：国土地理院" in note  # the GSI site
    assert "合成データ" in note  # the demo's synthetic shelters
    assert "背景地図なし" in note and "H3" in note


def test_the_evacuation_timeline_with_people_and_minutes_from_trigger(evacuation_engine, tmp_path):
    """Issued, raised and lifted decisions in order, residents of the areas counted
    independently in SQL (a tiny area around one household shows 「5未満」), all residents by
    the city's counts beside them (public statistics: a small count is shown as given), the
    minutes from the trigger, 「—」 for a decision by hand."""
    from importers.evacuation import read_areas
    from reports.tables import count_text
    from sql.actions.evacuation import issue, lift
    from sql.imports.evacuation import import_areas
    from sql.incident_clock import incident_clock
    from sql.models import EvacuationArea
    from sql.viewer import SYSTEM, Viewer
    from tests.reports.test_situation import residents_in

    e = evacuation_engine
    with e.connect() as conn:
        lon, lat = conn.execute(
            sa.text(
                "SELECT home_lon, home_lat FROM citizens WHERE home_lon IS NOT NULL ORDER BY id"
            )
        ).first()
    d = 0.00005
    tiny = tmp_path / "tiny.csv"
    tiny.write_text(
        "区域コード,区域名,種別,人口,世帯数,WKT\n"
        f'TINY-1,小さな区域,町字,3,2,"POLYGON (({lon - d} {lat - d}, {lon + d} {lat - d}, '
        f'{lon + d} {lat + d}, {lon - d} {lat + d}, {lon - d} {lat - d}))"\n',
        encoding="utf-8",
    )
    import_areas(e, SYSTEM, read_areas(tiny), "tiny.csv")
    with e.connect() as conn:
        found = dict(conn.execute(sa.select(EvacuationArea.code, EvacuationArea.id)).all())
        few = conn.execute(
            sa.text(
                "SELECT COUNT(*) FROM citizens WHERE home_lon BETWEEN :a AND :b "
                "AND home_lat BETWEEN :c AND :f"
            ),
            {"a": lon - d, "b": lon + d, "c": lat - d, "f": lat + d},
        ).scalar_one()
    assert 1 <= few < 5
    hq = Viewer(role="hq", subject="hq-1")
    reached = (incident_clock(e, 1) - dt.timedelta(minutes=40)).isoformat()
    issue(
        e,
        hq,
        1,
        [found["YU-3"], found["AG-2"]],
        3,
        "避難判断水位",
        idempotency_key="c1",
        trigger={"kind": "river_level", "triggered_at": reached},
    )
    issue(e, hq, 1, [found["TINY-1"]], 4, "手動", idempotency_key="c2")
    lift(e, hq, 1, [found["YU-3"], found["AG-2"], found["TINY-1"]], "解除", idempotency_key="c3")

    report = council.build(e, incident="1", draw_charts=False)
    section = next(s for s in report.sections if s.key == "evacuation")
    table = next(t for t in report.appendix if t.key == "evacuation")
    assert section.tables == [table] and section.empty is None
    rows = table.text_rows()
    assert [r[1] for r in rows] == ["警戒レベル3 高齢者等避難", "警戒レベル4 避難指示", "解除"]
    assert rows[0][2] == "城北町字（湯川沿い）、阿賀川 浸水想定区域（神指）"
    both = residents_in(e, "YU-3") + residents_in(e, "AG-2")
    registry = "（出典: 住民基本台帳（令和8年4月1日））"
    assert rows[0][3] == f"1,320人・587世帯{registry}（1/2 区域分の集計）"  # AG-2 has none
    assert rows[1][3] == "3人・2世帯"  # the city's statistics: no 「5未満」
    assert rows[2][3] == f"1,323人・589世帯{registry}（2/3 区域分の集計）"
    assert rows[0][4] == count_text(both)
    assert rows[1][4] == "5未満" and str(few) not in rows[1][4]  # suppressed for the council
    assert rows[2][4] == count_text(both + few)
    assert int(rows[0][5]) >= 40 and rows[1][5] == "—" and rows[2][5] == "—"
    assert rows[0][0].startswith("令和")  # Japan time, 和暦
    assert any("基準到達から発令まで" in line for line in section.intro)
    workbook_cells = table.cell_rows()
    assert workbook_cells[1][4] == "5未満"
    assert [c.label for c in table.columns][3:5] == ["区域の住民（市の集計）", "オプトイン市民"]
    english = council.build(e, incident="1", lang="en", draw_charts=False)
    rows_en = next(t for t in english.appendix if t.key == "evacuation").text_rows()
    assert rows_en[1][1] == "Alert level 4: Evacuation order" and rows_en[2][1] == "Lifted"
    assert rows_en[1][3] == "3 people, 2 households"
