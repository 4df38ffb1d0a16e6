"""The city overview through the real entry point (AppTest), checked against independent SQL."""

from __future__ import annotations

import datetime as dt
import shutil

import sqlalchemy as sa

from sql.engine import make_engine
from tests.dashboard.conftest import read, staff_claims


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def independent_counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    with engine.connect() as conn:
        citizens = conn.exec_driver_sql("SELECT COUNT(*) FROM citizens").scalar_one()
        latest = dict(
            conn.exec_driver_sql(
                "SELECT state, COUNT(*) FROM ("
                "  SELECT citizen_id, state, ROW_NUMBER() OVER (PARTITION BY citizen_id ORDER BY reported_at DESC, id DESC) rn"
                "  FROM status_reports WHERE incident_id = 1) WHERE rn = 1 GROUP BY state"
            ).all()
        )
        open_shelters = conn.exec_driver_sql(
            "SELECT COUNT(DISTINCT shelter_id) FROM shelter_operations WHERE closed_at IS NULL"
        ).scalar_one()
        shelters = conn.exec_driver_sql("SELECT COUNT(*) FROM shelters").scalar_one()
    engine.dispose()
    return {
        "citizens": citizens,
        "reported": sum(latest.values()),
        "safe": sum(latest.get(s, 0) for s in ("safe_at_home", "at_shelter", "elsewhere_safe")),
        "rescue": latest.get("needs_rescue", 0),
        "open": open_shelters,
        "shelters": shelters,
    }


def test_overview_kpis_equal_independent_counts(app, demo_sqlite):
    at = app(demo_sqlite)
    at.run()
    assert not at.exception
    assert at.title[0].value == "市の概況"
    expected = independent_counts(demo_sqlite)
    shown = metrics(at)
    assert shown["オプトイン市民"] == f"{expected['citizens']:,}"
    assert shown["安否回答"] == f"{expected['reported']:,}"
    assert shown["無事確認"] == f"{expected['safe']:,}"
    assert shown["要救助"] == f"{expected['rescue']:,}"
    assert shown["開設避難所"] == f"{expected['open']:,} / {expected['shelters']:,}"
    table = at.dataframe[0].value
    assert int(table["人数"].sum()) == expected["citizens"]


def test_demo_badge_and_time_of_the_data(app, demo_sqlite):
    at = app(demo_sqlite)
    at.run()
    assert any("DEMO" in w.value for w in at.sidebar.warning)
    captions = " ".join(c.value for c in at.caption)
    assert "時点のデータ" in captions and "【デモ】" in captions
    assert any("令和8年7月10日" in m.value for m in at.markdown)


def test_english_labels(app, demo_sqlite):
    at = app(demo_sqlite, lang="en")
    at.run()
    assert not at.exception
    assert at.title[0].value == "City overview"
    assert "Opted-in citizens" in metrics(at)


def test_a_signed_in_user_is_the_viewer_whatever_the_configuration(app, demo_sqlite):
    at = app(demo_sqlite)
    at.user = {
        "is_logged_in": True,
        "sub": "demo-researcher",
        "name": "Researcher",
        "roles": ["researcher"],
    }
    at.run()
    assert not at.exception
    assert not at.sidebar.selectbox, "no role switcher for a signed-in user"
    assert metrics(at)["オプトイン市民"] == "2,000"


def test_an_empty_city_shows_zeroes_not_errors(app, empty_city):
    at = app(empty_city, user=staff_claims("hq"))
    at.run()
    assert not at.exception
    assert metrics(at)["オプトイン市民"] == "0"
    assert any("事案はありません" in c.value for c in at.caption)


def test_demo_mode_is_refused_on_a_new_installation(app, empty_city):
    """Finding 13.6: staff accounts, no citizens yet, not made by ``bosai demo`` — nobody
    signed in gets no role switcher, no staff list, no admin page: only the refusal."""
    at = app(empty_city, demo_role="admin")
    at.run()
    assert not at.exception
    assert any("bosai demo" in read(e.value) for e in at.error), [e.value for e in at.error]
    assert not at.sidebar.selectbox, "no role switcher"
    assert not at.metric and not at.dataframe and not at.title
    at.switch_page("views/admin_staff.py").run()  # a deep link to the staff list
    assert not at.dataframe and not at.title and not at.text_input, "nothing of the page ran"
    assert any("bosai demo" in read(e.value) for e in at.error)


def test_demo_mode_is_refused_on_real_data(app, demo_sqlite, tmp_path):
    target = tmp_path / "mixed.sqlite"
    shutil.copyfile(demo_sqlite.removeprefix("sqlite:///"), target)
    url = f"sqlite:///{target}"
    engine = make_engine(url)
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO citizens (subject, is_synthetic, created_at, updated_at) "
                "VALUES ('real', 0, :n, :n)"
            ),
            {"n": now.strftime("%Y-%m-%d %H:%M:%S.%f")},
        )
    engine.dispose()
    at = app(url)
    at.run()
    assert not at.exception
    assert any("実データ" in e.value for e in at.error)
    assert not at.metric
