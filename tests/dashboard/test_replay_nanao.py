"""Replay of a real incident known only from snapshots: the Nanao 2024 shelter head counts,
imported with ``bosai import occupancy``, stepped through on the replay page."""

from __future__ import annotations

import pandas as pd
import pytest

from analytics.replay_steps import replay_moments
from bosai.cli import main
from sql.engine import make_engine
from sql.queries.incidents import incident_timeline
from tests.conftest import ROOT

NANAO_CITY = ROOT / "tests" / "importers" / "data" / "nanao_172022.yaml"


def snapshot_total(path) -> int:
    """The file's head count, read independently (the column's name changes between files)."""
    frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    column = next(c for c in frame.columns if c.startswith("人数"))
    return int(pd.to_numeric(frame[column], errors="coerce").fillna(0).sum())


@pytest.fixture
def nanao_db(tmp_path, sqlite_template, opendata):
    import shutil

    path = tmp_path / "nanao.sqlite"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    assert main(["--database-url", url, "city", "load", str(NANAO_CITY)]) == 0
    history = opendata / "nanao_noto2024" / "history"
    assert main(["--database-url", url, "import", "occupancy", str(history)]) == 0
    # Signing in needs an active staff account in the claimed role.
    assert (
        main(["--database-url", url, "staff", "add", "demo-hq", "--name", "HQ", "--role", "hq"])
        == 0
    )
    return url, sorted(history.glob("*.csv"))


@pytest.mark.opendata
def test_each_step_shows_the_snapshot_of_that_moment(app, nanao_db):
    url, files = nanao_db
    at = app(url)
    at.user = {"is_logged_in": True, "sub": "demo-hq", "name": "HQ", "roles": ["hq"]}
    at.run()
    at.switch_page("views/replay.py")
    at.run()
    assert not at.exception
    slider = at.select_slider(key="replay_moment_1")
    assert len(slider.options) == len(files)  # one step per snapshot (117 files), in JST
    assert slider.options[0].startswith("1月")
    engine = make_engine(url)
    timeline = incident_timeline(engine, 1)
    moments = replay_moments(timeline["start"], timeline["end"], timeline["observations"])
    engine.dispose()
    for step in (0, 20, len(files) - 1):
        at.select_slider(key="replay_moment_1").set_value(moments[step]).run()
        shown = {m.label: m.value for m in at.metric}["避難者数（開設中の避難所の合計）"]
        assert int(shown.replace(",", "")) == snapshot_total(files[step]), files[step].name
    assert at.get("plotly_chart")
