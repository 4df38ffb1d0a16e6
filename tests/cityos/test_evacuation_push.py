"""An evacuation decision pushed through the real (reference) city OS: to the citizens living
in its areas who share their basic information with the city, with the standard text per level
in Japanese, easy Japanese and English; recorded with its delivery funnel; a repeat never
pushes twice; a drill's message is marked (issue 17)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from cityos.evacuation_push import message, push_decision
from cityos.sync import sync
from importers.evacuation import read_areas
from sql.actions.evacuation import issue
from sql.actions.incidents import declare_incident
from sql.consent import consenting_citizens, record_consent
from sql.imports.evacuation import import_areas
from sql.models import Citizen, EvacuationArea, NotificationRequest
from sql.viewer import SYSTEM, Viewer

HQ = Viewer(role="hq", subject="hq-1")


def an_area_around_homes(engine, tmp_path) -> int:
    """An area around the synced citizens' homes in the middle of the city."""
    with engine.connect() as conn:
        lats, lons = zip(
            *conn.execute(sa.select(Citizen.home_lat, Citizen.home_lon)).all(), strict=True
        )
    lat = sorted(x for x in lats if x is not None)[len(lats) // 2]
    lon = sorted(x for x in lons if x is not None)[len(lons) // 2]
    d = 0.02
    path = tmp_path / "areas.csv"
    path.write_text(
        "区域コード,区域名,区域名英語,種別,WKT\n"
        f'C-1,中心部,City centre,地区,"POLYGON (({lon - d} {lat - d}, {lon + d} {lat - d}, '
        f'{lon + d} {lat + d}, {lon - d} {lat + d}, {lon - d} {lat - d}))"\n',
        encoding="utf-8",
    )
    import_areas(engine, SYSTEM, read_areas(path), path.name)
    with engine.connect() as conn:
        return conn.execute(sa.select(EvacuationArea.id)).scalar_one()


def an_inhabitant(engine, area_id: int) -> int:
    import shapely

    with engine.connect() as conn:
        geom = shapely.from_wkb(
            bytes(conn.execute(sa.select(EvacuationArea.geom_wkb)).scalar_one())
        )
        homes = conn.execute(sa.select(Citizen.id, Citizen.home_lon, Citizen.home_lat)).all()
    return next(
        h.id
        for h in homes
        if h.home_lon is not None and geom.intersects(shapely.Point(h.home_lon, h.home_lat))
    )


def withdraw_basic_info(engine, citizen_id: int) -> None:
    """The citizen stops sharing their basic information (the address) with the city."""
    with engine.begin() as conn:
        record_consent(
            conn,
            [
                {
                    "citizen_id": citizen_id,
                    "data_item": "basic_info",
                    "share_target": "city_hq",
                    "event_type": "withdrawn",
                    "collection_method": "app",
                    "occurred_at": dt.datetime.now(dt.UTC),
                }
            ],
        )


def expected_recipients(engine, area_id: int) -> set[str]:
    import shapely

    with engine.connect() as conn:
        geom = shapely.from_wkb(
            bytes(conn.execute(sa.select(EvacuationArea.geom_wkb)).scalar_one())
        )
        sharing = set(conn.execute(consenting_citizens("basic_info", "city_hq")).scalars())
        homes = conn.execute(
            sa.select(Citizen.id, Citizen.subject, Citizen.home_lon, Citizen.home_lat)
        ).all()
    return {
        h.subject
        for h in homes
        if h.home_lon is not None
        and geom.intersects(shapely.Point(h.home_lon, h.home_lat))
        and h.id in sharing
    }


def test_a_decision_reaches_the_consenting_citizens_in_its_areas_once(engine, client, tmp_path):
    sync(engine, client)
    area = an_area_around_homes(engine, tmp_path)
    incident = declare_incident(engine, HQ, "real", "大雨")
    issue(engine, HQ, incident, [area], 4, "氾濫危険水位", idempotency_key="push-1")
    withdraw_basic_info(engine, an_inhabitant(engine, area))
    pushed = push_decision(engine, client, HQ, "push-1")
    wanted = expected_recipients(engine, area)
    # the citizen who withdrew is a candidate but no recipient
    assert pushed.candidates == pushed.recipients + 1 and pushed.recipients == len(wanted) > 0
    assert pushed.outcome is not None and pushed.outcome.status in ("sent", "accepted")
    with engine.connect() as conn:
        (request,) = conn.execute(sa.select(NotificationRequest)).all()
    assert request.idempotency_key == "bosai:evacuation:push-1"
    assert set(request.target_spec["subjects"]) == wanted
    assert request.title == "【警戒レベル4】避難指示"
    assert "中心部に避難指示を発令しました" in request.body
    assert "【やさしい日本語】" in request.body
    assert "Evacuation order (alert level 4) for City centre" in request.body
    again = push_decision(engine, client, HQ, "push-1")
    assert again.outcome.notification_id == pushed.outcome.notification_id
    with engine.connect() as conn:
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(NotificationRequest)).scalar() == 1
        )


def test_a_drills_message_is_marked_and_a_lift_has_its_own_text():
    title, body = message(3, ["湯川沿い"], ["Yugawa"], exercise=True)
    assert title == "【訓練】【警戒レベル3】高齢者等避難"
    assert body.startswith("【訓練】これは訓練です。")
    title, body = message(None, ["湯川沿い"], ["Yugawa"], exercise=False)
    assert title == "避難情報の解除" and "湯川沿いの避難情報を解除しました" in body
