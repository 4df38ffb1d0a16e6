"""The demo city: a seeded, deterministic flood incident with opted-in citizens.

``generate(params, city)`` returns every row the demo needs, table by table, with explicit ids,
computed only from the seed, the parameters and the city's geography file — never from the
clock — so the same seed gives byte-identical data (see ``tests/drills/test_demo_city.py``).

What it builds (defaults: 12,000 citizens, about 300 shelters):

* households of 1–5 people in the city's residential clusters; citizens with Japanese-looking,
  clearly synthetic names (``is_synthetic``; the UI shows a DEMO badge);
* about 5% on the evacuation-support register, most of them 75 or older;
* a consent ledger per citizen: basic info always, location/safety/household/image by age, share
  targets for safety status, some consents with an expiry, some withdrawn (a few during the
  incident);
* shelters (synthetic, or given by the caller from a real file) with hazard flags, capacity and
  elevation; flood-depth zones along the rivers and landslide zones in the hills;
* JMA warnings escalating 大雨注意報 → 大雨警報 → 洪水警報, the incident declared, shelters opened;
* a three-hour timeline of status reports, location fixes, rescue requests (with their history),
  shelter occupancy every 15 minutes, two push notifications with delivery/open events;
* a small demo drill with its event log for the research workbench.

The night's model (constants at the top of the module):

* **Rain and river.** 大雨警報 30 minutes before the declaration, 洪水警報 40 minutes after. The
  river's stage follows a logistic rise (:data:`RIVER_RISE`, half-way at 80 min); water reaches
  homes in each depth rank when the river passes that rank's stage (:data:`FLOOD_STAGE`: the
  deepest zones by the river at about 61 min, rank 3 at 84, rank 2 at 110), plus a delay of
  minutes (exponential, mean 12) and scatter. Homes on the hills' landslide zones are hit during
  the heavy rain on the slopes (:data:`RAIN_ON_SLOPES_MIN`); other emergencies (illness, a fall,
  drains overflowing) come at any time. A rescue request (or an injury) is sent when the hazard
  reaches the home — so requests spread over the hours following the rain and the river, most
  in the second hour, and people whose home the water has not reached by the end of the demo
  are still safe at home.
* **Evacuation.** The first push (10 min) asks everyone to get ready; the evacuation order
  (避難指示) for the flood zones goes out at 45 min (:data:`EVACUATION_ORDER_MIN`). Most people in
  a hazard zone leave after it, some on the first warning; others when they answer. They walk at
  60 m/min after 5–20 minutes of getting ready; 85 % of those who set off arrive within the
  night, rescued people are brought to a shelter by their team.
* **Shelters.** Every flood-suitable designated shelter outside the flood zones opens 20–40
  minutes after the declaration. Places are given in the order people set off
  (:class:`ShelterAllocator`): the lowest cost — distance × (300 / capacity) ** 0.5, so a
  school draws people from further than a small hall — among the shelters with room within 3 km
  on foot, else the nearest with room anywhere; a full shelter (its capacity reached, counting
  each app user as the population/app-users ratio of people) sends people on to the next. Head
  counts every 15 minutes are the app users present scaled to the population (±3 %), so no
  shelter is far above its capacity and the large schools and gyms near the flood zones fill
  first.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import itertools
from typing import Any, NamedTuple

import numpy as np
import shapely
from shapely import STRtree

from bosai.vocab import HAZARD_KINDS

from . import demo_evacuation, names
from .city_geography import CityGeography

JST = dt.timezone(dt.timedelta(hours=9))
#: Default start of the demo incident (declared at 04:00 JST); fixed for determinism.
DEFAULT_START = dt.datetime(2026, 7, 10, 4, 0, tzinfo=JST)
DEMO_VERSION = 2

AGE_BANDS = (
    (0, 14, 0.09),
    (15, 19, 0.045),
    (20, 39, 0.19),
    (40, 64, 0.32),
    (65, 74, 0.165),
    (75, 89, 0.16),
    (90, 99, 0.03),
)
#: The push that carries the evacuation order (避難指示) for the flood zones, minutes after start.
EVACUATION_ORDER_MIN = 45
WALKING_M_PER_MIN = 60.0
#: The river's rise: its stage (0 = normal, 1 = the worst of the night) follows a logistic curve
#: through 0.5 at ``midpoint`` minutes with the given ``spread`` (minutes).
RIVER_RISE = {"midpoint": 80.0, "spread": 22.0}
#: The stage at which water reaches homes in each flood depth rank (deepest, nearest the river
#: first): rank 4 at about 61 min, rank 3 at 84, rank 2 at 110.
FLOOD_STAGE = {4: 0.3, 3: 0.55, 2: 0.8}
#: Heavy rain on the hills (slope failures) between these minutes.
RAIN_ON_SLOPES_MIN = (20.0, 150.0)
#: A shelter takes people up to this share of its capacity before they go on to the next.
FILL_LIMIT = 1.0
#: How strongly a larger shelter draws people from further away (gravity model): a shelter's
#: cost is distance × (REFERENCE_CAPACITY / capacity) ** CAPACITY_PULL.
CAPACITY_PULL = 0.5
REFERENCE_CAPACITY = 300.0
#: Shelters considered on foot before going further (metres).
WALKING_RANGE_M = 3000.0
HOUSEHOLD_SIZES = (1, 2, 3, 4, 5)
HOUSEHOLD_P = (0.30, 0.31, 0.19, 0.13, 0.07)
RESCUE_TEAMS = tuple(f"消防{i}隊" for i in range(1, 13)) + ("自衛隊第1班", "警察救助班")
REGISTER_NEEDS = (
    "車いす使用",
    "寝たきり",
    "視覚障害",
    "聴覚障害",
    "人工透析",
    "認知症",
    "在宅酸素",
    "歩行困難",
    "精神障害",
    "知的障害",
)
#: A resident's answer by their home's flood depth rank: cumulative thresholds of a uniform
#: draw for :data:`OUTCOMES` (else safe at home); homes outside the flood zones use rank 0.
OUTCOME_THRESHOLDS = {
    4: (0.24, 0.26, 0.86, 0.94),
    3: (0.13, 0.14, 0.72, 0.82),
    2: (0.06, 0.07, 0.48, 0.58),
    0: (0.01, 0.014, 0.07, 0.15),
}
#: The thresholds for homes in a landslide zone outside the flood zones.
LANDSLIDE_THRESHOLDS = (0.03, 0.04, 0.6, 0.7)
OUTCOMES = ("needs_rescue", "injured", "evacuating", "elsewhere_safe")
RESCUE_MESSAGES = (
    "1階が浸水しています",
    "高齢の母と2階に避難中",
    "車いすで動けません",
    "水位が上がっています",
    "子どもと一緒です",
    None,
)
#: How HQ works a rescue request: (status, soonest and latest minutes after the step before,
#: the chance the step happens).
RESCUE_STEPS = (
    ("triaged", 3, 15, 0.8),
    ("assigned", 5, 25, 0.7),
    ("en_route", 3, 10, 0.9),
    ("resolved", 15, 45, 0.85),
)
RESCUE_REASONS = {
    "triaged": "本部で優先度を確認",
    "assigned": "{team}に割当",
    "en_route": "出動",
    "resolved": "救助完了・避難所へ搬送",
}
TIMELINE_TABLES = ("status_reports", "location_fixes", "rescue_requests", "rescue_request_events")
CARE_LEVELS = (
    "要介護1",
    "要介護2",
    "要介護3",
    "要介護4",
    "要介護5",
    "身体障害者手帳1級",
    "身体障害者手帳2級",
    "療育手帳A",
)


@dataclasses.dataclass(frozen=True)
class DemoParams:
    citizens: int = 12_000
    seed: int = 20220311
    start: dt.datetime = DEFAULT_START
    duration_min: int = 180
    shelters: int = 300
    #: River gauges, issuance areas and HQ's evacuation decisions of the night
    #: (:mod:`drills.demo_evacuation`; ``bosai demo`` turns it on).
    evacuation: bool = False

    def as_meta(self) -> dict[str, Any]:
        meta = {
            "citizens": self.citizens,
            "seed": self.seed,
            "start": self.start.isoformat(),
            "duration_min": self.duration_min,
            "shelters": self.shelters,
            "version": DEMO_VERSION,
        }
        if self.evacuation:
            meta["evacuation"] = True
        return meta


@dataclasses.dataclass
class DemoCity:
    params: DemoParams
    #: Rows per table, in an order that satisfies foreign keys.
    tables: dict[str, list[dict[str, Any]]]

    def count(self, table: str) -> int:
        return len(self.tables.get(table, []))


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC)


def river_stage_minute(stage: float) -> float:
    """The minute the river reaches ``stage`` (0–1) on the logistic rise of :data:`RIVER_RISE`.

    >>> round(river_stage_minute(0.5)), round(river_stage_minute(0.3)), round(river_stage_minute(0.8))
    (80, 61, 110)
    """
    return RIVER_RISE["midpoint"] + RIVER_RISE["spread"] * float(np.log(stage / (1 - stage)))


class ShelterAllocator:
    """Places for evacuees, given in the order they set off: each goes to the open shelter
    with the lowest cost — distance × (REFERENCE_CAPACITY / capacity) ** CAPACITY_PULL, so a
    school draws people from further than a small hall — that still has room within walking
    range, else to the nearest open shelter with room anywhere, else (the city is full) to the
    nearest one. Each app user stands for ``scale`` people, as in the head counts.

    >>> xy = np.array([[0.0, 0.0], [400.0, 0.0], [5000.0, 0.0]])
    >>> allocator = ShelterAllocator(xy, np.array([20.0, 1000.0, 50.0]), np.array([0, 1, 2]), 10)
    >>> [allocator.place(0.0, 0.0)[0] for _ in range(3)]  # the hall by the door holds two
    [0, 0, 1]
    """

    def __init__(self, xy: np.ndarray, capacity: np.ndarray, open_idx: np.ndarray, scale: float):
        self.xy = xy[open_idx]
        self.index = np.asarray(open_idx)
        cap = np.where(capacity[open_idx] > 0, capacity[open_idx], REFERENCE_CAPACITY)
        self.room = np.floor(cap * FILL_LIMIT / scale).astype(int)  # app users each one takes
        self.taken = np.zeros(len(self.index), dtype=int)
        self.pull = (REFERENCE_CAPACITY / cap) ** CAPACITY_PULL

    def place(self, x: float, y: float) -> tuple[int, float]:
        """(shelter index among all shelters, walking distance in metres) for one evacuee."""
        distance = np.hypot(self.xy[:, 0] - x, self.xy[:, 1] - y)
        free = self.taken < self.room
        near = free & (distance <= WALKING_RANGE_M)
        if near.any():
            k = int(np.argmin(np.where(near, distance * self.pull, np.inf)))
        elif free.any():
            k = int(np.argmin(np.where(free, distance, np.inf)))
        else:
            k = int(np.argmin(distance))
        self.taken[k] += 1
        return int(self.index[k]), float(distance[k])


@dataclasses.dataclass(frozen=True)
class _Residents:
    """What each resident does during the night (arrays by resident index)."""

    responds: np.ndarray  # answers the safety check
    first: np.ndarray  # the minute of a first answer
    outcome: np.ndarray  # one of OUTCOMES or safe_at_home
    hazard_at: np.ndarray  # the minute the hazard reaches the home
    depart: np.ndarray  # the minute an evacuee sets off
    prepare: np.ndarray  # minutes to get ready before walking
    arrives: np.ndarray  # an evacuee reaches the shelter within the night

    def state(self, i: int, duration: int) -> str:
        """Resident ``i``'s answer; safe at home if the hazard has not reached them by the
        demo's end."""
        state = str(self.outcome[i])
        if state in ("needs_rescue", "injured") and self.hazard_at[i] >= duration - 5:
            return "safe_at_home"
        return state

    def answered_at(self, i: int, state: str) -> float:
        """When the hazard reaches a resident who calls for help; else their first answer."""
        if state in ("needs_rescue", "injured"):
            return float(self.hazard_at[i])
        return float(self.first[i])


class _RescueStep(NamedTuple):
    status: str
    minute: float
    from_status: str | None
    reason: str | None
    team: str | None


def rescue_priority(injured: int, on_register: bool, depth: int, people: int) -> str:
    """High for the injured, the register and the deepest water; low for one person in
    shallow water; else medium."""
    if injured or on_register or depth >= 4:
        return "high"
    return "low" if depth <= 2 and people == 1 else "medium"


def _number(rows: list[dict[str, Any]]) -> None:
    """Ids 1, 2, … in the rows' order."""
    for k, row in enumerate(rows, start=1):
        row["id"] = k


class _Builder:
    def __init__(
        self,
        params: DemoParams,
        city,
        geo: CityGeography,
        shelters: list[dict] | None,
        evacuation_rules: list[Any] | None = None,
    ):
        self.p = params
        self.evacuation_rules = evacuation_rules or []
        self.city = city
        self.geo = geo
        self.rng = np.random.default_rng(params.seed)
        self.t0 = _utc(params.start)
        self.end = self.t0 + dt.timedelta(minutes=params.duration_min)
        self.tables: dict[str, list[dict[str, Any]]] = {}
        self.given_shelters = shelters
        self.key_prefix = f"demo:{params.seed}"

    def at(self, minutes: float) -> dt.datetime:
        """The incident clock: minutes after the start, rounded to the second."""
        return self.t0 + dt.timedelta(seconds=round(float(minutes) * 60))

    # ------------------------------------------------------------------ build

    def build(self) -> DemoCity:
        self.incident()
        self.shelters()
        self.hazard_zones()
        self.households_and_citizens()
        self.exposure()
        self.register()
        self.consent()
        self.jma()
        if self.p.evacuation:
            self.tables.update(demo_evacuation.build(self, self.evacuation_rules))
        self.timeline()
        self.notifications()
        self.staff()
        self.tables.update(safety_loop(self))
        self.drill()
        order = (
            "incidents",
            "shelters",
            "hazard_zones",
            "evacuation_areas",
            "river_stations",
            "water_level_observations",
            "evacuation_issuances",
            "households",
            "citizens",
            "support_register",
            "consent_events",
            "jma_telegrams",
            "jma_warnings",
            "shelter_operations",
            "status_reports",
            "location_fixes",
            "rescue_requests",
            "rescue_request_events",
            "shelter_occupancy",
            "notification_requests",
            "notification_events",
            "incident_activity",
            "staff",
            *SAFETY_LOOP_TABLES,
            "drills",
            "drill_events",
        )
        return DemoCity(self.p, {name: self.tables.get(name, []) for name in order})

    # ------------------------------------------------------------------ parts

    def incident(self) -> None:
        self.incident_id = 1
        self.tables["incidents"] = [
            {
                "id": 1,
                "external_id": f"{self.key_prefix}:incident",
                "kind": "real",
                "name_ja": f"【デモ】{self.city.name_ja} 大雨・洪水（阿賀川・湯川）",
                "name_en": f"[DEMO] {self.city.name_en} heavy rain and flood",
                "hazard": "flood",
                "municipality_code": self.city.municipality_code,
                "declared_at": self.t0,
                "ended_at": None,
                "emergency_mode": True,
                "declared_by": "demo-hq",
                "ended_by": None,
                "is_synthetic": True,
                # Generated for a July night: it runs on its own clock (sql/incident_clock.py).
                "own_clock": True,
                "notes": "Synthetic demo incident generated by `bosai demo`.",
            }
        ]
        self.activity: list[dict[str, Any]] = []
        self.log(0, "demo-hq", "incident_declared", "incident", 1, {"emergency_mode": True})

    def log(
        self,
        minutes: float,
        actor: str,
        action: str,
        target_type: str | None,
        target_id: Any,
        details: dict | None = None,
    ) -> None:
        self.activity.append(
            {
                "incident_id": self.incident_id,
                "at": self.at(minutes),
                "actor": actor,
                "action": action,
                "target_type": target_type,
                "target_id": None if target_id is None else str(target_id),
                "details": details,
            }
        )

    def shelters(self) -> None:
        rng = self.rng
        plane = self.geo.plane
        if self.given_shelters is not None:
            rows = self.given_shelters
        else:
            rows = []
            clusters = self.geo.clusters
            weights = np.array([c["weight"] for c in clusters], dtype=float)
            counts = np.maximum(1, np.round(weights / weights.sum() * self.p.shelters)).astype(int)
            patterns = self.geo.data["shelter_patterns"]
            seen: set[str] = set()
            sid = 0
            for cluster, count in zip(clusters, counts, strict=True):
                cx, cy = plane.to_xy(cluster["lat"], cluster["lon"])
                for k in range(int(count)):
                    sid += 1
                    pattern = (
                        patterns[k % len(patterns)] if k < len(patterns) else patterns[3 + k % 3]
                    )
                    town = cluster["towns"][k % len(cluster["towns"])]
                    name = pattern.format(
                        district=cluster["district"], town=town, n=k // len(patterns) + 1
                    )
                    if name in seen:
                        name = f"{town}第{k + 1}避難所"
                    seen.add(name)
                    x = cx + rng.normal(0, cluster["sd_km"] * 1000 * 0.9)
                    y = cy + rng.normal(0, cluster["sd_km"] * 1000 * 0.9)
                    lat, lon = plane.to_latlon(x, y)
                    school = "学校" in name or "体育館" in name
                    hall = "公民館" in name or "センター" in name
                    park = "公園" in name
                    capacity = int(
                        rng.integers(400, 1200)
                        if school
                        else rng.integers(80, 300)
                        if hall
                        else rng.integers(500, 3000)
                        if park
                        else rng.integers(30, 100)
                    )
                    flags = rng.random(8) < np.array([0.72, 0.8, 0.1, 0.95, 0.05, 0.7, 0.7, 0.2])
                    rows.append(
                        {
                            "id": sid,
                            "local_id": f"{self.key_prefix}:shelter:{sid}",
                            "municipality_code": self.city.municipality_code,
                            "name": name,
                            "kana": None,
                            "address": f"{self.geo.data['address_prefix']}{town}{int(rng.integers(1, 30))}-{int(rng.integers(1, 20))}",
                            "district": cluster["district"],
                            "lat": round(float(lat), 6),
                            "lon": round(float(lon), 6),
                            "elevation_m": None,
                            "capacity": capacity,
                            "capacity_text": f"屋内{capacity}人"
                            if not park
                            else f"屋外{capacity}人",
                            **{
                                f"hazard_{kind}": bool(flag)
                                for kind, flag in zip(HAZARD_KINDS, flags, strict=True)
                            },
                            "is_emergency_site": True,
                            "is_designated_shelter": not park,
                            "is_welfare_shelter": hall and rng.random() < 0.25,
                            "target_groups": "高齢者、障害者等"
                            if hall and rng.random() < 0.25
                            else None,
                            "barrier_free": bool(rng.random() < 0.6) if not park else None,
                            "pets_allowed": bool(rng.random() < 0.3) if not park else None,
                            "phone": None,
                            "notes": None,
                            "source": "demo",
                            "is_synthetic": True,
                            "created_at": self.t0 - dt.timedelta(days=400),
                            "updated_at": self.t0 - dt.timedelta(days=400),
                        }
                    )
            lat = np.array([r["lat"] for r in rows])
            lon = np.array([r["lon"] for r in rows])
            x, y = plane.to_xy(lat, lon)
            elev = self.geo.elevation_m(x, y)
            for r, e in zip(rows, elev, strict=True):
                r["elevation_m"] = round(float(e), 1)
            self.tables["shelters"] = rows
        self.shelter_rows = rows
        lat = np.array([r["lat"] for r in rows])
        lon = np.array([r["lon"] for r in rows])
        self.shelter_xy = np.column_stack(self.geo.plane.to_xy(lat, lon))
        self.shelter_ids = np.array([r["id"] for r in rows])

    def hazard_zones(self) -> None:
        plane = self.geo.plane
        rows = []
        self.flood_bands = self.geo.flood_bands
        for band in self.flood_bands:
            geom = plane.geometry_to_lonlat(band.geometry_xy)
            rows.append(
                self._zone_row(
                    f"{self.key_prefix}:flood:{band.rank}",
                    "flood",
                    band.rank,
                    band.label,
                    band.depth_min_m,
                    band.depth_max_m,
                    None,
                    f"洪水浸水想定区域（{band.river}）",
                    geom,
                )
            )
        # Landslide zones: small irregular polygons inside the hills.
        rng = self.rng
        hills = self.geo.hills_xy
        minx, miny, maxx, maxy = hills.bounds
        self.landslide_xy = []
        n = int(self.geo.data["hills"].get("landslide_zones", 30))
        made = 0
        while made < n:
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if not hills.contains(shapely.Point(x, y)):
                continue
            made += 1
            radius = rng.uniform(80, 260)
            angles = np.sort(rng.uniform(0, 2 * np.pi, 7))
            radii = radius * rng.uniform(0.6, 1.0, 7)
            poly = shapely.Polygon(
                np.column_stack([x + radii * np.cos(angles), y + radii * np.sin(angles)])
            )
            phenomenon = ("急傾斜地の崩壊", "土石流", "地滑り")[int(rng.integers(0, 3))]
            zone_code = "2" if rng.random() < 0.35 else "1"
            self.landslide_xy.append(poly)
            rows.append(
                self._zone_row(
                    f"{self.key_prefix}:landslide:{made}",
                    "landslide",
                    zone_code,
                    "土砂災害特別警戒区域" if zone_code == "2" else "土砂災害警戒区域",
                    None,
                    None,
                    phenomenon,
                    f"土砂災害警戒区域 第{made}号",
                    plane.geometry_to_lonlat(poly),
                )
            )
        for i, r in enumerate(rows, start=1):
            r["id"] = i
        self.tables["hazard_zones"] = rows

    def _zone_row(
        self, key, kind, rank, label, dmin, dmax, phenomenon, name, geom
    ) -> dict[str, Any]:
        minx, miny, maxx, maxy = geom.bounds
        return {
            "source_key": key,
            "kind": kind,
            "rank_code": rank,
            "rank_label": label,
            "depth_min_m": dmin,
            "depth_max_m": dmax,
            "phenomenon": phenomenon,
            "source_dataset": "demo",
            "name": name,
            "attributes": None,
            "geom_wkb": shapely.to_wkb(geom, rounding_precision=6)
            if False
            else shapely.to_wkb(geom),
            "min_lon": round(minx, 6),
            "min_lat": round(miny, 6),
            "max_lon": round(maxx, 6),
            "max_lat": round(maxy, 6),
            "is_synthetic": True,
            "imported_at": self.t0 - dt.timedelta(days=400),
        }

    def households_and_citizens(self) -> None:
        rng = self.rng
        n = self.p.citizens
        plane = self.geo.plane
        clusters = self.geo.clusters
        weights = np.array([c["weight"] for c in clusters], dtype=float)
        weights /= weights.sum()
        # Draw household sizes until the population is reached (the last one is truncated).
        sizes = rng.choice(HOUSEHOLD_SIZES, size=n, p=HOUSEHOLD_P)
        cum = np.cumsum(sizes)
        n_households = int(np.searchsorted(cum, n) + 1)
        sizes = sizes[:n_households].copy()
        sizes[-1] -= int(cum[n_households - 1] - n)
        cluster_idx = rng.choice(len(clusters), size=n_households, p=weights)
        cx = np.array([plane.to_xy(c["lat"], c["lon"])[0] for c in clusters])[cluster_idx]
        cy = np.array([plane.to_xy(c["lat"], c["lon"])[1] for c in clusters])[cluster_idx]
        sd = np.array([c["sd_km"] for c in clusters])[cluster_idx] * 1000
        hx = cx + rng.normal(0, 1, n_households) * sd
        hy = cy + rng.normal(0, 1, n_households) * sd
        hlat, hlon = plane.to_latlon(hx, hy)
        b = self.city
        hlat = np.clip(hlat, b.bbox_south + 0.01, b.bbox_north - 0.01)
        hlon = np.clip(hlon, b.bbox_west + 0.01, b.bbox_east - 0.01)
        hx, hy = plane.to_xy(hlat, hlon)
        families = names.family_names(rng, n_households)
        chome = rng.integers(1, 6, n_households)
        banchi = rng.integers(1, 40, n_households)
        go = rng.integers(1, 25, n_households)
        prefix = self.geo.data["address_prefix"]
        created = self.t0 - dt.timedelta(days=420)
        households = []
        self.h_district = []
        for i in range(n_households):
            cl = clusters[cluster_idx[i]]
            town = cl["towns"][int(banchi[i]) % len(cl["towns"])]
            households.append(
                {
                    "id": i + 1,
                    "external_id": f"{self.key_prefix}:household:{i + 1}",
                    "address": f"{prefix}{town}{chome[i]}丁目{banchi[i]}-{go[i]}",
                    "district": cl["district"],
                    "lat": round(float(hlat[i]), 6),
                    "lon": round(float(hlon[i]), 6),
                    "is_synthetic": True,
                    "created_at": created,
                }
            )
        self.tables["households"] = households
        # Citizens.
        household_of = np.repeat(np.arange(n_households), sizes)
        first_member = np.r_[True, household_of[1:] != household_of[:-1]]
        band = rng.choice(len(AGE_BANDS), size=n, p=[a[2] for a in AGE_BANDS])
        lo = np.array([a[0] for a in AGE_BANDS])[band]
        hi = np.array([a[1] for a in AGE_BANDS])[band]
        age = rng.integers(lo, hi + 1)
        age = np.where(first_member & (age < 20), rng.integers(25, 80, n), age)
        sex = np.where(rng.random(n) < 0.52, "female", "male")
        given = names.given_names(rng, sex)
        day_offset = rng.integers(0, 365, n)
        ref = self.p.start.date()
        phone_suffix = rng.permutation(n) % 10000
        citizens = []
        for i in range(n):
            h = int(household_of[i])
            fam, fam_kana = families[h]
            g, g_kana = given[i]
            birth = dt.date(ref.year - int(age[i]) - 1, 1, 1) + dt.timedelta(
                days=int(day_offset[i])
            )
            has_phone = age[i] >= 12
            citizens.append(
                {
                    "id": i + 1,
                    "subject": f"demo-{self.p.seed}-{i + 1:07d}",
                    "household_id": h + 1,
                    "name": f"{fam} {g}",
                    "kana": f"{fam_kana} {g_kana}",
                    "sex": str(sex[i]),
                    "birth_date": birth,
                    "address": households[h]["address"],
                    "district": households[h]["district"],
                    "home_lat": households[h]["lat"],
                    "home_lon": households[h]["lon"],
                    "phone": f"{self.geo.data['phone_prefix']}-{int(phone_suffix[i]):04d}"
                    if has_phone
                    else None,
                    "is_synthetic": True,
                    "created_at": created,
                    "updated_at": created,
                    "synced_at": None,
                }
            )
        self.tables["citizens"] = citizens
        self.n = n
        self.age = age
        self.household_of = household_of
        self.household_sizes = sizes
        self.cx = hx[household_of]
        self.cy = hy[household_of]

    def exposure(self) -> None:
        """Flood depth rank (0 = none) and landslide exposure of each citizen's home."""
        rank = np.zeros(self.n, dtype=int)
        for band in self.flood_bands:
            inside = shapely.contains_xy(band.geometry_xy, self.cx, self.cy)
            rank = np.where(inside & (rank == 0), int(band.rank), rank)
        self.flood_rank = rank
        tree = STRtree(self.landslide_xy)
        pts = shapely.points(self.cx, self.cy)
        idx = tree.query(pts, predicate="within")
        landslide = np.zeros(self.n, dtype=bool)
        landslide[idx[0]] = True
        self.landslide = landslide
        # Which shelters are suitable in a flood: flood flag and not in a flood band.
        in_band = np.zeros(len(self.shelter_rows), dtype=bool)
        for band in self.flood_bands:
            in_band |= shapely.contains_xy(
                band.geometry_xy, self.shelter_xy[:, 0], self.shelter_xy[:, 1]
            )
        self.shelter_suitable = (
            np.array(
                [
                    bool(r.get("hazard_flood")) and bool(r.get("is_designated_shelter"))
                    for r in self.shelter_rows
                ]
            )
            & ~in_band
        )

    def register(self) -> None:
        rng = self.rng
        p = np.where(self.age >= 75, 0.17, np.where(self.age >= 65, 0.045, 0.012))
        on = rng.random(self.n) < p
        self.on_register = on
        rows = []
        consent = rng.random(self.n) < 0.62
        self.register_consent = consent
        needs = rng.integers(0, len(REGISTER_NEEDS), self.n)
        care = rng.integers(0, len(CARE_LEVELS), self.n)
        fam = names.family_names(rng, self.n)
        rel = rng.integers(0, 4, self.n)
        for i in np.flatnonzero(on):
            rows.append(
                {
                    "id": len(rows) + 1,
                    "citizen_id": int(i) + 1,
                    "needs": REGISTER_NEEDS[needs[i]],
                    "care_level": CARE_LEVELS[care[i]],
                    "supporter_name": f"{fam[i][0]} {('一郎', '恵子', '誠', '和子')[rel[i]]}",
                    "supporter_phone": f"{self.geo.data['phone_prefix']}-9{int(i) % 1000:03d}",
                    "supporter_relation": ("近隣住民", "民生委員", "親族", "町内会")[rel[i]],
                    "normal_time_consent": bool(consent[i]),
                    "consent_recorded_at": self.t0 - dt.timedelta(days=200) if consent[i] else None,
                    "is_synthetic": True,
                    "updated_at": self.t0 - dt.timedelta(days=200),
                }
            )
        self.tables["support_register"] = rows

    def consent(self) -> None:
        rng = self.rng
        n = self.n
        age = self.age
        opt_in_days = rng.uniform(30, 420, n)
        events: list[dict[str, Any]] = []
        self.location_windows: dict[int, list[tuple[dt.datetime, dt.datetime | None]]] = {}

        def add(i: int, item: str, target: str, kind: str, when: dt.datetime, expires=None) -> None:
            events.append(
                {
                    "citizen_id": i + 1,
                    "data_item": item,
                    "share_target": target,
                    "purpose": "disaster_response",
                    "notice_version": "2022.1",
                    "event_type": kind,
                    "occurred_at": when,
                    "expires_at": expires,
                    "collection_method": "demo",
                    "source_ref": f"{self.key_prefix}:consent:{len(events) + 1}",
                    "recorded_at": when,
                }
            )

        p_location = np.where(age < 40, 0.88, np.where(age < 65, 0.78, 0.62))
        r = rng.random((n, 12))
        self.safety_consent = r[:, 1] < 0.95
        self.location_consent_ever = r[:, 0] < p_location
        for i in range(n):
            t_opt = self.t0 - dt.timedelta(days=float(opt_in_days[i]))
            t_opt = t_opt.replace(microsecond=0)
            add(i, "basic_info", "city_hq", "given", t_opt)
            if self.safety_consent[i]:
                add(i, "safety_status", "city_hq", "given", t_opt)
            if self.location_consent_ever[i]:
                if r[i, 2] < 0.08:  # consent for one year only
                    expires = t_opt + dt.timedelta(days=365)
                    add(i, "location", "city_hq", "given", t_opt, expires)
                    if expires < self.t0:
                        add(i, "location", "city_hq", "expired", expires)
                        self.location_windows[i] = [(t_opt, expires)]
                    else:
                        self.location_windows[i] = [(t_opt, expires)]
                elif r[i, 3] < 0.02:  # withdrew before the incident; some gave it again
                    withdrawn = t_opt + dt.timedelta(days=float(r[i, 4] * (opt_in_days[i] - 1)))
                    withdrawn = withdrawn.replace(microsecond=0)
                    add(i, "location", "city_hq", "given", t_opt)
                    add(i, "location", "city_hq", "withdrawn", withdrawn)
                    windows: list[tuple[dt.datetime, dt.datetime | None]] = [(t_opt, withdrawn)]
                    if r[i, 5] < 0.3:
                        again = withdrawn + dt.timedelta(days=1)
                        if again < self.t0:
                            add(i, "location", "city_hq", "given", again)
                            windows.append((again, None))
                    self.location_windows[i] = windows
                elif r[i, 3] < 0.035:  # withdraws during the incident
                    add(i, "location", "city_hq", "given", t_opt)
                    withdrawn = self.at(float(r[i, 4]) * self.p.duration_min)
                    add(i, "location", "city_hq", "withdrawn", withdrawn)
                    self.location_windows[i] = [(t_opt, withdrawn)]
                else:
                    add(i, "location", "city_hq", "given", t_opt)
                    self.location_windows[i] = [(t_opt, None)]
            if self.household_sizes[self.household_of[i]] > 1 and r[i, 6] < 0.8:
                add(i, "household_link", "city_hq", "given", t_opt)
            if self.on_register[i] and self.register_consent[i]:
                add(i, "support_register", "city_hq", "given", t_opt)
            if r[i, 7] < 0.3:
                add(i, "profile_image", "city_hq", "given", t_opt)
            # Share targets for the safety status (friends etc. wanted by some only).
            if r[i, 8] < 0.92:
                add(i, "safety_status", "family", "given", t_opt)
            if r[i, 9] < 0.35:
                add(i, "safety_status", "friends", "given", t_opt)
            if 20 <= age[i] < 65 and r[i, 10] < 0.3:
                add(i, "safety_status", "workplace", "given", t_opt)
            if r[i, 11] < (0.55 if age[i] >= 65 else 0.3):
                add(i, "safety_status", "neighbourhood", "given", t_opt)
            if age[i] >= 65 and r[i, 11] < 0.45:
                add(i, "safety_status", "medical_care", "given", t_opt)
        for k, ev in enumerate(events, start=1):
            ev["id"] = k
        self.tables["consent_events"] = events

    def location_allowed(self, i: int, when: dt.datetime) -> bool:
        for start, stop in self.location_windows.get(i, ()):
            if start <= when and (stop is None or when < stop):
                return True
        return False

    def jma(self) -> None:
        area = self.city.jma_municipality_code
        telegrams = []
        warnings = []
        steps = (
            (
                -120,
                "大雨注意報、洪水注意報を発表します。",
                [("10", "大雨注意報", "発表"), ("18", "洪水注意報", "発表")],
            ),
            (
                -30,
                "大雨警報を発表します。土砂災害や低い土地の浸水に警戒してください。",
                [("03", "大雨警報", "注意報から警報"), ("18", "洪水注意報", "継続")],
            ),
            (
                40,
                "洪水警報を発表します。河川の増水や氾濫に警戒してください。",
                [("03", "大雨警報", "継続"), ("04", "洪水警報", "注意報から警報")],
            ),
        )
        for n, (minutes, headline, kinds) in enumerate(steps, start=1):
            when = self.at(minutes)
            key = f"{self.key_prefix}:jma:{n}"
            telegrams.append(
                {
                    "id": n,
                    "content_sha256": hashlib.sha256(key.encode()).hexdigest(),
                    "info_kind": "気象警報・注意報",
                    "info_type": "発表",
                    "event_id": None,
                    "serial": None,
                    "title": f"{self.city.name_ja}の気象警報・注意報（デモ）",
                    "office": "デモ気象台",
                    "report_time": when,
                    "headline": headline,
                    "file_name": None,
                    "is_synthetic": True,
                    "received_at": when,
                }
            )
            for code, name, status in kinds:
                warnings.append(
                    {
                        "id": len(warnings) + 1,
                        "telegram_id": n,
                        "area_code": area,
                        "area_name": self.city.name_ja,
                        "area_level": "municipality",
                        "kind_code": code,
                        "kind_name": name,
                        "status": status,
                        "report_time": when,
                    }
                )
        self.tables["jma_telegrams"] = telegrams
        self.tables["jma_warnings"] = warnings

    def hazard_arrival(self, rng: np.random.Generator) -> np.ndarray:
        """The minute the hazard reaches each home: flood water as the river rises (deepest
        ranks first, then a delay), a slope failure during the heavy rain in the hills, any
        other emergency (illness, a fall, water from drains) at any time."""
        duration = self.p.duration_min
        flood = np.array(
            [river_stage_minute(FLOOD_STAGE.get(int(k), 0.5)) for k in self.flood_rank]
        )
        flood = flood + rng.exponential(12, self.n) + rng.normal(0, 8, self.n)
        slopes = rng.uniform(*RAIN_ON_SLOPES_MIN, self.n)
        anytime = rng.uniform(10, duration, self.n)
        minute = np.where(self.flood_rank > 0, flood, np.where(self.landslide, slopes, anytime))
        return np.maximum(minute, 5.0)

    def timeline(self) -> None:
        """The night as the app records it: shelters open, residents answer the safety check
        (some call for rescue, some set off for a shelter and are given a place), and the open
        shelters count heads every 15 minutes."""
        open_idx, open_time = self.open_shelters()
        scale = self.head_count_scale()
        allocator = ShelterAllocator(self.shelter_xy, self.shelter_capacity(), open_idx, scale)
        residents = self.resident_choices()
        self.start_timeline_tables()
        seekers = self.answer_safety_check(residents)
        self.give_shelter_places(seekers, residents, allocator, open_time)
        self.number_timeline_rows()
        self.responds = residents.responds
        self.tables["shelter_occupancy"] = self.occupancy(open_idx, open_time, scale)

    def open_shelters(self) -> tuple[np.ndarray, dict[int, float]]:
        """Shelters open 20–40 minutes after the declaration (their operations, logged): the
        indices of the open shelters and the minute each opened."""
        open_idx = self.shelters_to_open()
        opened_min = self.rng.uniform(20, 40, len(open_idx))
        self.tables["shelter_operations"] = [
            self.shelter_operation(k, int(self.shelter_ids[si]), om)
            for k, (si, om) in enumerate(zip(open_idx, opened_min, strict=True), start=1)
        ]
        return open_idx, dict(zip(open_idx.tolist(), opened_min.tolist(), strict=True))

    def shelters_to_open(self) -> np.ndarray:
        """Every suitable designated shelter; for a file without flood-suitable shelters the
        designated ones; failing those, every shelter."""
        open_idx = np.flatnonzero(self.shelter_suitable)
        if len(open_idx) == 0:
            open_idx = np.flatnonzero(
                [bool(r.get("is_designated_shelter")) for r in self.shelter_rows]
            )
        if len(open_idx) == 0:
            open_idx = np.arange(len(self.shelter_rows))
        return open_idx

    def shelter_operation(self, k: int, sid: int, minute: float) -> dict[str, Any]:
        """Shelter ``sid`` opened by HQ at ``minute`` (its operation row ``k``, logged)."""
        self.log(minute, "demo-hq", "shelter_opened", "shelter", sid)
        return {
            "id": k,
            "shelter_id": sid,
            "incident_id": self.incident_id,
            "opened_at": self.at(minute),
            "closed_at": None,
            "opened_by": "demo-hq",
            "closed_by": None,
            "reason": "大雨警報に伴う開設",
        }

    def head_count_scale(self) -> float:
        """How many people each app user stands for: the population over the app users."""
        return max(float(self.geo.data.get("population", self.n)) / max(self.n, 1), 1.0)

    def shelter_capacity(self) -> np.ndarray:
        return np.array([float(r.get("capacity") or 0) for r in self.shelter_rows])

    def resident_choices(self) -> _Residents:
        """Who answers the safety check and when, what they answer, when the hazard reaches
        their home, when evacuees set off and whether they arrive (drawn in this order)."""
        rng, n = self.rng, self.n
        responds = (rng.random(n) < self.response_rate()) & self.safety_consent
        # Safety answers follow the first push (10 min) and keep coming as the news spreads.
        first = np.minimum(5 + rng.exponential(35, n), self.p.duration_min - 5)
        outcome = self.outcomes(rng.random(n))
        hazard_at = self.hazard_arrival(rng)
        depart = self.departure(first)
        prepare = rng.uniform(5, 20, n)  # minutes to get ready before walking
        arrives = rng.random(n) < 0.85
        return _Residents(responds, first, outcome, hazard_at, depart, prepare, arrives)

    def response_rate(self) -> np.ndarray:
        """The chance each resident answers: lower for the oldest and for the register."""
        p_respond = np.where(self.age >= 75, 0.62, 0.82)
        return np.where(self.on_register, 0.5, p_respond)

    def outcomes(self, u: np.ndarray) -> np.ndarray:
        """Each resident's answer, from a uniform draw ``u`` against the thresholds of their
        home's flood depth rank (:data:`OUTCOME_THRESHOLDS`; landslide zones their own)."""
        rank = self.flood_rank
        thresholds = np.array([OUTCOME_THRESHOLDS.get(int(k), OUTCOME_THRESHOLDS[0]) for k in rank])
        thresholds = np.where(
            self.landslide[:, None] & (rank[:, None] == 0),
            np.array(LANDSLIDE_THRESHOLDS),
            thresholds,
        )
        return np.select(
            [u < thresholds[:, k] for k in range(len(OUTCOMES))], list(OUTCOMES), "safe_at_home"
        )

    def departure(self, first: np.ndarray) -> np.ndarray:
        """The minute each evacuee sets off: who lives in a hazard zone mostly leaves after the
        evacuation order (避難指示, the push at 45 min); some leave on the first warning,
        everyone else when they answer (``first``)."""
        rng, n = self.rng, self.n
        in_zone = (self.flood_rank > 0) | self.landslide
        after_order = in_zone & (rng.random(n) < 0.6)
        depart = np.where(after_order, EVACUATION_ORDER_MIN + rng.exponential(15, n), first)
        return np.minimum(depart, self.p.duration_min - 5)

    def start_timeline_tables(self) -> None:
        for table in TIMELINE_TABLES:
            self.tables[table] = []
        self.arrivals: list[tuple[int, float, int]] = []  # (shelter index, minute, citizen)
        self.rescue_teams = itertools.cycle(RESCUE_TEAMS)

    def answer_safety_check(self, residents: _Residents) -> list[tuple[float, int, bool]]:
        """Each resident who answers reports their state — or calls for rescue when the
        hazard reaches them. Who needs a shelter place: (ready minute, citizen, rescued)."""
        duration = self.p.duration_min
        seekers: list[tuple[float, int, bool]] = []
        for i in np.flatnonzero(residents.responds):
            i = int(i)
            state = residents.state(i, duration)
            minute = residents.answered_at(i, state)
            if state == "evacuating":
                seekers.append((float(residents.depart[i]), i, False))
            elif state == "needs_rescue" or (state == "injured" and self.rng.random() < 0.4):
                status, last = self.rescue_request(i, minute, state)
                if status == "resolved" and last + 1 < duration:
                    seekers.append((last + 1, i, True))  # carried to a shelter by the team
            elif state == "injured":
                self.status_report(i, minute, "injured", message="軽いけが")
            else:
                self.status_report(i, minute, state)
        return seekers

    def give_shelter_places(
        self,
        seekers: list[tuple[float, int, bool]],
        residents: _Residents,
        allocator: ShelterAllocator,
        open_time: dict[int, float],
    ) -> None:
        """Places are given in the order people set off: the nearest shelter with room, a
        larger one drawing from further away, overflow to the next (ShelterAllocator)."""
        for ready, i, rescued in sorted(seekers):
            si, distance_m = allocator.place(self.cx[i], self.cy[i])
            if rescued:
                self.arrive(i, ready, si, source="staff")
                continue
            self.status_report(i, ready, "evacuating", si)
            walked = ready + residents.prepare[i] + distance_m / WALKING_M_PER_MIN
            arrival = max(walked, open_time[si] + 1)
            if residents.arrives[i] and arrival < self.p.duration_min:
                self.arrive(i, arrival, si)

    def arrive(self, i: int, minute: float, shelter_idx: int, source: str = "app") -> None:
        self.status_report(i, minute, "at_shelter", shelter_idx, source=source)
        self.arrivals.append((shelter_idx, minute, i))

    def status_report(
        self,
        i: int,
        minute: float,
        state: str,
        shelter_idx: int | None = None,
        message: str | None = None,
        source: str = "app",
    ) -> None:
        """Citizen ``i`` reports ``state`` at ``minute`` — with a location fix while their
        location consent is in force."""
        when = self.at(minute)
        reports = self.tables["status_reports"]
        reports.append(
            {
                "idempotency_key": f"{self.key_prefix}:sr:{len(reports) + 1}",
                "citizen_id": i + 1,
                "incident_id": self.incident_id,
                "state": state,
                "shelter_id": None if shelter_idx is None else int(self.shelter_ids[shelter_idx]),
                "message": message,
                "source": source,
                "reported_at": when,
                "received_at": when,
            }
        )
        if self.location_allowed(i, when):
            self.location_fix(i, when, *self.reported_position(i, state, shelter_idx))

    def reported_position(self, i: int, state: str, shelter_idx: int | None) -> tuple[float, float]:
        """Half-way to the shelter while evacuating, at the shelter, else at home."""
        if state == "evacuating" and shelter_idx is not None:
            x = (self.cx[i] + self.shelter_xy[shelter_idx, 0]) / 2
            y = (self.cy[i] + self.shelter_xy[shelter_idx, 1]) / 2
            return x, y
        if shelter_idx is not None:
            x, y = self.shelter_xy[shelter_idx]
            return x, y
        return self.cx[i], self.cy[i]

    def location_fix(self, i: int, when: dt.datetime, x: float, y: float) -> None:
        """The app's location fix near (x, y), a few metres off."""
        rng = self.rng
        lat, lon = self.geo.plane.to_latlon(x + rng.normal(0, 8), y + rng.normal(0, 8))
        fixes = self.tables["location_fixes"]
        fixes.append(
            {
                "idempotency_key": f"{self.key_prefix}:fix:{len(fixes) + 1}",
                "citizen_id": i + 1,
                "incident_id": self.incident_id,
                "lat": round(float(lat), 6),
                "lon": round(float(lon), 6),
                "accuracy_m": round(float(rng.uniform(5, 30)), 1),
                "source": "app",
                "fixed_at": when,
                "received_at": when,
            }
        )

    def rescue_request(self, i: int, minute: float, state: str) -> tuple[str, float]:
        """Citizen ``i`` calls for rescue (``state`` needs_rescue or injured) at ``minute``:
        the status report, the request as HQ works it, its events, the activity log. The
        request's last status and the minute it reached it."""
        rng = self.rng
        message = RESCUE_MESSAGES[int(rng.integers(0, len(RESCUE_MESSAGES)))]
        self.status_report(i, minute, state, message=message)
        injured = 1 if state == "injured" else int(rng.random() < 0.15)
        people = self.rescue_party(i)
        rid = len(self.tables["rescue_requests"]) + 1
        lat, lon = self.geo.plane.to_latlon(
            self.cx[i] + rng.normal(0, 5), self.cy[i] + rng.normal(0, 5)
        )
        history = self.rescue_history(minute)
        last = history[-1]
        self.tables["rescue_requests"].append(
            {
                "id": rid,
                "idempotency_key": f"{self.key_prefix}:rescue:{rid}",
                "incident_id": self.incident_id,
                "citizen_id": i + 1,
                "lat": round(float(lat), 6),
                "lon": round(float(lon), 6),
                "people_count": people,
                "injured_count": injured,
                "needs": message,
                "priority": rescue_priority(
                    injured, bool(self.on_register[i]), int(self.flood_rank[i]), people
                ),
                "status": last.status,
                "assigned_team": last.team,
                "source": "app",
                "requested_at": self.at(minute),
                "updated_at": self.at(last.minute),
                "version": len(history),
            }
        )
        self.record_rescue_history(rid, history)
        return last.status, last.minute

    def rescue_party(self, i: int) -> int:
        """The people to rescue with citizen ``i``: some of their household."""
        household = int(self.household_sizes[self.household_of[i]])
        return 1 + min(int(self.rng.poisson(0.7)), household - 1)

    def rescue_history(self, minute: float) -> list[_RescueStep]:
        """A request made at ``minute`` as HQ works it (:data:`RESCUE_STEPS`), until a step
        does not happen or would come after the demo's end; teams are assigned in turn."""
        history = [_RescueStep("new", minute, None, None, None)]
        for status, soonest, latest, chance in RESCUE_STEPS:
            last = history[-1]
            reached = last.minute + self.rng.uniform(soonest, latest)
            if reached >= self.p.duration_min or self.rng.random() > chance:
                break
            team = next(self.rescue_teams) if status == "assigned" else last.team
            reason = RESCUE_REASONS[status].format(team=team)
            history.append(_RescueStep(status, reached, last.status, reason, team))
        return history

    def record_rescue_history(self, rid: int, history: list[_RescueStep]) -> None:
        """Request ``rid``'s events; HQ's steps in the activity log."""
        for step in history:
            self.tables["rescue_request_events"].append(
                {
                    "request_id": rid,
                    "from_status": step.from_status,
                    "to_status": step.status,
                    "reason": step.reason,
                    "assigned_team": step.team,
                    "actor": "citizen" if step.status == "new" else "demo-hq",
                    "at": self.at(step.minute),
                }
            )
            if step.status != "new":
                self.log(
                    step.minute,
                    "demo-hq",
                    f"rescue_{step.status}",
                    "rescue_request",
                    rid,
                    {"reason": step.reason},
                )

    def number_timeline_rows(self) -> None:
        """Ids: rescue events in the order written; reports and fixes sorted by time, like a
        live feed."""
        _number(self.tables["rescue_request_events"])
        self.tables["status_reports"].sort(key=lambda r: (r["reported_at"], r["idempotency_key"]))
        _number(self.tables["status_reports"])
        self.tables["location_fixes"].sort(key=lambda r: (r["fixed_at"], r["idempotency_key"]))
        _number(self.tables["location_fixes"])

    def occupancy(
        self, open_idx: np.ndarray, open_time: dict[int, float], scale: float
    ) -> list[dict[str, Any]]:
        """Occupancy every 15 minutes: app users at the shelter scaled to the whole
        population (±3 %)."""
        by_shelter: dict[int, list[float]] = {}
        for si, minute, _ in self.arrivals:
            by_shelter.setdefault(si, []).append(minute)
        occupancy: list[dict[str, Any]] = []
        for si in open_idx.tolist():
            times = np.sort(np.array(by_shelter.get(si, []), dtype=float))
            for minute in range(30, self.p.duration_min + 1, 15):
                if minute < open_time[si]:
                    continue
                present = int(np.searchsorted(times, minute, side="right"))
                count = int(round(present * scale * self.rng.uniform(0.97, 1.03)))
                occupancy.append(self.head_count(len(occupancy) + 1, si, minute, count))
        return occupancy

    def head_count(self, k: int, si: int, minute: int, count: int) -> dict[str, Any]:
        return {
            "id": k,
            "shelter_id": int(self.shelter_ids[si]),
            "incident_id": self.incident_id,
            "observed_at": self.at(minute),
            "head_count": count,
            "source": "demo",
            "entered_by": "demo-shelter",
            "recorded_at": self.at(minute),
        }

    def notifications(self) -> None:
        rng = self.rng
        everyone = np.arange(self.n)
        in_zone = np.flatnonzero(self.flood_rank > 0)
        specs = (
            (
                10,
                "everyone",
                {},
                "大雨警報が発表されています",
                "今後の情報に注意し、早めの避難準備をお願いします。",
                everyone,
            ),
            (
                EVACUATION_ORDER_MIN,
                "hazard_zone",
                {"kind": "flood"},
                "【避難指示】洪水浸水想定区域の皆さま",
                "阿賀川・湯川の水位が上昇しています。直ちに近くの避難所へ避難してください。",
                in_zone,
            ),
        )
        requests = []
        events = []
        for k, (minute, kind, spec, title, body, who) in enumerate(specs, start=1):
            requests.append(
                {
                    "id": k,
                    "idempotency_key": f"{self.key_prefix}:notify:{k}",
                    "incident_id": self.incident_id,
                    "requested_by": "demo-hq",
                    "target_kind": kind,
                    "target_spec": spec,
                    "title": title,
                    "body": body,
                    "recipient_count": int(len(who)),
                    "status": "sent",
                    "cityos_request_id": f"demo-push-{k}",
                    "created_at": self.at(minute - 2),
                    "sent_at": self.at(minute),
                    "error": None,
                }
            )
            self.log(
                minute,
                "demo-hq",
                "notification_sent",
                "notification_request",
                k,
                {"recipients": int(len(who))},
            )
            delivered = who[rng.random(len(who)) < 0.97]
            d_delay = rng.uniform(0.1, 2.0, len(delivered))
            opened_mask = rng.random(len(delivered)) < 0.64
            o_delay = d_delay + rng.exponential(12, len(delivered))
            for c, dd, om, od in zip(
                delivered.tolist(),
                d_delay.tolist(),
                opened_mask.tolist(),
                o_delay.tolist(),
                strict=True,
            ):
                events.append(
                    {
                        "request_id": k,
                        "citizen_id": c + 1,
                        "event": "delivered",
                        "at": self.at(minute + dd),
                    }
                )
                if om and minute + od < self.p.duration_min:
                    events.append(
                        {
                            "request_id": k,
                            "citizen_id": c + 1,
                            "event": "opened",
                            "at": self.at(minute + od),
                        }
                    )
        for k, ev in enumerate(events, start=1):
            ev["id"] = k
        self.tables["notification_requests"] = requests
        self.tables["notification_events"] = events
        self.activity.sort(key=lambda a: (a["at"], a["action"], a["target_id"] or ""))
        for k, a in enumerate(self.activity, start=1):
            a["id"] = k
        self.tables["incident_activity"] = self.activity

    def staff(self) -> None:
        created = self.t0 - dt.timedelta(days=30)
        open_shelters = [op["shelter_id"] for op in self.tables["shelter_operations"][:3]]
        people = (
            ("demo-hq", "本部 花子（デモ）", "hq", None, None),
            ("demo-rescue", "消防 一郎（デモ）", "rescue", None, "消防1隊"),
            ("demo-shelter", "避難所 和子（デモ）", "shelter_staff", open_shelters, None),
            ("demo-researcher", "研究 誠（デモ）", "researcher", None, None),
            ("demo-council", "議会 恵子（デモ）", "council", None, None),
            ("demo-admin", "管理 太郎（デモ）", "admin", None, None),
        )
        self.tables["staff"] = [
            {
                "id": k,
                "subject": s,
                "name": nm,
                "role": role,
                "shelter_ids": sh,
                "team": team,
                "active": True,
                "created_at": created,
                "updated_at": created,
            }
            for k, (s, nm, role, sh, team) in enumerate(people, start=1)
        ]

    def drill(self) -> None:
        """A small drill four months before the incident (research workbench data)."""
        rng = self.rng
        start = self.t0 - dt.timedelta(days=121)
        participants = rng.choice(self.n, size=min(240, self.n), replace=False)
        groups = np.where(self.age[participants] >= 65, "elderly", "resident")
        groups = np.where(rng.random(len(participants)) < 0.15, "staff", groups)
        groups = np.where(rng.random(len(participants)) < 0.12, "visitor", groups)
        self.tables["drills"] = [
            {
                "id": 1,
                "external_id": f"{self.key_prefix}:drill",
                "incident_id": None,
                "name": "【デモ】総合防災訓練（洪水想定）",
                "scenario": "flood",
                "seed": self.p.seed,
                "speed": 1.0,
                "started_at": start,
                "ended_at": start + dt.timedelta(minutes=90),
                "is_synthetic": True,
                "notes": "Synthetic drill generated by `bosai demo`.",
            }
        ]
        events = []
        chain = (
            "notification_sent",
            "notification_opened",
            "safety_answered",
            "evacuation_started",
            "arrived",
        )
        for c, group in zip(participants.tolist(), groups.tolist(), strict=True):
            minute = 0.0
            slow = 1.6 if group == "elderly" else 1.0
            for step, kind in enumerate(chain):
                if step > 0:
                    if rng.random() > (0.93, 0.88, 0.8, 0.85)[step - 1]:
                        break
                    minute += float(rng.exponential((2.0, 4.0, 6.0, 12.0)[step - 1] * slow))
                if minute > 90:
                    break
                events.append(
                    {
                        "idempotency_key": f"{self.key_prefix}:drill:{len(events) + 1}",
                        "drill_id": 1,
                        "citizen_id": c + 1,
                        "participant_group": group,
                        "event_type": kind,
                        "at": start + dt.timedelta(seconds=round(minute * 60)),
                        "details": None,
                    }
                )
        for k, ev in enumerate(events, start=1):
            ev["id"] = k
        self.tables["drill_events"] = events


# ------------------------------------------------------------------ the safety loop (issue 18)

#: Tables of the safety loop the demo fills, parents first.
SAFETY_LOOP_TABLES = (
    "evacuation_plans",
    "walk_ins",
    "evacuee_stays",
    "follow_ups",
    "follow_up_events",
    "safety_observations",
)
#: Needs that call for a welfare shelter and the transport each need implies.
WELFARE_NEEDS = frozenset({"寝たきり", "人工透析", "在宅酸素"})
NEED_TRANSPORT = {"車いす使用": "wheelchair", "寝たきり": "stretcher", "歩行困難": "walk_with_help"}
CAR_PARKS = ("鶴ヶ城公園駐車場", "市役所駐車場", "会津総合運動公園駐車場", "道の駅駐車場")


def safety_loop(b: _Builder) -> dict[str, list[dict[str, Any]]]:
    """The demo's safety loop: individual evacuation plans for most register people, shelter
    reception at about half the open shelters (the demo shelter staff's among them) with the
    app users who arrived there, some people without the app and some walk-ins, a few
    check-outs, supporter confirmations, people at home or in cars, and follow-ups.

    Its own random stream (seed + 18), so the rest of the demo is unchanged by it."""
    rng = np.random.default_rng(b.p.seed + 18)
    key = f"{b.key_prefix}:safety"
    ops = b.tables["shelter_operations"]
    open_ids = [int(op["shelter_id"]) for op in ops]
    opened = {int(op["shelter_id"]): op["opened_at"] for op in ops}
    staff_shelters = set(
        next(
            (s["shelter_ids"] or [] for s in b.tables["staff"] if s["role"] == "shelter_staff"), []
        )
    )
    reception = {sid for sid in open_ids if sid in staff_shelters or rng.random() < 0.5}
    index_of = {int(sid): k for k, sid in enumerate(b.shelter_ids.tolist())}
    welfare = [int(r["id"]) for r in b.shelter_rows if r.get("is_welfare_shelter")]
    out: dict[str, list[dict[str, Any]]] = {t: [] for t in SAFETY_LOOP_TABLES}

    # Plans for about 75% of the register: the nearest open shelter (a welfare shelter for
    # the bedridden, dialysis and oxygen), the register's supporter, transport by need.
    xy = b.shelter_xy[[index_of[s] for s in open_ids]] if open_ids else np.empty((0, 2))
    planned: dict[int, int] = {}
    for entry in b.tables["support_register"]:
        if rng.random() > 0.75 or not open_ids:
            continue
        i = entry["citizen_id"] - 1
        needs = entry["needs"]
        if needs in WELFARE_NEEDS and welfare:
            kind, sid = "welfare_shelter", welfare[int(rng.integers(0, len(welfare)))]
        else:
            d = np.hypot(xy[:, 0] - b.cx[i], xy[:, 1] - b.cy[i])
            kind, sid = "shelter", open_ids[int(np.argmin(d))]
        supporters = [
            {
                "name": entry["supporter_name"],
                "phone": entry["supporter_phone"],
                "relation": entry["supporter_relation"],
            }
        ]
        planned[entry["citizen_id"]] = sid
        out["evacuation_plans"].append(
            {
                "id": len(out["evacuation_plans"]) + 1,
                "citizen_id": entry["citizen_id"],
                "destination_kind": kind,
                "destination_shelter_id": sid,
                "destination_note": None,
                "supporters": supporters,
                "transport": NEED_TRANSPORT.get(needs, "car" if rng.random() < 0.4 else "walk"),
                "transport_note": None,
                "notes": None,
                "source": "demo",
                "updated_at": b.t0 - dt.timedelta(days=60),
                "updated_by": "demo-admin",
                "version": 1,
            }
        )

    def stay(citizen, walk_in, sid, place_kind, place, minute, method, by, party):
        row = {
            "id": len(out["evacuee_stays"]) + 1,
            "incident_key": b.incident_id,
            "citizen_id": citizen,
            "walk_in_id": walk_in,
            "place_kind": place_kind,
            "shelter_id": sid,
            "place": place,
            "party": party,
            "method": method,
            "arrived_at": b.at(minute),
            "arrived_by": by,
            "left_at": None,
            "left_by": None,
            "end_reason": None,
            "moved_to": None,
        }
        out["evacuee_stays"].append(row)
        return row

    def observe(citizen, source, outcome, minute, by, sid=None, place=None, stay_id=None):
        out["safety_observations"].append(
            {
                "id": len(out["safety_observations"]) + 1,
                "incident_key": b.incident_id,
                "citizen_id": citizen,
                "source": source,
                "outcome": outcome,
                "observed_at": b.at(minute),
                "recorded_at": b.at(minute),
                "recorded_by": by,
                "shelter_id": sid,
                "place": place,
                "note": None,
                "stay_id": stay_id,
                "follow_up_id": None,
            }
        )

    staying: set[int] = set()

    def check_in(i: int, sid: int, minute: float) -> dict[str, Any]:
        """Citizen ``i`` checked in at reception shelter ``sid`` with their household."""
        party = f"{key}:party:{int(b.household_of[i])}:{sid}"
        row = stay(i + 1, None, sid, "shelter", None, minute, "search", "demo-shelter", party)
        staying.add(i + 1)
        observe(i + 1, "reception", "checked_in", minute, "demo-shelter", sid, stay_id=row["id"])
        return row

    # App users who arrived at a reception shelter are checked in there (households together).
    for si, minute, i in sorted(b.arrivals, key=lambda a: (a[1], a[2])):
        sid = int(b.shelter_ids[si])
        if sid not in reception or i + 1 in staying or rng.random() < 0.1:
            continue
        minute = float(minute) + float(rng.uniform(1, 6))
        if minute >= b.p.duration_min:
            continue
        row = check_in(i, sid, minute)
        if rng.random() < 0.05 and minute + 30 < b.p.duration_min:  # went home again
            left = minute + float(rng.uniform(20, 60))
            if left < b.p.duration_min:
                row.update(left_at=b.at(left), left_by="demo-shelter", end_reason="checked_out")
                observe(
                    i + 1, "reception", "checked_out", left, "demo-shelter", sid, stay_id=row["id"]
                )
    # People without the app (no answer) who came to a reception shelter nearby.
    silent = np.flatnonzero(~b.responds & (b.flood_rank > 0))
    rec_ids = sorted(reception)
    rec_xy = b.shelter_xy[[index_of[s] for s in rec_ids]] if rec_ids else np.empty((0, 2))
    for i in silent[rng.random(len(silent)) < 0.2].tolist() if rec_ids else []:
        d = np.hypot(rec_xy[:, 0] - b.cx[i], rec_xy[:, 1] - b.cy[i])
        sid = rec_ids[int(np.argmin(d))]
        opened_min = (opened[sid] - b.t0).total_seconds() / 60
        minute = max(opened_min + 5, float(rng.uniform(40, b.p.duration_min - 5)))
        if minute >= b.p.duration_min:
            continue
        check_in(i, sid, minute)
    # A few neighbours of each demo shelter staff's shelter, so their desk is never empty.
    for sid in sorted(staff_shelters & reception):
        x, y = b.shelter_xy[index_of[sid]]
        near = np.argsort(np.hypot(b.cx - x, b.cy - y))
        opened_min = (opened[sid] - b.t0).total_seconds() / 60
        for k, i in enumerate([int(j) for j in near if int(j) + 1 not in staying][:3]):
            minute = opened_min + 10 + 7 * k
            if minute >= b.p.duration_min:
                break
            party = f"{key}:party:{int(b.household_of[i])}:{sid}"
            row = stay(i + 1, None, sid, "shelter", None, minute, "search", "demo-shelter", party)
            staying.add(i + 1)
            observe(
                i + 1, "reception", "checked_in", minute, "demo-shelter", sid, stay_id=row["id"]
            )
    # Walk-ins: visitors and people not in the system, with their families.
    per_shelter = rng.poisson(1.5 * b.n / 12_000, len(rec_ids))
    families = names.family_names(rng, int(per_shelter.sum()) + 1)
    given = names.given_names(rng, np.where(rng.random(len(families)) < 0.5, "female", "male"))
    bands = ("15-39", "40-64", "65-74", "75+", "unknown")
    for sid, count in zip(rec_ids, per_shelter.tolist(), strict=True):
        for _ in range(count):
            k = len(out["walk_ins"])
            opened_min = (opened[sid] - b.t0).total_seconds() / 60
            minute = float(rng.uniform(opened_min + 5, b.p.duration_min - 1))
            out["walk_ins"].append(
                {
                    "id": k + 1,
                    "incident_key": b.incident_id,
                    "name": f"{families[k][0]} {given[k][0]}",
                    "kana": f"{families[k][1]} {given[k][1]}",
                    "age_band": bands[int(rng.integers(0, len(bands)))],
                    "household_size": int(rng.integers(1, 5)),
                    "needs": ("乳児あり", "アレルギー（卵）", "杖を使用", None, None)[
                        int(rng.integers(0, 5))
                    ],
                    "matched_citizen_id": None,
                    "created_at": b.at(minute),
                    "created_by": "demo-shelter",
                }
            )
            stay(
                None,
                k + 1,
                sid,
                "shelter",
                None,
                minute,
                "walk_in",
                "demo-shelter",
                f"{key}:walk-in:{k + 1}",
            )
    # Supporters confirm about half of the planned people; some found them needing help.
    for citizen in sorted(planned):
        if rng.random() < 0.5:
            minute = float(rng.uniform(25, b.p.duration_min - 5))
            outcome = "needs_help" if rng.random() < 0.1 else "safe"
            observe(citizen, "supporter", outcome, minute, "demo-hq")
    # At home (在宅避難) and in cars (車中泊), recorded by headquarters and rescue teams.
    at_home = np.flatnonzero(b.responds & (b.flood_rank > 0))
    for i in at_home[rng.random(len(at_home)) < 0.03].tolist():
        if i + 1 in staying:
            continue
        car = rng.random() < 0.4
        place = CAR_PARKS[int(rng.integers(0, len(CAR_PARKS)))] if car else "自宅2階"
        minute = float(rng.uniform(60, b.p.duration_min - 2))
        by, source = ("demo-rescue", "rescue") if rng.random() < 0.3 else ("demo-hq", "hq")
        row = stay(
            i + 1,
            None,
            None,
            "car" if car else "home",
            place,
            minute,
            source,
            by,
            f"{key}:place:{i + 1}",
        )
        staying.add(i + 1)
        observe(
            i + 1,
            source,
            "in_car" if car else "at_home",
            minute,
            by,
            place=place,
            stay_id=row["id"],
        )
    # Follow-ups: calls to register people nobody has heard of.
    answered = {r["citizen_id"] for r in b.tables["status_reports"]}
    heard = answered | staying | {o["citizen_id"] for o in out["safety_observations"]}
    silent_register = [
        e["citizen_id"] for e in b.tables["support_register"] if e["citizen_id"] not in heard
    ]
    for k, citizen in enumerate(silent_register[:20]):
        minute = float(rng.uniform(90, b.p.duration_min - 2))
        reached = k % 4 == 3
        status = "not_reached" if reached else "assigned"
        fid = len(out["follow_ups"]) + 1
        team = ("電話班A", "電話班B", "民生委員")[k % 3]
        out["follow_ups"].append(
            {
                "id": fid,
                "incident_key": b.incident_id,
                "citizen_id": citizen,
                "status": status,
                "method": "call" if k % 3 < 2 else "visit",
                "assignee": team,
                "attempts": 1 if reached else 0,
                "note": None,
                "created_at": b.at(minute),
                "created_by": "demo-hq",
                "updated_at": b.at(minute + (5 if reached else 0)),
                "updated_by": "demo-hq",
                "version": 2 if reached else 1,
            }
        )
        events = [(None, "assigned", minute)] + (
            [("assigned", "not_reached", minute + 5)] if reached else []
        )
        for frm, to, when in events:
            out["follow_up_events"].append(
                {
                    "id": len(out["follow_up_events"]) + 1,
                    "follow_up_id": fid,
                    "from_status": frm,
                    "to_status": to,
                    "method": out["follow_ups"][-1]["method"],
                    "assignee": team,
                    "note": None,
                    "actor": "demo-hq",
                    "at": b.at(when),
                }
            )
        if reached:
            observe(citizen, "follow_up", "not_reached", minute + 5, "demo-hq")
    return out


def generate(
    params: DemoParams,
    city,
    shelters: list[dict] | None = None,
    evacuation_rules: list[Any] | None = None,
) -> DemoCity:
    """Build the demo city for ``city`` (a :class:`sql.city_config.CityConfig`).

    ``shelters``: shelter rows already in the database (with ``id``) to use instead of
    synthetic ones — e.g. the real sites of ``bosai demo --shelters FILE``.
    ``evacuation_rules``: the city's evacuation rules (with ``params.evacuation``: HQ issues
    what they propose as the gauges rise; see :mod:`drills.demo_evacuation`).
    """
    if params.citizens < 10:
        raise ValueError("the demo city needs at least 10 citizens")
    geo = CityGeography.load(city.municipality_code, city.center_lat, city.center_lon)
    return _Builder(params, city, geo, shelters, evacuation_rules).build()
