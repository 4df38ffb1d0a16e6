"""警報・ハザード — the warnings page through the real entry point, against independent SQL and
an independent point-in-polygon count (one shapely polygon at a time)."""

from __future__ import annotations

import collections
import datetime as dt
import json

import shapely

from bosai.palette import OKABE_ITO
from tests.conftest import sql
from tests.dashboard.conftest import open_page, staff_claims

PAGE = "views/warnings.py"
ENDED = ("解除", "発表警報・注意報はなし")
SPECIAL = {"2", "4"}
STATUS_JA = {
    "needs_rescue": "要救助",
    "injured": "負傷",
    "evacuating": "避難中",
    "unknown": "未確認",
    "at_shelter": "避難所",
    "elsewhere_safe": "自宅外で無事",
    "safe_at_home": "自宅で無事",
    None: "応答なし",
}


def frame_with(at, column: str):
    return next(f.value for f in at.dataframe if column in f.value.columns)


def people_per_rank(url: str) -> dict[tuple[str, str], collections.Counter]:
    """(kind, rank label) → Counter of status labels, worst rank of each kind per home."""
    homes = sql(
        url,
        "SELECT c.id, c.home_lat, c.home_lon, s.state FROM citizens c "
        "LEFT JOIN (SELECT citizen_id, state, ROW_NUMBER() OVER (PARTITION BY citizen_id "
        "  ORDER BY reported_at DESC, id DESC) rn FROM status_reports WHERE incident_id = 1) s "
        "ON s.citizen_id = c.id AND s.rn = 1 WHERE c.home_lat IS NOT NULL",
    )
    zones = sql(url, "SELECT kind, rank_code, rank_label, depth_min_m, geom_wkb FROM hazard_zones")
    worst: dict[tuple[int, str], tuple] = {}
    state_of = {}
    for kind, code, label, depth, wkb in zones:
        polygon = shapely.from_wkb(bytes(wkb))
        severity = depth if depth is not None else (1.0 if code in SPECIAL else 0.0)
        for cid, lat, lon, state in homes:
            state_of[cid] = state
            if polygon.intersects(shapely.Point(lon, lat)):
                key = (cid, kind)
                if key not in worst or severity > worst[key][0]:
                    worst[key] = (severity, label)
    out: dict[tuple[str, str], collections.Counter] = collections.defaultdict(collections.Counter)
    for (cid, kind), (_, label) in worst.items():
        out[(kind, label)][STATUS_JA[state_of[cid]]] += 1
    return out


KIND_JA = {"flood": "洪水", "landslide": "崖崩れ・土石流・地滑り"}


def test_warnings_in_force_and_their_history(app, demo_copy):
    at = open_page(app, demo_copy, PAGE)
    assert at.title[0].value == "警報・ハザード"
    newest = sql(
        demo_copy, "SELECT id FROM jma_telegrams ORDER BY report_time DESC, id DESC LIMIT 1"
    )[0][0]
    expected = sql(
        demo_copy,
        "SELECT kind_name, status FROM jma_warnings WHERE telegram_id = :t "
        "AND status NOT IN ('解除', '発表警報・注意報はなし') ORDER BY kind_code",
        t=newest,
    )
    in_force = frame_with(at, "開始")
    assert sorted(zip(in_force["種類"], in_force["状況"], strict=True)) == sorted(
        tuple(r) for r in expected
    )
    history = frame_with(at, "見出し")
    assert len(history) == sql(demo_copy, "SELECT COUNT(*) FROM jma_warnings")[0][0]
    # The timeline: one bar per stretch a kind was in force (the demo: 4), coloured by level.
    timeline = json.loads(at.get("plotly_chart")[-1].proto.spec)
    bars = [(y, t["name"]) for t in timeline["data"] for y in t["y"]]
    assert sorted(bars) == sorted(
        [
            ("大雨注意報", "注意報"),
            ("洪水注意報", "注意報"),
            ("大雨警報", "警報"),
            ("洪水警報", "警報"),
        ]
    )
    states = sorted(c[0] for t in timeline["data"] for c in t["customdata"])
    assert states == ["発表中", "発表中", "解除・切替", "解除・切替"]
    colours = {t["name"]: t["marker"]["color"] for t in timeline["data"]}
    assert colours == {"注意報": OKABE_ITO["yellow"], "警報": OKABE_ITO["vermillion"]}


def test_people_per_zone_rank_and_status_equal_an_independent_count(app, demo_copy):
    expected = people_per_rank(demo_copy)
    at = open_page(app, demo_copy, PAGE)
    table = frame_with(at, "区域の種類")
    statuses = list(STATUS_JA.values())
    got = {}
    for row in table.to_dict("records"):
        counts = collections.Counter({s: int(row[s]) for s in statuses if int(row[s])})
        got[(row["区域の種類"], row["ランク"])] = counts
        assert int(row["人数（計）"]) == sum(counts.values())
    want = {(KIND_JA[k], label): c for (k, label), c in expected.items()}
    assert {k: v for k, v in got.items() if v} == want
    assert sum(sum(c.values()) for c in want.values()) > 100
    ranks = frame_with(at, "区域数")
    depths = dict(zip(ranks["ランク"], ranks["想定浸水深"], strict=True))
    assert depths["0.5m以上3.0m未満"] == "0.5–3.0 m"
    assert depths["5.0m以上10.0m未満"] == "5.0–10.0 m"
    zones = dict(zip(ranks["ランク"], ranks["区域数"], strict=True))
    db_zones = dict(sql(demo_copy, "SELECT rank_label, COUNT(*) FROM hazard_zones GROUP BY 1"))
    assert zones == db_zones


def test_counts_follow_a_new_home_in_a_zone_and_a_lifted_warning(app, demo_copy):
    at = open_page(app, demo_copy, PAGE)
    before = frame_with(at, "区域の種類").set_index("ランク")
    wkb = sql(
        demo_copy, "SELECT geom_wkb FROM hazard_zones WHERE rank_code = '4' AND kind = 'flood'"
    )
    point = shapely.from_wkb(bytes(wkb[0][0])).representative_point()
    now = dt.datetime(2026, 7, 10, 0, 0, tzinfo=dt.UTC)
    sql(
        demo_copy,
        "INSERT INTO citizens (subject, home_lat, home_lon, is_synthetic, created_at, updated_at) "
        "VALUES ('new-home', :lat, :lon, 1, :t, :t)",
        lat=point.y,
        lon=point.x,
        t=now.strftime("%Y-%m-%d %H:%M:%S.%f"),
    )
    sql(
        demo_copy,
        "INSERT INTO jma_telegrams (content_sha256, info_kind, info_type, title, report_time, "
        "headline, is_synthetic, received_at) VALUES ('lifted', '気象警報・注意報', '発表', 't', "
        ":t, '警報を解除します。', 1, :t)",
        t="2026-07-09 23:00:00.000000",
    )
    telegram = sql(demo_copy, "SELECT id FROM jma_telegrams WHERE content_sha256 = 'lifted'")[0][0]
    sql(
        demo_copy,
        "INSERT INTO jma_warnings (telegram_id, area_code, area_name, area_level, kind_code, "
        "kind_name, status, report_time) VALUES (:id, '0720200', '会津若松市', 'municipality', "
        "'00', '', '発表警報・注意報はなし', :t)",
        id=telegram,
        t="2026-07-09 23:00:00.000000",
    )
    at.run()
    assert not at.exception
    after = frame_with(at, "区域の種類").set_index("ランク")
    rank = "5.0m以上10.0m未満"
    assert int(after.loc[rank, "応答なし"]) == int(before.loc[rank, "応答なし"]) + 1
    assert any("発表中の警報・注意報はありません" in s.value for s in at.success)
    timeline = json.loads(at.get("plotly_chart")[-1].proto.spec)
    states = [c[0] for t in timeline["data"] for c in t["customdata"]]
    assert states and set(states) == {"解除・切替"}  # every period has ended


def test_a_researcher_sees_small_cells_suppressed_and_no_per_status_chart(app, demo_copy):
    expected = people_per_rank(demo_copy)
    at = open_page(app, demo_copy, PAGE, role="researcher")
    table = frame_with(at, "区域の種類")
    suppressed = 0
    for row in table.to_dict("records"):
        kind = next(k for k, v in KIND_JA.items() if v == row["区域の種類"])
        counts = expected.get((kind, row["ランク"]), collections.Counter())
        for status in STATUS_JA.values():
            n = counts.get(status, 0)
            assert row[status] == ("5未満" if 0 < n < 5 else str(n))
            suppressed += 0 < n < 5
    assert suppressed > 0
    assert len(at.get("plotly_chart")) == 1  # the warnings timeline only


def test_english_labels(app, demo_copy):
    at = open_page(app, demo_copy, PAGE, lang="en")
    assert at.title[0].value == "Warnings and hazards"
    table = frame_with(at, "Zone kind")
    assert "Flood" in set(table["Zone kind"])
    assert {"Needs rescue", "No response", "People (total)"} <= set(table.columns)
    assert [s.value for s in at.subheader][:1] == ["Warnings and advisories in force"]


def test_a_city_without_warnings_or_zones_says_so(app, empty_city):
    at = open_page(app, empty_city, PAGE, user=staff_claims("hq"))
    info = " ".join(i.value for i in at.info)
    assert "警報・注意報の記録はまだありません" in info and "bosai import hazards" in info
    assert not at.dataframe
