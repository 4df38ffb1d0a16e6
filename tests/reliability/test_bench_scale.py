"""The scale benchmark's measuring code on a small PostgreSQL demo city (the figures themselves
are for ``bosai bench --only bench_scale``, never asserted): every read it times returns the
rows the database holds, and its plan reader finds the statements and their index use."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from benchmarks import MODULES, bench_scale
from bosai.cli import main
from sql.engine import make_engine

pytestmark = pytest.mark.pg


def test_listed_and_measures_what_the_database_holds(pg_url):
    assert "benchmarks.bench_scale" in MODULES
    assert main(["--database-url", pg_url, "demo", "--citizens", "300"]) == 0
    figures = bench_scale.measure(pg_url)
    engine = make_engine(pg_url)
    with engine.connect() as conn:
        everything = conn.execute(
            sa.text("SELECT COUNT(*) FROM rescue_requests WHERE incident_id = 1")
        ).scalar_one()
        still_open = conn.execute(
            sa.text(
                "SELECT COUNT(*) FROM rescue_requests WHERE incident_id = 1 AND status IN "
                "('new','triaged','assigned','en_route')"
            )
        ).scalar_one()
        shelters = conn.execute(sa.text("SELECT COUNT(*) FROM shelters")).scalar_one()
    engine.dispose()
    assert figures["citizens"] == 300
    assert figures["rescue_queue_all.rows"] == everything > still_open
    assert figures["rescue_queue.rows"] == figures["rescue_open.rows"] == still_open > 0
    assert figures["shelter_board.rows"] == shelters
    for name in bench_scale.READS:
        assert figures[f"{name}.sql_ms"] > 0 and figures[f"{name}.frame_ms"] > 0
    # The queue's district: one primary-key lookup per request, not a scan of every citizen.
    assert any("pk_citizens" in i for i in figures["rescue_queue.indexes"])
    assert figures["hq_state.hq_ms"] > 0 and figures["hq_state.aggregate_ms"] > 0
    assert bench_scale._tuned(pg_url).endswith(
        "options=-c%20random_page_cost%3D1.1%20-c%20jit%3Doff%20-c%20work_mem%3D32MB"
    )
