"""The situation report (災害状況報告): one page at any moment of an incident, the figures
compared with the previous report (computed here independently with SQL), what changed
highlighted, and a warning for every section without data — on the demo incident and on the
imported Nanao 2024 snapshots."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pandas as pd
import pytest
import sqlalchemy as sa

from bosai.cli import main
from reports import situation
from sql.engine import make_engine
from tests.conftest import ROOT, sql

JST = dt.timezone(dt.timedelta(hours=9))
SAFE = ("safe_at_home", "at_shelter", "elsewhere_safe")
OPEN = ("new", "triaged", "assigned", "en_route")
NANAO_CITY = ROOT / "tests" / "importers" / "data" / "nanao_172022.yaml"


def utc_text(moment: dt.datetime) -> str:
    """The moment as SQLite stores it (UTC, naive text) for comparisons in SQL."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def confirmed_at(url: str, moment: dt.datetime) -> int:
    rows = sql(
        url,
        "SELECT s.state FROM status_reports s WHERE s.incident_id = 1 AND s.reported_at <= :t "
        "AND s.id = (SELECT s2.id FROM status_reports s2 WHERE s2.citizen_id = s.citizen_id "
        "AND s2.incident_id = 1 AND s2.reported_at <= :t ORDER BY s2.reported_at DESC, s2.id DESC LIMIT 1)",
        t=utc_text(moment),
    )
    return sum(1 for (state,) in rows if state in SAFE)


def head_count_at(url: str, moment: dt.datetime) -> int:
    """Each open shelter's latest count at or before the moment, summed."""
    rows = sql(
        url,
        "SELECT o.shelter_id, o.head_count FROM shelter_occupancy o WHERE o.incident_id = 1 "
        "AND o.observed_at = (SELECT MAX(o2.observed_at) FROM shelter_occupancy o2 "
        "WHERE o2.shelter_id = o.shelter_id AND o2.incident_id = 1 AND o2.observed_at <= :t) "
        "AND EXISTS (SELECT 1 FROM shelter_operations p WHERE p.shelter_id = o.shelter_id "
        "AND p.incident_id = 1 AND p.opened_at <= :t AND (p.closed_at IS NULL OR p.closed_at > :t))",
        t=utc_text(moment),
    )
    best: dict[int, int] = {}
    for shelter, count in rows:
        best[shelter] = max(best.get(shelter, 0), count)
    # Shelters that use reception count the people checked in there then (walk-ins with their
    # households), not their manual counts (issue 18).
    t = utc_text(moment)
    reception = sql(
        url,
        "SELECT s.shelter_id, SUM(CASE WHEN s.arrived_at <= :t AND (s.left_at IS NULL OR "
        "s.left_at > :t) THEN COALESCE(w.household_size, 1) ELSE 0 END) FROM evacuee_stays s "
        "LEFT JOIN walk_ins w ON w.id = s.walk_in_id WHERE s.incident_key = 1 AND "
        "s.place_kind = 'shelter' AND s.arrived_at <= :t GROUP BY s.shelter_id",
        t=t,
    )
    for shelter, count in reception:
        if sql(
            url,
            "SELECT 1 FROM shelter_operations p WHERE p.shelter_id = :s AND p.incident_id = 1 "
            "AND p.opened_at <= :t AND (p.closed_at IS NULL OR p.closed_at > :t)",
            s=shelter,
            t=t,
        ):
            best[shelter] = int(count)
    return sum(best.values())


def open_rescue_at(url: str, moment: dt.datetime) -> int:
    rows = sql(
        url,
        "SELECT r.id, (SELECT e.to_status FROM rescue_request_events e WHERE e.request_id = r.id "
        "AND e.at <= :t ORDER BY e.at DESC, e.id DESC LIMIT 1) FROM rescue_requests r "
        "WHERE r.incident_id = 1 AND r.requested_at <= :t",
        t=utc_text(moment),
    )
    return sum(1 for _, status in rows if (status or "new") in OPEN)


class FigureRows(HTMLParser):
    """The rows of the figures table: (label, before, after, delta, changed?)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[list[str], bool]] = []
        self._in_table = False
        self._row: list[str] | None = None
        self._changed = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("class") == "figures":
            self._in_table = True
        elif self._in_table and tag == "tr":
            self._row, self._changed = [], attrs.get("class") == "changed"
        elif self._row is not None and tag == "td":
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self._in_table = False
        elif tag == "td" and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row:
            self.rows.append((self._row, self._changed))
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def figure_rows(html: str) -> dict[str, tuple[list[str], bool]]:
    parser = FigureRows()
    parser.feed(html)
    return {cells[0]: (cells, changed) for cells, changed in parser.rows}


@pytest.fixture(scope="module")
def demo_url(demo_city) -> str:
    return demo_city(1200)


def test_figures_match_sql_and_changes_are_highlighted(demo_url):
    at = dt.datetime(2026, 7, 10, 6, 0, tzinfo=JST)
    since = dt.datetime(2026, 7, 10, 5, 30, tzinfo=JST)
    engine = make_engine(demo_url)
    html = situation.produce(engine, "1", "html", at=at, since=since).decode("utf-8")
    engine.dispose()
    rows = figure_rows(html)
    expected = {
        "無事を確認できた人": (confirmed_at(demo_url, since), confirmed_at(demo_url, at)),
        "避難者数（開設中の避難所の合計）": (
            head_count_at(demo_url, since),
            head_count_at(demo_url, at),
        ),
        "対応中の救助要請": (open_rescue_at(demo_url, since), open_rescue_at(demo_url, at)),
    }
    for label, (before, after) in expected.items():
        cells, changed = rows[label]
        assert cells[1:3] == [f"{before:,}", f"{after:,}"], label
        assert changed == (before != after), label
        if before != after and min(before, after, abs(after - before)) >= 5:
            arrow = "▲ +" if after > before else "▼ −"
            assert cells[3] == f"{arrow}{abs(after - before):,}"
    assert any(changed for _, changed in rows.values())
    unchanged = [label for label, (_, changed) in rows.items() if not changed]
    assert unchanged, "not everything is highlighted"
    assert "データのない項目があります" not in html  # every section has data at 06:00


def test_new_and_lifted_warnings_are_flagged(demo_url):
    engine = make_engine(demo_url)
    report = situation.build(
        engine,
        "1",
        at=dt.datetime(2026, 7, 10, 4, 50, tzinfo=JST),
        since=dt.datetime(2026, 7, 10, 4, 35, tzinfo=JST),
    )
    html = situation.to_html(report)
    engine.dispose()
    assert report.warnings["issued"] == ["洪水警報"]
    assert report.warnings["lifted"] == ["洪水注意報"]
    assert re.search(r'<li class="new"><span class="tag">新規</span>前回以降に発表：洪水警報', html)
    assert re.search(
        r'<li class="new"><span class="tag">解除</span>前回以降に解除：洪水注意報', html
    )


def test_empty_sections_are_warned_about(demo_url, tmp_path):
    """At the declaration (04:00) nothing but the warnings has arrived yet."""
    at = dt.datetime(2026, 7, 10, 4, 0, tzinfo=JST)
    since = dt.datetime(2026, 7, 10, 3, 0, tzinfo=JST)
    counts = {
        "status": sql(
            demo_url,
            "SELECT COUNT(*) FROM status_reports WHERE incident_id = 1 AND reported_at <= :t",
            t=utc_text(at),
        )[0][0],
        "rescue": sql(
            demo_url,
            "SELECT COUNT(*) FROM rescue_requests WHERE incident_id = 1 AND requested_at <= :t",
            t=utc_text(at),
        )[0][0],
        "notifications": sql(
            demo_url,
            "SELECT COUNT(*) FROM notification_requests WHERE incident_id = 1 AND created_at <= :t",
            t=utc_text(at),
        )[0][0],
        "warnings": sql(
            demo_url, "SELECT COUNT(*) FROM jma_warnings WHERE report_time <= :t", t=utc_text(at)
        )[0][0],
    }
    engine = make_engine(demo_url)
    report = situation.build(engine, "1", at=at, since=since)
    data = situation.render(report, "pdf")
    engine.dispose()
    expected_empty = {k for k, n in counts.items() if n == 0}
    assert expected_empty == {"status", "rescue", "notifications"}
    assert expected_empty <= set(report.empty) and "warnings" not in report.empty
    path = tmp_path / "s.pdf"
    path.write_bytes(data)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert text.count("\f") == 1, "one page"
    assert "データのない項目があります" in text
    warning = next(line for line in text.splitlines() if "データのない項目があります" in line)
    for label in ("安否報告", "救助要請", "通知"):
        assert label in warning
    assert "この時点までに市民からの安否報告がありません" in text
    assert "前回以降に発表：大雨警報" in text


def test_cli_writes_one_page_and_refuses_bad_moments(demo_url, tmp_path):
    out = tmp_path / "sit.pdf"
    args = ["--database-url", demo_url, "report", "situation", "--incident", "1"]
    assert main([*args, "--at", "2026-07-10T06:30+09:00", "--out", str(out)]) == 0
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Pages:\s+1\b", info)
    bad = tmp_path / "bad.pdf"
    assert main([*args, "--at", "2026-07-10T06:30", "--out", str(bad)]) == 2  # no offset
    assert (
        main(
            [
                *args,
                "--at",
                "2026-07-10T06:30+09:00",
                "--since",
                "2026-07-10T07:00+09:00",
                "--out",
                str(bad),
            ]
        )
        == 2
    )
    assert main([*args, "--format", "xlsx", "--out", str(bad)]) == 2
    assert not bad.exists()


@pytest.mark.opendata
def test_nanao_snapshot_report(tmp_path, sqlite_template, opendata):
    path = tmp_path / "nanao.sqlite"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    history = opendata / "nanao_noto2024" / "history"
    assert main(["--database-url", url, "city", "load", str(NANAO_CITY)]) == 0
    assert main(["--database-url", url, "import", "occupancy", str(history)]) == 0
    files = sorted(history.glob("*.csv"))

    def total(file) -> int:
        frame = pd.read_csv(file, dtype=str, encoding="utf-8-sig")
        column = next(c for c in frame.columns if c.startswith("人数"))
        return int(pd.to_numeric(frame[column], errors="coerce").fillna(0).sum())

    def moment(file) -> dt.datetime:
        y, mo, d, h, mi = map(
            int, re.search(r"(\d{4})-(\d{2})-(\d{2})-(\d{2})(\d{2})", file.name).groups()
        )
        return dt.datetime(y, mo, d, h, mi, tzinfo=JST)

    engine = make_engine(url)
    report = situation.build(engine, "1", at=moment(files[20]))  # since: the previous snapshot
    html = situation.to_html(report)
    data = situation.render(report, "pdf")
    engine.dispose()
    assert report.since == moment(files[19])
    cells, changed = figure_rows(html)["避難者数（開設中の避難所の合計）"]
    assert cells[1:3] == [f"{total(files[19]):,}", f"{total(files[20]):,}"]
    assert changed == (total(files[19]) != total(files[20]))
    assert set(report.empty) == {"status", "rescue", "warnings", "notifications"}
    out = tmp_path / "nanao.pdf"
    out.write_bytes(data)
    text = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert text.count("\f") == 1
    assert "七尾市" in text and "データのない項目があります" in text
    assert "気象警報・注意報のデータがありません" in text


# ------------------------------------------------------------------ evacuation information

#: The two rectangular areas of tests/data/evacuation/areas.csv: (min lon, min lat, max lon, max lat).
RECTANGLES = {
    "YU-3": (139.925, 37.505, 139.935, 37.515),
    "AG-2": (139.885, 37.505, 139.900, 37.525),
}


def residents_in(engine, code: str) -> int:
    """Citizens whose home lies in a rectangular area (boundary included), counted in SQL."""
    lon0, lat0, lon1, lat1 = RECTANGLES[code]
    with engine.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT COUNT(*) FROM citizens WHERE home_lon BETWEEN :lon0 AND :lon1 "
                "AND home_lat BETWEEN :lat0 AND :lat1"
            ),
            {"lon0": lon0, "lon1": lon1, "lat0": lat0, "lat1": lat1},
        ).scalar_one()


def test_evacuation_in_force_and_changes_since(evacuation_engine):
    from reports.tables import count_text
    from sql.actions.evacuation import issue
    from sql.incident_clock import incident_clock
    from sql.models import EvacuationArea
    from sql.viewer import Viewer

    e = evacuation_engine
    hq = Viewer(role="hq", subject="hq-1")
    with e.connect() as conn:
        found = dict(conn.execute(sa.select(EvacuationArea.code, EvacuationArea.id)).all())
    start = incident_clock(e, 1)
    reached = (start - dt.timedelta(minutes=25)).isoformat()
    d1 = issue(
        e,
        hq,
        1,
        [found["YU-3"], found["AG-2"]],
        3,
        "避難判断水位",
        idempotency_key="sit-1",
        trigger={"kind": "river_level", "triggered_at": reached},
    )
    d2 = issue(e, hq, 1, [found["YU-3"]], 4, "氾濫危険水位", idempotency_key="sit-2")
    assert d1.at < d2.at

    report = situation.build(e, "1", at=d2.at, since=d1.at)
    now = report.evacuation_now
    assert now["level"].tolist() == [4, 3]
    assert now["area_codes"].tolist() == [["YU-3"], ["AG-2"]]
    yu3, ag2 = residents_in(e, "YU-3"), residents_in(e, "AG-2")
    assert now["people"].tolist() == [yu3, ag2]
    between = report.evacuation_between
    assert between["decision_key"].tolist() == ["sit-2"]  # the first is the previous report's
    html = situation.to_html(report)
    assert "警戒レベル4 避難指示" in html and "警戒レベル3 高齢者等避難" in html
    assert f'<td class="num">{count_text(yu3)}</td>' in html
    assert re.search(r'<span class="tag">新規</span>\S+ \S+ 警戒レベル4 避難指示：城北町字', html)
    info = subprocess.run(
        ["pdfinfo", "-"], input=situation.render(report, "pdf"), capture_output=True, check=True
    ).stdout.decode()
    assert re.search(r"Pages:\s+1\b", info), "still one page"

    # A report whose previous moment is before both decisions lists both; the minutes from the
    # trigger are kept for the council timeline.
    wide = situation.build(e, "1", at=d2.at, since=start - dt.timedelta(minutes=1))
    assert wide.evacuation_between["decision_key"].tolist() == ["sit-1", "sit-2"]
    assert wide.evacuation_between["minutes_from_trigger"].tolist()[0] >= 25

    # Before the first decision nothing is in force, and the report says so (JA and EN).
    before = situation.build(
        e, "1", at=d1.at - dt.timedelta(seconds=1), since=start - dt.timedelta(hours=1)
    )
    assert before.evacuation_now.empty
    assert "報告時点で発令中の避難情報はありません。" in situation.to_html(before)
    english = situation.build(e, "1", at=d2.at, since=d1.at, lang="en")
    text = situation.to_html(english)
    assert "Alert level 4: Evacuation order" in text and "警戒レベル" not in text
