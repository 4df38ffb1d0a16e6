"""The researchers' pages through the real entry point (AppTest) on a real SQLite file holding
the demo city (its drill's event log and consent ledger) and the sample exports, checked against
independent SQL and reference statistics; aggregates only, small cells suppressed."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pingouin as pg
import pytest
import sqlalchemy as sa

from bosai.cli import main
from dashboard.registry import can_open, pages_for_role
from sql.engine import make_engine
from tests.conftest import sql
from tests.dashboard.conftest import open_page, staff_claims

SAMPLES = Path(__file__).resolve().parents[1] / "surveys" / "samples"
PAGES = ("research_survey", "research_optin", "research_uiux", "research_drill")
COUNT_HEADERS = {
    "人数",
    "該当数",
    "試行数",
    "成功",
    "失敗",
    "外れ値",
    "到達数",
    "n",
    "count",
    "Count",
}


@pytest.fixture(scope="module")
def research_sqlite(tmp_path_factory, sqlite_template) -> str:
    """Demo city (2,000 citizens, one drill) plus the sample questionnaires and timing sheet."""
    path = tmp_path_factory.mktemp("research") / "research.sqlite"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    assert main(["--database-url", url, "demo", "--citizens", "2000"]) == 0
    for file in ("google_forms_drill_2022.csv", "kobo_drill_2022.csv", "ms_forms_drill_2022.xlsx"):
        args = ["survey", "import", str(SAMPLES / file), "--instrument", "drill-2022"]
        assert main(["--database-url", url, *args]) == 0
    sus = ["survey", "import", str(SAMPLES / "google_forms_sus_cp932.csv"), "--instrument", "sus"]
    assert main(["--database-url", url, *sus]) == 0
    timings = ["survey", "import-timings", str(SAMPLES / "uiux_timings_2021.csv")]
    assert main(["--database-url", url, *timings, "--name", "UI/UXテスト（2021年秋）"]) == 0
    return url


def values(data) -> list:
    """Plotly's JSON arrays: a list, or a typed array ``{"dtype", "bdata"}`` (base64)."""
    if isinstance(data, dict) and "bdata" in data:
        import base64

        import numpy as np

        return np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"]).tolist()
    return list(data)


def assert_no_small_counts(at) -> None:
    """No count between 1 and 4 is shown in any table of the page."""
    for frame in (d.value for d in at.dataframe):
        for col in frame.columns:
            if str(col) not in COUNT_HEADERS:
                continue
            for value in frame[col]:
                if isinstance(value, str) and value in ("5未満", "<5"):
                    continue
                number = pd.to_numeric(value, errors="coerce")
                assert pd.isna(number) or not (0 < number < 5), (col, value)


def test_research_pages_are_for_researchers_and_admins():
    for role in ("researcher", "admin"):
        assert {p.file for p in pages_for_role(role)} >= {f"{p}.py" for p in PAGES}
    for role in ("hq", "rescue", "shelter_staff", "council"):
        assert not any(p.file.startswith("research_") for p in pages_for_role(role))
        assert not can_open(role, "research-survey")
    assert all(
        p.section_key == "nav.research" for p in pages_for_role("researcher") if p.file in PAGES
    )


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("role", ["researcher", "admin"])
def test_every_research_page_renders_with_charts_tables_downloads(
    app, research_sqlite, page, role, media_files
):
    at = open_page(app, research_sqlite, page, role)
    assert at.title[0].value
    assert at.get("plotly_chart"), "a chart"
    assert at.dataframe, "a table"
    buttons = at.get("download_button")
    labels = {b.proto.label for b in buttons}
    assert labels == {"集計表（CSV）", "集計表（Parquet）", "手法の説明（テキスト）"}
    # Each file is produced when requested (after the gate's check), as the server does.
    files = [media_files[-1].execute_deferred(b.proto.deferred_file_id) for b in buttons]
    suffixes = {url.rsplit(".", 1)[-1] for url in files}
    assert {"csv", "txt"} <= suffixes  # Parquet is served as application/vnd.apache.parquet
    contents = [media_files[-1]._storage.get_file(u.rsplit("/", 1)[1]).content for u in files]
    assert all(contents) and any(c.startswith(b"PAR1") for c in contents)
    assert any("5人未満" in c.value for c in at.caption)
    assert_no_small_counts(at)


def test_survey_page_equals_independent_counts_and_pingouin(app, research_sqlite):
    at = open_page(app, research_sqlite, "research_survey", "researcher")
    (responses,) = sql(
        research_sqlite,
        "SELECT COUNT(*) FROM survey_responses WHERE instrument_id = 'drill-2022'",
    )[0]
    assert {m.label: m.value for m in at.metric}["回答数"] == f"{responses}"
    subscales = at.dataframe[0].value.set_index("下位尺度")
    # Reference: pingouin.cronbach_alpha on the acceptance items read back with plain SQL
    answers = pd.DataFrame(
        sql(
            research_sqlite,
            "SELECT r.id, a.key, a.value FROM survey_responses r, json_each(r.answers) a "
            "WHERE r.instrument_id = 'drill-2022' AND a.key LIKE 'accept_%'",
        ),
        columns=["response", "item", "value"],
    ).pivot(index="response", columns="item", values="value")
    alpha = pg.cronbach_alpha(answers.dropna())[0]
    shown = subscales.loc["サービスの受容性", "α係数［95%信頼区間］"]  # "0.499 [0.164, 0.714]"
    assert float(shown.split(" [")[0]) == pytest.approx(alpha, abs=5e-4)
    assert subscales.loc["サービスの受容性", "人数"] == str(responses)


def test_survey_page_comparison_suppresses_small_groups(app, research_sqlite):
    at = open_page(app, research_sqlite, "research_survey", "researcher")
    at.selectbox(key="research_compare_by").set_value("age_band").run()
    assert not at.exception
    (sixties,) = sql(
        research_sqlite,
        "SELECT COUNT(*) FROM survey_responses "
        "WHERE instrument_id = 'drill-2022' AND age_band = '60s'",
    )[0]
    assert 0 < sixties < 5  # the sample exports hold few people in their sixties
    comparison = next(d.value for d in at.dataframe if "検定" in d.value)
    sixties_rows = comparison[comparison["区分"] == "60代"]
    assert not sixties_rows.empty and set(sixties_rows["人数"]) == {"5未満"}
    assert set(sixties_rows["平均"]) == {"—"}
    assert_no_small_counts(at)


def test_sus_instrument_on_the_survey_page(app, research_sqlite):
    at = open_page(app, research_sqlite, "research_survey", "researcher")
    at.selectbox(key="research_instrument").set_value("sus").run()
    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    assert shown["回答数"] == "16"
    assert "SUS スコア" in shown


def independent_acceptance(url: str, at: dt.datetime) -> dict[str, int]:
    when = at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    rows = sql(
        url,
        """SELECT data_item, COUNT(DISTINCT citizen_id) FROM (
             SELECT citizen_id, data_item, event_type, expires_at,
                    ROW_NUMBER() OVER (PARTITION BY citizen_id, data_item, share_target
                                       ORDER BY occurred_at DESC, id DESC) AS rn
             FROM consent_events WHERE occurred_at <= :at)
           WHERE rn = 1 AND event_type = 'given' AND (expires_at IS NULL OR expires_at > :at)
           GROUP BY data_item""",
        at=when,
    )
    return dict(rows)


def test_optin_page_equals_the_ledger_by_plain_sql(app, research_sqlite):
    at = open_page(app, research_sqlite, "research_optin", "researcher")
    day = at.date_input(key="optin_day").value
    expected = independent_acceptance(
        research_sqlite, dt.datetime.combine(day, dt.time(23, 59, 59), ZoneInfo("Asia/Tokyo"))
    )
    assert {m.label: m.value for m in at.metric}["対象の市民"] == "2,000"
    table = next(d.value for d in at.dataframe if "データ項目" in d.value).set_index("データ項目")
    assert table.loc["位置情報", "該当数"] == f"{expected['location']:,}"
    assert table.loc["基本情報", "該当数"] == f"{expected['basic_info']:,}"
    # The questionnaire tab: the consent-timing split of the imported drill questionnaires.
    (first_only,) = sql(
        research_sqlite,
        "SELECT COUNT(*) FROM survey_responses r, json_each(r.answers) a "
        "WHERE a.key = 'consent_timing' AND a.value = 'first_only'",
    )[0]
    timing = next(
        d.value for d in at.dataframe if "初回のみでよい" in set(d.value.get("選択肢", []))
    )
    assert timing.set_index("選択肢").loc["初回のみでよい", "該当数"] == f"{first_only:,}"
    # The read of the consent ledger is audited, with the researcher's purpose.
    audited = sql(
        research_sqlite,
        "SELECT role, purpose FROM audit_log WHERE target = 'research.consent_ledger'",
    )
    assert ("researcher", "research") in audited


def test_uiux_page_shows_the_r_reference_comparison(app, research_sqlite):
    at = open_page(app, research_sqlite, "research_uiux", "researcher")
    summary = at.dataframe[0].value
    elderly_paper = summary[(summary["区分"] == "高齢者") & (summary["方法"] == "紙")].iloc[0]
    times = [
        r[0]
        for r in sql(
            research_sqlite,
            "SELECT seconds FROM uiux_task_timings WHERE participant_group = 'elderly' "
            "AND method = 'paper' AND task = 'マイタイムライン作成'",
        )
    ]
    assert float(elderly_paper["中央値"].replace(",", "")) == pytest.approx(
        pd.Series(times).median()
    )
    paired = at.dataframe[1].value
    elderly = paired[paired["区分"] == "高齢者"].iloc[0]
    # Reference: R> wilcox.test(paper, app, paired = TRUE, conf.int = TRUE) for the elderly:
    #   V = 21, p = 0.03125, (pseudo)median 498, CI 399 659
    assert elderly["短縮時間（HL推定、秒）［95%信頼区間］"] == "498 [399, 659]"
    assert elderly["p値"] == ".031"  # APA style: three decimals, no leading zero
    assert elderly["比較"] == "紙 − アプリ"
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert {trace["type"] for trace in chart["data"]} == {"box"}
    assert all("y" not in trace for trace in chart["data"]), "boxes from quartiles, no raw times"


def test_drill_page_equals_the_event_log(app, research_sqlite):
    at = open_page(app, research_sqlite, "research_drill", "researcher")
    stages = dict(
        sql(
            research_sqlite,
            "SELECT event_type, COUNT(DISTINCT citizen_id) FROM drill_events GROUP BY event_type",
        )
    )
    assert {m.label: m.value for m in at.metric}["参加者"] == f"{stages['notification_sent']:,}"
    funnel = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    assert funnel["type"] == "funnel"
    assert values(funnel["x"]) == [
        stages[s]
        for s in (
            "notification_sent",
            "notification_opened",
            "safety_answered",
            "evacuation_started",
            "arrived",
        )
    ]
    curves = json.loads(at.get("plotly_chart")[1].proto.spec)["data"]
    assert curves[0]["line"]["shape"] == "hv"  # Kaplan-Meier steps
    assert any("全体" in c["name"] for c in curves)


@pytest.mark.parametrize(
    ("page", "title"),
    [
        ("research_survey", "Questionnaires"),
        ("research_optin", "Opt-in acceptance"),
        ("research_uiux", "UI/UX task times"),
        ("research_drill", "Drill evaluation"),
    ],
)
def test_english_labels(app, research_sqlite, page, title):
    at = open_page(app, research_sqlite, page, "researcher", lang="en")
    assert at.title[0].value == title
    headers = {str(c) for d in at.dataframe for c in d.value.columns}
    assert "n" in headers or "Count" in headers
    assert not {"人数", "該当数", "区分"} & headers
    assert_no_small_counts(at)


@pytest.mark.parametrize(
    ("page", "message"),
    [
        ("research_survey", "bosai survey import"),
        ("research_uiux", "bosai survey import-timings"),
        ("research_drill", "訓練の記録がありません"),
    ],
)
def test_an_empty_database_says_what_to_do(app, empty_city, page, message):
    at = open_page(app, empty_city, page, user=staff_claims("researcher"))
    assert any(message in i.value for i in at.info)


# ---------------------------------------------------------------- two drills


@pytest.fixture(scope="module")
def two_drills(research_sqlite, tmp_path_factory) -> tuple[str, int, int]:
    """A copy of the research database with a second drill: the first drill's log replayed a
    week later, everyone half as fast again (times from the start × 1.5), no incident (so no
    reception check-ins). Returns the URL and the two drill ids."""
    import sqlite3

    from sqlalchemy.orm import Session

    from sql.models.drills import Drill, DrillEvent

    path = tmp_path_factory.mktemp("two_drills") / "two.sqlite"
    source = sqlite3.connect(research_sqlite.removeprefix("sqlite:///"))
    target = sqlite3.connect(path)
    source.backup(target)
    source.close()
    target.close()
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        first = session.scalars(sa.select(Drill).order_by(Drill.id)).first()
        week = dt.timedelta(days=7)
        start = first.started_at
        second = Drill(
            external_id="second-drill",
            name="再訓練",
            scenario=first.scenario,
            started_at=start + week,
            ended_at=(first.ended_at or start) + week + (first.ended_at - start) / 2,
            is_synthetic=True,
        )
        session.add(second)
        session.flush()
        for event in session.scalars(sa.select(DrillEvent).where(DrillEvent.drill_id == first.id)):
            session.add(
                DrillEvent(
                    idempotency_key=f"second:{event.idempotency_key}"[:96],
                    drill_id=second.id,
                    citizen_id=event.citizen_id,
                    participant_group=event.participant_group,
                    event_type=event.event_type,
                    at=start + week + (event.at - start) * 1.5,
                    details=event.details,
                )
            )
        ids = (first.id, second.id)
    engine.dispose()
    return url, *ids


def reference_times(url: str, drill_id: int, event: str = "safety_answered") -> pd.DataFrame:
    """Minutes from the drill's start to each participant's first ``event`` (censored at the
    drill's end), read with plain SQL."""
    (start, end) = sql(url, "SELECT started_at, ended_at FROM drills WHERE id = :d", d=drill_id)[0]
    start, end = pd.Timestamp(start, tz="UTC"), pd.Timestamp(end, tz="UTC")
    rows = pd.DataFrame(
        sql(
            url,
            "SELECT id, citizen_id, details, event_type, at FROM drill_events WHERE drill_id = :d",
            d=drill_id,
        ),
        columns=["id", "citizen_id", "details", "event_type", "at"],
    )

    def who(row) -> str:
        if pd.notna(row.citizen_id):
            return f"c{int(row.citizen_id)}"
        details = json.loads(row.details) if isinstance(row.details, str) else row.details
        return (
            f"p{details['participant']}" if details and details.get("participant") else f"e{row.id}"
        )

    rows["who"] = [who(r) for r in rows.itertuples()]
    rows["at"] = pd.to_datetime(rows["at"], utc=True)
    first = rows[rows["event_type"] == event].groupby("who")["at"].min()
    people = pd.Series(rows["who"].unique())
    hit = people.map(first)
    observed = hit.notna() & (hit <= end)
    minutes = (hit.where(observed, end) - start).dt.total_seconds() / 60
    return pd.DataFrame({"minutes": minutes.clip(lower=0), "observed": observed.astype(int)})


def test_two_drills_compare_medians_curves_and_log_rank(app, two_drills):
    from statsmodels.duration.survfunc import SurvfuncRight, survdiff

    url, first, second = two_drills
    at = open_page(app, url, "research_drill", "researcher")
    at.selectbox(key="research_drill_compare").set_value(second).run()
    assert not at.exception, [e.value for e in at.exception]
    a, b = reference_times(url, first), reference_times(url, second)

    # Reference medians: statsmodels' product-limit estimate, the first time its survival is
    # at most one half (the page's definition; SurvfuncRight.quantile takes SAS's strict "<").
    def median(times: pd.DataFrame) -> float:
        fit = SurvfuncRight(times["minutes"], times["observed"])
        return float(fit.surv_times[fit.surv_prob <= 0.5 + 1e-12][0])

    median_a, median_b = median(a), median(b)
    compared = next(d.value for d in at.dataframe if "訓練" in d.value.columns)
    assert len(compared) == 2
    assert [int(str(n).replace(",", "")) for n in compared["人数"]] == [len(a), len(b)]
    assert float(compared["中央値（分）"].iloc[0]) == pytest.approx(median_a, abs=5e-3)
    assert float(compared["中央値（分）"].iloc[1]) == pytest.approx(median_b, abs=5e-3)
    assert median_b > median_a  # the replay was slower
    # Both curves drawn as Kaplan–Meier steps on one chart.
    charts = [json.loads(c.proto.spec)["data"] for c in at.get("plotly_chart")]
    # The comparison's chart: the one whose traces are the two drills (the time-to-safe
    # section below it draws Turnbull beside Kaplan–Meier for the chosen drill).
    names = [str(n) for n in compared.iloc[:, 0]]
    comparison_chart = next(
        c for c in charts if [trace.get("name", "").split("（n=")[0] for trace in c] == names
    )
    assert len(comparison_chart) == 2
    assert all(trace["line"]["shape"] == "hv" for trace in comparison_chart)
    assert any("再訓練" in trace["name"] for trace in comparison_chart)
    # Reference log-rank: statsmodels.duration.survfunc.survdiff (chi-square, p).
    chi2, p = survdiff(
        pd.concat([a["minutes"], b["minutes"]]).to_numpy(),
        pd.concat([a["observed"], b["observed"]]).to_numpy(),
        [0] * len(a) + [1] * len(b),
    )
    caption = next(c.value for c in at.caption if "ログランク" in c.value)
    assert f"χ²(1) = {chi2:.2f}" in caption
    assert ("p < .001" in caption) if p < 0.001 else (f"p = {p:.3f}".replace("0.", ".") in caption)


# ---------------------------------------------------------------- tables a researcher reads


def test_optin_tables_read_as_a_researcher_reads_them(app, research_sqlite):
    """p as ``< .001`` or three decimals, odds ratio and interval in one column, terms and
    levels labelled from the catalog, shares as percentages, no English caption in the
    Japanese UI, withdrawals per day in Japan time with labelled axes."""
    import re

    at = open_page(app, research_sqlite, "research_optin", "researcher")
    frames = [d.value for d in at.dataframe]
    headers = {str(c) for f in frames for c in f.columns}
    assert not {"or_ci_low", "or_ci_high", "odds_ratio", "term", "p", "share"} & headers
    model = next(f for f in frames if "説明変数" in f.columns)
    assert not any("=" in str(v) for v in model["説明変数"])  # not age_band=20s
    assert "年代：20代" in set(model["説明変数"])
    assert all(re.fullmatch(r"< \.001|\.\d{3}|1\.000|—", v) for v in model["p値"])
    assert all(
        re.fullmatch(r"\d+\.\d\d \[\d+\.\d\d, \d+\.\d\d\]|—", v)
        for v in model["オッズ比［95%信頼区間］"]
    )
    items = next(f for f in frames if "データ項目" in f.columns)
    assert all(re.fullmatch(r"\d+\.\d%( \[.*%\])?|—", v) for v in items["割合［95%信頼区間］"])
    for caption in at.caption:
        assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", caption.value), caption.value
    # The withdrawals: one bar per day in Japan, counted independently from the ledger.
    rows = sql(
        research_sqlite,
        "SELECT occurred_at FROM consent_events WHERE event_type = 'withdrawn'",
    )
    days = (
        pd.to_datetime(pd.Series([r[0] for r in rows]), utc=True)
        .dt.tz_convert("Asia/Tokyo")
        .dt.date.value_counts()
    )
    expected = {f"{d.month}月{d.day}日": n for d, n in days.items() if n >= 5}
    chart = next(
        json.loads(c.proto.spec)
        for c in at.get("plotly_chart")
        if json.loads(c.proto.spec)["layout"]["xaxis"].get("type") == "category"
    )
    bars = chart["data"][0]
    assert dict(zip(values(bars["x"]), values(bars["y"]), strict=True)) == expected
    assert chart["layout"]["xaxis"]["title"]["text"] == "日付（日本時間）"
    assert chart["layout"]["yaxis"]["title"]["text"] == "撤回の件数"


@pytest.mark.parametrize(("page", "at_least"), [("research_uiux", 4), ("research_drill", 7)])
def test_method_notes_read_in_the_ui_language(app, research_sqlite, page, at_least):
    """The method-note expanders (手法) speak the catalog's Japanese in the Japanese UI — no
    ASCII-only ``key: value`` lines — and the composition's English note in the English UI."""
    ja = open_page(app, research_sqlite, page, "researcher")
    lines = [x.value for e in ja.expander if e.label == "手法" for x in e.text]
    assert len(lines) >= at_least, lines
    assert all(not line.isascii() for line in lines), [line for line in lines if line.isascii()]
    assert all("：" in line and "research.notes" not in line for line in lines), lines
    en = open_page(app, research_sqlite, page, "researcher", lang="en")
    english = [x.value for e in en.expander if e.label == "Method" for x in e.text]
    assert len(english) == len(lines)
    assert all(line.isascii() for line in english), english


@pytest.mark.parametrize("page", ["research_survey", "research_drill"])
def test_download_names_carry_the_japan_time_of_the_run(app, research_sqlite, media_files, page):
    """Every research download (CSV, Parquet, method note) is named ``{stem}_YYYYMMDD_HHMM`` in
    Japan time (UTC+9, counted here by hand), whatever the machine's zone."""
    import re

    before = dt.datetime.now(dt.UTC)
    at = open_page(app, research_sqlite, page, "researcher")
    after = dt.datetime.now(dt.UTC)
    stamps = {
        (moment + dt.timedelta(hours=9)).replace(tzinfo=None).strftime("%Y%m%d_%H%M")
        for moment in (before, after)
    }
    assert at.download_button
    names = []
    for button in at.download_button:
        url = media_files[-1].execute_deferred(button.proto.deferred_file_id)
        names.append(media_files[-1]._storage.get_file(url.rsplit("/", 1)[1]).filename)
    pattern = re.compile(r"^[\w.-]+_(\d{8}_\d{4})(_method)?\.(csv|parquet|txt)$")
    for name in names:
        found = pattern.match(name)
        assert found and found.group(1) in stamps, (name, stamps)
    assert {n.rsplit(".", 1)[1] for n in names} == {"csv", "parquet", "txt"}


def _method_note(at, media_files) -> str:
    """The text of the page's first method-note download (``…_method.txt``)."""
    for button in at.download_button:
        url = media_files[-1].execute_deferred(button.proto.deferred_file_id)
        stored = media_files[-1]._storage.get_file(url.rsplit("/", 1)[1])
        if stored.filename.endswith("_method.txt"):
            return stored.content.decode("utf-8")
    raise AssertionError("no method note download")


def test_the_downloaded_method_note_follows_the_ui_language(app, research_sqlite, media_files):
    """In the Japanese UI the method note download opens with the catalog's Japanese lines
    (label：text, one per note of the survey composition), then the note as written under a
    heading that says so; in the English UI it is the composition's note itself."""
    ja = _method_note(open_page(app, research_sqlite, "research_survey", "researcher"), media_files)
    japanese, _, original = ja.partition("\n\n")
    lines = japanese.splitlines()
    assert lines[0].startswith("逆転項目：")
    assert "クロンバックのα：" in japanese and "マクドナルドのω：" in japanese
    assert all(not line.isascii() and "：" in line for line in lines), lines
    assert "research.notes" not in ja and "research.common" not in ja
    assert original.startswith("英語の原文")
    en = _method_note(
        open_page(app, research_sqlite, "research_survey", "researcher", lang="en"), media_files
    )
    assert en.isascii() and en.startswith("reverse_coding: points + 1 - answer")
    assert original.split("\n", 1)[1] == en


def test_counts_in_tables_carry_thousands_separators_as_the_metrics():
    from analytics.small_cells import LABELS
    from bosai.i18n import t
    from dashboard.research_kit import Kit

    kit = Kit(lambda key, **kw: t(key, "ja", **kw), "ja")
    frame = pd.DataFrame({"n": [10_000, 3], "mean": [2.987, 1.0]})
    shown = kit.readable(frame, ["n"], estimates={"mean": 2})
    assert list(shown["n"]) == ["10,000", LABELS["ja"]]  # as the metric's 10,000
    assert list(shown["mean"]) == ["2.99", "—"]
