"""The reference city OS's population: the project's demo city (``drills.demo_city``).

Users get the demo's subjects, households, register entries and consent ledger (the latest
decision per data item and share target, as of the demo incident's start, keeps the demo's
``source_ref`` as its ``consent_id``), so a database that holds the same demo sees the same
people and consents. Shelter ids are the demo's ``local_id``. Nobody has a status yet: that is
what drills and tests add.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

from bosai.vocab import HAZARD_KINDS

from .state import CityOSState, ConsentRecord, UserRecord


def city_from_file(path: Path | None):
    """The city (a :class:`sql.city_config.CityConfig`) from a city file (default: the
    project's default city file)."""
    from sql.city_config import DEFAULT_CITY_FILE, CityConfig, read_city_file

    values = read_city_file(Path(path) if path else DEFAULT_CITY_FILE)
    defaults = {"id": 0, "settings": {}, "timezone": "Asia/Tokyo", "default_zoom": 12.0}
    names = {f.name for f in dataclasses.fields(CityConfig)}
    merged = {**defaults, **{k: v for k, v in values.items() if k in names}}
    for name in names - merged.keys():
        merged[name] = None
    return CityConfig(**merged)


def build_state(citizens: int, seed: int, city_file: Path | None = None) -> CityOSState:
    """A city OS holding the demo population of ``citizens`` people (deterministic per seed)."""
    from drills.demo_city import DemoParams, generate

    city = city_from_file(city_file)
    demo = generate(DemoParams(citizens=citizens, seed=seed), city)
    t0: dt.datetime = demo.params.start.astimezone(dt.UTC)
    state = CityOSState()
    for row in demo.tables["shelters"]:
        state.add_shelter(_shelter(row))
    households = {h["id"]: h for h in demo.tables["households"]}
    sizes: dict[int, int] = {}
    for c in demo.tables["citizens"]:
        sizes[c["household_id"]] = sizes.get(c["household_id"], 0) + 1
    register = {r["citizen_id"]: r for r in demo.tables["support_register"]}
    latest: dict[tuple[int, str, str], dict[str, Any]] = {}
    for ev in demo.tables["consent_events"]:
        if ev["occurred_at"] > t0:
            continue
        key = (ev["citizen_id"], ev["data_item"], ev["share_target"])
        cur = latest.get(key)
        if cur is None or (ev["occurred_at"], ev["id"]) > (cur["occurred_at"], cur["id"]):
            latest[key] = ev
    consents: dict[int, dict[tuple[str, str], ConsentRecord]] = {}
    for (cid, item, target), ev in latest.items():
        consents.setdefault(cid, {})[(item, target)] = ConsentRecord(
            consent_id=ev["source_ref"],
            data_item=item,
            share_target=target,
            state=ev["event_type"],
            occurred_at=ev["occurred_at"],
            expires_at=ev["expires_at"],
            purpose=ev["purpose"],
            notice_version=ev["notice_version"],
        )
    for c in demo.tables["citizens"]:
        household = households[c["household_id"]]
        entry = register.get(c["id"])
        state.add_user(
            UserRecord(
                subject=c["subject"],
                revision=0,
                updated_at=t0,
                synthetic=True,
                consents=consents.get(c["id"], {}),
                basic_info={
                    "name": c["name"],
                    "kana": c["kana"],
                    "sex": c["sex"],
                    "birth_date": c["birth_date"].isoformat(),
                    "address": c["address"],
                    "district": c["district"],
                    "phone": c["phone"],
                    "home": {"lat": c["home_lat"], "lon": c["home_lon"]},
                },
                household={
                    "household_id": household["external_id"],
                    "members": sizes[c["household_id"]],
                },
                support_register=None
                if entry is None
                else {
                    "needs": entry["needs"],
                    "care_level": entry["care_level"],
                    "supporter_name": entry["supporter_name"],
                    "supporter_phone": entry["supporter_phone"],
                    "supporter_relation": entry["supporter_relation"],
                    "normal_time_consent": entry["normal_time_consent"],
                },
                profile_image={"url": f"/images/{c['subject']}.png"},
            )
        )
    return state


def _shelter(row: dict[str, Any]) -> dict[str, Any]:
    from .state import iso

    return {
        "shelter_id": row.get("local_id") or str(row["id"]),
        "revision": 0,
        "standard_id": row.get("standard_id"),
        "gsi_id": row.get("gsi_id"),
        "name": row["name"],
        "kana": row.get("kana"),
        "address": row.get("address"),
        "district": row.get("district"),
        "lat": row["lat"],
        "lon": row["lon"],
        "elevation_m": row.get("elevation_m"),
        "capacity": row.get("capacity"),
        "hazards": [kind for kind in HAZARD_KINDS if row.get(f"hazard_{kind}")],
        "emergency_site": bool(row.get("is_emergency_site")),
        "designated_shelter": bool(row.get("is_designated_shelter")),
        "welfare_shelter": bool(row.get("is_welfare_shelter")),
        "updated_at": iso(row["updated_at"]),
        "synthetic": bool(row.get("is_synthetic", True)),
    }
