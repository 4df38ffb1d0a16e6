"""``bosai analyze …`` JSON output, checked against independent computations: pingouin on the
sample export, R's wilcox.test values on the timing sheet, plain SQL on the demo city."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pingouin as pg
import pytest
import sqlalchemy as sa

from bosai.cli import main
from sql.engine import make_engine

SAMPLES = Path(__file__).resolve().parents[1] / "surveys" / "samples"
AT = "2026-07-10T12:00:00+09:00"


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory, sqlite_template) -> str:
    path = tmp_path_factory.mktemp("analyze") / "demo.sqlite"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    assert main(["--database-url", url, "demo", "--citizens", "1500"]) == 0
    return url


def run_json(capsys, *args: str, url: str | None = None) -> dict:
    argv = (["--database-url", url] if url else []) + [*map(str, args), "--json"]
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_analyze_survey_json(capsys):
    from surveys.scoring import item_scores
    from surveys.validate import responses_frame, validate_file

    file = SAMPLES / "google_forms_drill_2022.csv"
    out = run_json(capsys, "analyze", "survey", file, "--instrument", "drill-2022", "--boot", "200")
    parsed = validate_file(file, "drill-2022")
    frame = responses_frame(parsed)
    scores = item_scores(frame, parsed.instrument)
    assert out["n"] == 24
    for name, sub in out["subscales"].items():
        assert {"mean", "sd", "alpha", "omega", "alpha_ci", "omega_ci"} <= set(sub), name
        # Reference: pingouin.cronbach_alpha(reverse-coded items of the subscale)
        ref = pg.cronbach_alpha(scores[sub["items"]].dropna())[0]
        assert sub["alpha"] == pytest.approx(ref, abs=1e-9)
        assert sub["mean"] == pytest.approx(scores[sub["items"]].mean(axis=1).mean(), abs=1e-12)
    assert out["subscales"]["personalised"]["omega"] is None  # two items: ω not identified
    for item, entry in out["items"].items():
        values = pd.to_numeric(frame[item], errors="coerce")
        assert entry["n"] == values.notna().sum()
        assert entry["mean"] == pytest.approx(values.mean(), abs=1e-12)
    from analytics.text_themes import themes as reference_themes

    # Small cells: a theme named by 1–4 comments is printed without its count (the one rule).
    printed = {t["theme"]: t for t in out["free_text"]["comment_map"]["themes"]}
    exact = {
        t["theme"]: t["count"]
        for t in reference_themes(frame["comment_map"].dropna().astype(str).tolist())["themes"]
    }
    assert exact["voice_guidance"] >= 1
    for theme, count in exact.items():
        if 0 < count < 5:
            assert printed[theme]["count"] is None and printed[theme]["suppressed"] is True
        else:
            assert printed[theme]["count"] == count


def test_analyze_survey_by_participant_type(capsys):
    from scipy import stats

    file = SAMPLES / "kobo_drill_2022.csv"
    out = run_json(
        capsys,
        "analyze",
        "survey",
        file,
        "--instrument",
        "drill-2022",
        "--by",
        "participant_type",
        "--boot",
        "100",
    )
    cmp = out["comparisons"]["participant_type"]["acceptance"]
    groups = {g["group"]: g for g in cmp["groups"]}
    assert set(groups) == {"staff", "visitor"} and cmp["test"] == "mann_whitney"
    assert groups["visitor"]["n"] == 6
    # Two staff answered: their group's count and everything computed from it are suppressed.
    assert groups["staff"]["n"] is None and groups["staff"]["suppressed"] is True
    assert all(v is None for k, v in groups["staff"].items() if k not in ("group", "suppressed"))
    from surveys.scoring import subscale_scores
    from surveys.validate import responses_frame, validate_file

    parsed = validate_file(file, "drill-2022")
    frame = responses_frame(parsed)
    score = subscale_scores(frame, parsed.instrument)["acceptance"]
    # Reference: scipy.stats.mannwhitneyu(staff, visitor, alternative="two-sided")
    ref = stats.mannwhitneyu(
        score[frame["participant_type"] == "staff"],
        score[frame["participant_type"] == "visitor"],
        alternative="two-sided",
    )
    assert (cmp["statistic"], cmp["p"]) == pytest.approx((ref.statistic, ref.pvalue), abs=1e-12)


def test_analyze_survey_refuses_a_bad_file(capsys):
    file = SAMPLES / "bad_google_forms_drill_2022.csv"
    assert main(["analyze", "survey", str(file), "--instrument", "drill-2022"]) == 2
    assert "bad_google_forms_drill_2022.csv:3:" in capsys.readouterr().err


def test_analyze_uiux_json(capsys):
    out = run_json(capsys, "analyze", "uiux", SAMPLES / "uiux_timings_2021.csv")
    plan = [r for r in out["summary"] if r["task"] == "マイタイムライン作成"]
    assert len(plan) == 6 and all({"n", "median_s", "mean_s"} <= set(r) for r in plan)
    elderly_paper = next(r for r in plan if r["method"] == "paper" and r["group"] == "elderly")
    assert elderly_paper["n"] == 6 and elderly_paper["median_s"] == 855.0
    everyone = next(r for r in out["paired"] if r["group"] == "all")
    # Reference: R> wilcox.test(paper, app, paired = TRUE, conf.int = TRUE) (see test_uiux_timing)
    assert everyone["statistic"] == 171
    assert everyone["p"] == pytest.approx(2.1372191522501475e-04, abs=1e-12)
    assert (everyone["hl_shift_s"], everyone["ci_low"], everyone["ci_high"]) == pytest.approx(
        (340.5, 289.5, 424.0), abs=1e-4
    )


def test_analyze_optin_from_a_questionnaire(capsys):
    out = run_json(capsys, "analyze", "optin", "--source", SAMPLES / "google_forms_drill_2022.csv")
    assert out["n"] == 24
    assert out["consent_timing"]["first_only"]["count"] == 12
    assert out["consent_timing"]["each_time"]["count"] == 12
    assert out["share_targets"]["family"]["share"] == 1.0
    assert set(out["by_participant_type"]) == {"resident", "staff", "visitor"}
    from analytics.optin_acceptance import questionnaire_optin
    from surveys.validate import responses_frame, validate_file

    frame = responses_frame(validate_file(SAMPLES / "google_forms_drill_2022.csv", "drill-2022"))
    for band, part in frame.groupby("age_band"):
        exact = questionnaire_optin(part)["n"]
        printed = out["by_age_band"][str(band)]
        assert printed["n"] == (None if 0 < exact < 5 else exact), band
        assert printed.get("suppressed", False) == (0 < exact < 5)
    assert set(out["by_sex"]) <= {"female", "male", "other"}
    assert main(["analyze", "optin", "--source", "nothing.csv"]) == 1


def independent_acceptance(url: str, at: dt.datetime) -> dict[str, int]:
    """Citizens with a consent in force per data item at ``at``: plain SQL, latest event wins."""
    engine = make_engine(url)
    when = at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    sql = """
        SELECT data_item, COUNT(DISTINCT citizen_id) FROM (
          SELECT citizen_id, data_item, event_type, expires_at,
                 ROW_NUMBER() OVER (PARTITION BY citizen_id, data_item, share_target
                                    ORDER BY occurred_at DESC, id DESC) AS rn
          FROM consent_events WHERE occurred_at <= :at)
        WHERE rn = 1 AND event_type = 'given' AND (expires_at IS NULL OR expires_at > :at)
        GROUP BY data_item"""
    with engine.connect() as conn:
        result = dict(conn.execute(sa.text(sql), {"at": when}).all())
    engine.dispose()
    return result


def test_analyze_optin_from_the_consent_ledger(demo_url, capsys):
    out = run_json(capsys, "analyze", "optin", "--at", AT, url=demo_url)
    at = dt.datetime.fromisoformat(AT)
    expected = independent_acceptance(demo_url, at)
    got = {r["data_item"]: r["count"] for r in out["by_data_item"]}
    assert got == {item: expected.get(item, 0) for item in got}
    assert out["invited"] == 1500 and all(r["n"] == 1500 for r in out["by_data_item"])
    location = out["logit"]["location"]
    assert location["note"] is None and location["converged"]
    assert location["references"]["sex"] in ("female", "male")
    assert out["logit"]["basic_info"]["note"]  # everyone accepts: no model
    engine = make_engine(demo_url)
    with engine.connect() as conn:
        audited = conn.execute(
            sa.text("SELECT target, role, purpose FROM audit_log WHERE target LIKE 'research.%'")
        ).all()
    engine.dispose()
    assert ("research.consent_ledger", "admin", "research") in audited


def test_analyze_drill_from_its_event_log(demo_url, capsys):
    out = run_json(capsys, "analyze", "drill", "--drill", "1", url=demo_url)
    engine = make_engine(demo_url)
    with engine.connect() as conn:
        stages = dict(
            conn.execute(
                sa.text(
                    "SELECT event_type, COUNT(DISTINCT citizen_id) FROM drill_events "
                    "WHERE drill_id = 1 GROUP BY event_type"
                )
            ).all()
        )
    engine.dispose()
    assert {r["stage"]: r["count"] for r in out["funnel"]} == stages
    answered = out["time_to_event"]["safety_answered"]["all"]
    assert answered["n"] == stages["notification_sent"]
    assert answered["events"] == stages["safety_answered"]
    assert set(out["time_to_event"]["arrived"]["groups"]) <= {
        "elderly",
        "resident",
        "staff",
        "visitor",
    }
    compared = run_json(capsys, "analyze", "drill", "--drill", "1", "--compare", "1", url=demo_url)
    assert compared["comparison"]["log_rank"]["chi2"] == pytest.approx(0.0, abs=1e-12)
    assert main(["--database-url", demo_url, "analyze", "drill", "--drill", "nope"]) == 2


def test_optin_and_drill_read_the_same_on_sqlite_and_postgresql(db_url, capsys):
    """The research reads (consent ledger, attributes, drill log) on both databases."""
    assert main(["--database-url", db_url, "demo", "--citizens", "300"]) == 0
    capsys.readouterr()
    optin = run_json(capsys, "analyze", "optin", "--at", AT, url=db_url)
    expected = independent_acceptance_portable(db_url, dt.datetime.fromisoformat(AT))
    got = {r["data_item"]: r["count"] for r in optin["by_data_item"]}
    assert got == {item: expected.get(item, 0) for item in got}
    assert optin["invited"] == 300
    drill = run_json(capsys, "analyze", "drill", "--drill", "1", url=db_url)
    engine = make_engine(db_url)
    with engine.connect() as conn:
        answered = conn.execute(
            sa.text(
                "SELECT COUNT(DISTINCT citizen_id) FROM drill_events "
                "WHERE drill_id = 1 AND event_type = 'safety_answered'"
            )
        ).scalar_one()
    engine.dispose()
    assert drill["time_to_event"]["safety_answered"]["all"]["events"] == answered
    assert drill["drill"]["started_at"].endswith("+00:00")


def independent_acceptance_portable(url: str, at: dt.datetime) -> dict[str, int]:
    """As :func:`independent_acceptance`, with the time bound as a timezone-aware parameter
    and the latest event found by NOT EXISTS (portable SQL)."""
    from sql.models import ConsentEvent

    ev = ConsentEvent.__table__
    later = ev.alias("later")
    latest = ~sa.exists().where(
        later.c.citizen_id == ev.c.citizen_id,
        later.c.data_item == ev.c.data_item,
        later.c.share_target == ev.c.share_target,
        later.c.occurred_at <= at,
        sa.or_(
            later.c.occurred_at > ev.c.occurred_at,
            sa.and_(later.c.occurred_at == ev.c.occurred_at, later.c.id > ev.c.id),
        ),
    )
    stmt = (
        sa.select(ev.c.data_item, sa.func.count(sa.distinct(ev.c.citizen_id)))
        .where(
            ev.c.occurred_at <= at,
            latest,
            ev.c.event_type == "given",
            sa.or_(ev.c.expires_at.is_(None), ev.c.expires_at > at),
        )
        .group_by(ev.c.data_item)
    )
    engine = make_engine(url)
    with engine.connect() as conn:
        result = dict(conn.execute(stmt).all())
    engine.dispose()
    return result


def small_cells_printed(value, path="") -> list[str]:
    """Every count of 1–4 people in printed JSON, and every number beside a suppressed count."""
    from analytics.small_cells import JSON_COUNTS

    found = []
    if isinstance(value, list):
        for k, v in enumerate(value):
            found += small_cells_printed(v, f"{path}[{k}]")
    elif isinstance(value, dict):
        suppressed = value.get("suppressed") is True
        for key, v in value.items():
            if isinstance(v, dict | list):
                found += small_cells_printed(v, f"{path}.{key}")
            elif isinstance(v, int | float) and not isinstance(v, bool):
                if key in JSON_COUNTS and 0 < v < 5:
                    found.append(f"{path}.{key}={v}")
                elif suppressed and key not in JSON_COUNTS:
                    found.append(f"{path}.{key}={v} (derived from a small count)")
    return found


@pytest.mark.parametrize(
    "args",
    [
        (
            "survey",
            SAMPLES / "kobo_drill_2022.csv",
            "--instrument",
            "drill-2022",
            "--by",
            "participant_type",
            "--boot",
            "50",
            "--omega-boot",
            "20",
        ),
        ("uiux", SAMPLES / "uiux_timings_2021.csv"),
        ("optin", "--source", SAMPLES / "google_forms_drill_2022.csv"),
        ("optin", "--at", AT),
        ("drill", "--drill", "1"),
    ],
    ids=["survey", "uiux", "optin-file", "optin-db", "drill"],
)
def test_analyze_json_prints_no_small_cell(demo_url, capsys, args):
    """Finding 13.8: ``bosai analyze --json`` follows the one suppression rule."""
    out = run_json(capsys, "analyze", *args, url=demo_url)
    assert small_cells_printed(out) == []
    capsys.readouterr()
    assert main(["--database-url", demo_url, "analyze", *map(str, args)]) == 0
    text = capsys.readouterr().out
    assert not re.search(r"\bn [1-4]\b|: [1-4] / |\s[1-4] participants", text), text
