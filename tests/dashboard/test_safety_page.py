"""安否 — the safety overview through the real entry point, against independent SQL counts
(ages computed in Python from the birth dates, latest status from the reports themselves)."""

from __future__ import annotations

import collections
import datetime as dt
import json

import pytest

from bosai.palette import OKABE_ITO
from tests.conftest import sql
from tests.dashboard.conftest import open_page, staff_claims

PAGE = "views/safety.py"
SAFE = {"safe_at_home", "at_shelter", "elsewhere_safe"}
DAY = dt.date(2026, 7, 10)  # the demo incident is declared on 10 July (JST)
BANDS = ((75, "75歳以上"), (65, "65〜74歳"), (40, "40〜64歳"), (15, "15〜39歳"), (0, "0〜14歳"))


def band(birth: str | None) -> str:
    if birth is None:
        return "生年月日不明"
    b = dt.date.fromisoformat(str(birth)[:10])
    age = DAY.year - b.year - ((DAY.month, DAY.day) < (b.month, b.day))
    return next(label for lo, label in BANDS if age >= lo)


def people(url: str, incident: str = "= 1") -> list[dict]:
    rows = sql(
        url,
        "SELECT c.id, c.district, c.birth_date, c.household_id, s.state FROM citizens c "
        "LEFT JOIN (SELECT citizen_id, state, ROW_NUMBER() OVER (PARTITION BY citizen_id "
        f"  ORDER BY reported_at DESC, id DESC) rn FROM status_reports WHERE incident_id {incident}) s "
        "ON s.citizen_id = c.id AND s.rn = 1",
    )
    return [
        {"id": i, "district": d, "band": band(b), "household": h, "state": s}
        for i, d, b, h, s in rows
    ]


def tally(rows: list[dict], key: str) -> dict[str, tuple[int, int, int, int]]:
    out: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0, 0, 0])
    for r in rows:
        t = out[r[key]]
        t[0] += 1
        t[1] += r["state"] is not None
        t[2] += r["state"] in SAFE
        t[3] += r["state"] in ("injured", "needs_rescue")
    return {k: tuple(v) for k, v in out.items()}


def households_unaccounted(rows: list[dict]) -> dict[int, int]:
    missing: dict[int, int] = collections.Counter()
    for r in rows:
        if r["household"] is not None:
            missing[r["household"]] += r["state"] not in SAFE
    return {h: n for h, n in missing.items() if n}


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def audit_actors(url: str, target: str) -> list[tuple[str, str]]:
    return [
        tuple(r) for r in sql(url, "SELECT actor, role FROM audit_log WHERE target = :t", t=target)
    ]


def test_hq_sees_exact_rates_by_district_and_age_and_the_households(app, demo_copy):
    truth = people(demo_copy)
    at = open_page(app, demo_copy, PAGE)
    assert at.title[0].value == "安否"
    shown = metrics(at)
    n = len(truth)
    responded = sum(r["state"] is not None for r in truth)
    confirmed = sum(r["state"] in SAFE for r in truth)
    assert shown["オプトイン市民"] == f"{n:,}"
    assert shown["安否回答"] == f"{responded:,}"
    assert shown["無事確認"] == f"{confirmed:,}"
    assert (
        shown["負傷・要救助"]
        == f"{sum(r['state'] in ('injured', 'needs_rescue') for r in truth):,}"
    )
    deltas = {m.label: m.proto.delta for m in at.metric}
    assert deltas["安否回答"] == f"回答率 {responded / n:.1%}"

    by_district = at.dataframe[0].value
    expected = tally(truth, "district")
    got = {
        r["地区"]: (r["人数"], r["回答"], r["無事確認"], r["負傷・要救助"])
        for r in by_district.to_dict("records")
    }
    assert got == expected
    rates = dict(zip(by_district["地区"], by_district["回答率"], strict=True))
    for district, (citizens, answered, _, _) in expected.items():
        assert rates[district] == pytest.approx(answered / citizens)

    by_age = at.dataframe[1].value
    assert by_age["年齢層"].tolist() == [label for _, label in reversed(BANDS)]
    got = {
        r["年齢層"]: (r["人数"], r["回答"], r["無事確認"], r["負傷・要救助"])
        for r in by_age.to_dict("records")
    }
    assert got == tally(truth, "band")
    assert int(at.dataframe[2].value["人数"].sum()) == n  # district × age band

    missing = households_unaccounted(truth)
    households = at.dataframe[3].value
    assert len(households) == len(missing)
    assert dict(zip(households["世帯番号"], households["未確認"], strict=True)) == missing
    assert households["住所"].str.startswith("福島県会津若松市").all()
    assert metrics(at)["該当する世帯"] == f"{len(missing):,}"
    assert audit_actors(demo_copy, "policy.households_unaccounted") == [("demo-hq", "hq")]


def test_the_chart_uses_the_colour_blind_safe_palette(app, demo_copy):
    at = open_page(app, demo_copy, PAGE)
    charts = at.get("plotly_chart")
    assert len(charts) == 2
    spec = json.loads(charts[0].proto.spec)
    colours = {trace["marker"]["color"] for trace in spec["data"]}
    assert colours == {OKABE_ITO["blue"], OKABE_ITO["bluish_green"]}
    assert [t["name"] for t in spec["data"]] == ["回答率", "無事確認率"]


def test_a_researcher_sees_suppressed_small_cells_and_no_household_addresses(app, demo_copy):
    truth = people(demo_copy)
    at = open_page(app, demo_copy, PAGE, role="researcher")
    both = at.dataframe[2].value
    expected = tally(truth, "district")
    small = {(r["district"], r["band"]) for r in truth}
    cells = collections.Counter((r["district"], r["band"]) for r in truth)
    answered = collections.Counter((r["district"], r["band"]) for r in truth if r["state"])
    seen_small = 0
    for row in both.to_dict("records"):
        key = (row["地区"], row["年齢層"])
        assert key in small
        n, a = cells[key], answered[key]
        assert row["人数"] == ("5未満" if 0 < n < 5 else f"{n:,}")
        assert row["回答"] == ("5未満" if 0 < a < 5 else f"{a:,}")
        if 0 < a < 5 or 0 < n < 5:
            assert row["回答率"] == "—"
            seen_small += 1
        else:
            assert row["回答率"] == f"{a / n:.1%}"
    assert seen_small > 0, "the demo city has small cells to suppress"
    # The district chart leaves out groups whose counts are small.
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    drawn = set(spec["data"][0]["x"])
    for district, (n, a, c, _) in expected.items():
        hidden = any(0 < v < 5 for v in (n, a, c))
        assert (district in drawn) != hidden
    # Households: counts by district only, no addresses, nothing personal audited.
    assert any("住所" in i.value for i in at.info)
    households = at.dataframe[3].value
    assert "住所" not in households.columns
    assert "世帯番号" not in households.columns
    assert audit_actors(demo_copy, "policy.households_unaccounted") == []
    assert not any(
        str(a).startswith("福島県")
        for frame in at.dataframe
        for a in frame.value.to_numpy().ravel()
    )


def test_hq_in_normal_mode_gets_household_counts_only(app, demo_copy):
    sql(demo_copy, "UPDATE incidents SET ended_at = :t", t=dt.datetime(2026, 7, 10, tzinfo=dt.UTC))
    # Once the incident ended the page shows the state now (issue 14 item 5): normal time.
    truth = people(demo_copy, "IS NULL")
    at = open_page(app, demo_copy, PAGE)
    households = at.dataframe[3].value
    assert "住所" not in households.columns
    missing = households_unaccounted(truth)
    assert int(households["未確認者のいる世帯"].sum()) == len(missing)
    assert int(households["未確認の世帯員"].sum()) == sum(missing.values())
    assert audit_actors(demo_copy, "policy.households_unaccounted") == []


def test_english_labels(app, demo_copy):
    at = open_page(app, demo_copy, PAGE, lang="en")
    assert at.title[0].value == "Safety overview"
    assert {"Opted-in citizens", "Responded", "Confirmed safe"} <= set(metrics(at))
    assert at.dataframe[1].value["Age band"].tolist() == ["0–14", "15–39", "40–64", "65–74", "75+"]
    assert any("Ages in whole years on 2026-07-10" in c.value for c in at.caption)


def test_an_empty_city_shows_zeroes_not_errors(app, empty_city):
    at = open_page(app, empty_city, PAGE, user=staff_claims("hq"))
    assert set(metrics(at).values()) == {"0"}
