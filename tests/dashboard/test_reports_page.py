"""The reports page (報告書) through the real entry point (AppTest) on the demo city: who may
open it, making a council report and a situation report ends in a download button. AppTest
cannot read a download's bytes, so the function the page calls is tested for them here."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from dashboard.registry import can_open
from reports import council, situation
from sql.engine import make_engine
from sql.viewer import Viewer
from tests.dashboard.conftest import open_page


def test_roles():
    for role in ("council", "hq", "researcher", "admin"):
        assert can_open(role, "reports"), role
    for role in ("rescue", "shelter_staff"):
        assert not can_open(role, "reports"), role


@pytest.mark.slow
def test_council_report_ends_in_a_download(app, demo_sqlite):
    at = open_page(app, demo_sqlite, "reports", "council")
    assert at.title[0].value == "報告書"
    assert not at.get("download_button")
    at.radio(key="council_format").set_value("xlsx").run()
    at.button(key="council_make").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.get("download_button")) == 1
    assert [p.proto.value for p in at.get("progress")] == [100]
    assert any("council_incident_1.xlsx" in s.value for s in at.success)
    # The file survives reruns (kept in the session).
    at.run()
    assert len(at.get("download_button")) == 1


@pytest.mark.slow
def test_situation_report_ends_in_a_download(app, demo_sqlite):
    at = open_page(app, demo_sqlite, "reports", "hq")
    at.radio(key="situation_format").set_value("html").run()
    at.button(key="situation_make").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.get("download_button")) == 1
    assert any(s.value.startswith("作成しました：situation_1_") for s in at.success)


def test_the_functions_the_page_calls_return_the_files(demo_sqlite):
    engine = make_engine(demo_sqlite)
    viewer = Viewer(role="council", subject="demo-council", name="議会事務局")
    seen: list[float] = []
    pdf = council.produce(
        engine, "pdf", incident=1, viewer=viewer, lang="ja", progress=lambda f, _: seen.append(f)
    )
    assert pdf.startswith(b"%PDF")
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) > 5
    page = situation.produce(engine, 1, "html", viewer=viewer)
    assert page.startswith(b"<!DOCTYPE html>") and "災害状況報告".encode() in page
    engine.dispose()


@pytest.mark.slow
def test_drill_report_for_the_council_reads_research_through_the_report_account(app, demo_sqlite):
    at = open_page(app, demo_sqlite, "reports", "council")
    at.radio(key="council_subject").set_value("drill").run()
    at.radio(key="council_format").set_value("xlsx").run()
    at.button(key="council_make").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("council_drill_1.xlsx" in s.value for s in at.success)
    engine = make_engine(demo_sqlite)
    with engine.connect() as conn:
        actors = {
            row[0]
            for row in conn.execute(
                sa.text("SELECT actor FROM audit_log WHERE target LIKE 'research.%'")
            )
        }
    engine.dispose()
    assert any(a.startswith("system:report:demo-") for a in actors), actors
