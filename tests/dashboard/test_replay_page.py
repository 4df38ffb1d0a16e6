"""The replay page in Japan time, with each shelter's count carried forward; a head count
entered on the demo incident months later lands inside its night."""

from __future__ import annotations

import base64
import datetime as dt
import json

import numpy as np
import sqlalchemy as sa

from sql.actions.shelters import record_head_count
from sql.engine import make_engine
from sql.models import IncidentActivity, ShelterOccupancy, ShelterOperation
from sql.viewer import Viewer

DEMO_START_JST = dt.datetime(2026, 7, 10, 4, 0)  # drills.demo_city.DEFAULT_START, naive JST


def curve_of(at) -> tuple[dict, list[dt.datetime], list[float]]:
    """The replay curve's figure as sent to the browser, its x (naive times) and y values."""
    chart = next(c for c in at.get("plotly_chart") if "replay_curve" in c.proto.id)
    figure = json.loads(chart.proto.spec)
    trace = figure["data"][0]
    return figure, [dt.datetime.fromisoformat(x) for x in trace["x"]], plotly_values(trace["y"])


def plotly_values(values) -> list[float]:
    """Plotly sends numeric arrays base64-encoded (``{"dtype", "bdata"}``)."""
    if isinstance(values, dict):
        raw = base64.b64decode(values["bdata"])
        return np.frombuffer(raw, dtype=np.dtype(values["dtype"])).tolist()
    return list(values)


def test_the_replay_is_in_japan_time_and_a_new_count_keeps_the_city_total(app, demo_copy):
    engine = make_engine(demo_copy)
    with engine.connect() as conn:
        shelter, before = conn.execute(
            sa.select(ShelterOccupancy.shelter_id, ShelterOccupancy.head_count)
            .join(ShelterOperation, ShelterOperation.shelter_id == ShelterOccupancy.shelter_id)
            .where(ShelterOccupancy.head_count > 0)
            .order_by(ShelterOccupancy.observed_at.desc(), ShelterOccupancy.shelter_id)
            .limit(1)
        ).one()
    at = app(demo_copy)
    at.run()
    at.switch_page("views/replay.py")
    at.run()
    assert not at.exception
    slider = at.select_slider(key="replay_moment_1")
    assert slider.options[0] == "7月10日 04:00"  # the declaration, in Japan time
    assert all(o.startswith("7月10日 0") for o in slider.options)
    figure, xs, totals = curve_of(at)
    assert DEMO_START_JST <= min(xs) and max(xs) <= DEMO_START_JST + dt.timedelta(hours=3)
    assert "月" in figure["layout"]["xaxis"]["tickformat"]
    assert len(xs) == len(totals) and totals[-1] > 1000

    # A shelter's staff count one shelter months later, on the demo incident.
    record_head_count(engine, Viewer(role="hq", subject="demo-hq", demo=True), shelter, 1, 75)
    with engine.connect() as conn:
        stamped = conn.execute(
            sa.select(sa.func.max(IncidentActivity.at)).where(IncidentActivity.incident_id == 1)
        ).scalar_one()
    engine.dispose()
    assert stamped < dt.datetime(2026, 7, 10, tzinfo=dt.UTC)  # 7月10日 07:00 JST, not December

    at = app(demo_copy)
    at.run()
    at.switch_page("views/replay.py")
    at.run()
    _, xs2, ys = curve_of(at)
    assert xs2[:-1] == xs and xs2[-1] < DEMO_START_JST + dt.timedelta(hours=4)
    assert ys[:-1] == totals
    assert ys[-1] == totals[-1] - before + 75  # carried forward: only that shelter changed
