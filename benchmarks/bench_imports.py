"""Imports and hazard exposure: shelter import rate, and classifying 120,000 citizens.

- ``shelters_import_standard_10k``: ``bosai import shelters`` on a generated 10,000-row standard
  CSV (39 columns) into a fresh SQLite database — read, validate, match, write — in rows/s,
  against a bare driver ``executemany`` of the same rows into the same table (the ratio says
  what validation and matching cost).
- ``hazard_exposure_120k``: :func:`analytics.hazard_exposure.classify_citizens` on 120,000
  citizens, with shelters and hazard zones imported through the importers into SQLite and read
  back from it, in ms (target ≤ 300 ms), against a naive per-citizen loop (every zone, every
  shelter) measured on a sample and scaled linearly to the same number of citizens.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import math
import random
import time
from pathlib import Path
from typing import Any

from .core import BenchContext, Result, best_of

#: The standard list's hazard columns and the spellings cities publish for them.
FLAG_SPELLINGS = ("1", "1.0", "○", "△", "×", "", "", "1")
CAPACITY_TEXTS = (
    ("屋内{a}人／屋外{b:,}人(面積の1/2)", "a"),
    ("{a}", "a"),
    ("約{a}人", "a"),
    ("屋外{b:,}人", None),
    ("", None),
)
#: Where generated sites lie (Aizuwakamatsu's extent).
AREA = {"south": 37.42, "north": 37.56, "west": 139.86, "east": 140.02}


def write_standard_csv(
    path: Path, rows: int, *, seed: int = 1, encoding: str = "utf-8-sig"
) -> list[dict[str, Any]]:
    """A Digital Agency standard list (all 39 columns) of ``rows`` sites; returns the rows.

    Each returned row also has ``indoor``: the indoor capacity the importer must read from
    想定収容人数 (None where the text gives none).
    """
    from importers.shelters_standard import STANDARD_COLUMNS_39, STANDARD_HAZARD_COLUMNS

    rnd = random.Random(seed)
    written = []
    with Path(path).open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(STANDARD_COLUMNS_39)
        for number in range(rows):
            row = dict.fromkeys(STANDARD_COLUMNS_39, "")
            a, b = rnd.randint(10, 2_000), rnd.randint(0, 9_000)
            template, indoor_from = CAPACITY_TEXTS[number % len(CAPACITY_TEXTS)]
            row.update(
                {
                    "全国地方公共団体コード": "072028",
                    "ID": f"S{number:07d}",
                    "名称": f"第{number}避難場所（{('小学校', '公園', '集会所', '体育館')[number % 4]}）",
                    "名称_カナ": f"ダイ{number}ヒナンバショ",
                    "所在地_連結表記": f"福島県会津若松市試験町{number // 100}丁目{number % 100}番",
                    "所在地_都道府県": "福島県",
                    "所在地_市区町村": "会津若松市",
                    "緯度": f"{rnd.uniform(AREA['south'], AREA['north']):.6f}",
                    "経度": f"{rnd.uniform(AREA['west'], AREA['east']):.6f}",
                    "標高": f"{rnd.uniform(180, 600):.1f}",
                    "電話番号": f"0242-{rnd.randint(10, 99)}-{rnd.randint(1000, 9999)}",
                    "想定収容人数": template.format(a=a, b=b),
                    "備考": "",
                }
            )
            for column in STANDARD_HAZARD_COLUMNS:
                row[column] = rnd.choice(FLAG_SPELLINGS)
            writer.writerow([row[c] for c in STANDARD_COLUMNS_39])
            written.append({**row, "indoor": a if indoor_from and row["想定収容人数"] else None})
    return written


def _bosai(url: str, *args: str) -> None:
    """Run ``bosai`` in this process, its output kept off stdout (``bosai bench --json``)."""
    from bosai.cli import main

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = main(["--database-url", url, *args])
    if code != 0:
        raise RuntimeError(f"bosai {' '.join(args[:2])} exited with {code}")


def _fresh_sqlite(ctx: BenchContext, name: str):
    from sql.engine import make_engine
    from sql.setup import prepare_database

    engine = make_engine(ctx.sqlite_url(name))
    prepare_database(engine)
    return engine


def _raw_shelter_rate(ctx: BenchContext, records: list) -> float:
    """Bare ``executemany`` of the same shelters (no validation, no matching, no upsert)."""
    from importers.shelter_record import SHELTER_COLUMNS

    engine = _fresh_sqlite(ctx, "shelters_raw")
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    columns = [*SHELTER_COLUMNS, "created_at", "updated_at"]
    values = [
        tuple(
            now
            if c in ("created_at", "updated_at")
            else (getattr(r, c) if getattr(r, c) is not None else _default(c))
            for c in columns
        )
        for r in records
    ]
    statement = (
        f"INSERT INTO shelters ({', '.join(columns)}) "  # noqa: S608 - fixed column names
        f"VALUES ({', '.join('?' for _ in columns)})"
    )
    with engine.begin() as conn:
        cursor = conn.connection.driver_connection.cursor()
        started = time.perf_counter()
        cursor.executemany(statement, values)
        elapsed = time.perf_counter() - started
    engine.dispose()
    return len(records) / elapsed


def _default(column: str) -> Any:
    return False if column.startswith(("hazard_", "is_")) else None


def bench_shelter_import(ctx: BenchContext) -> Result:
    from importers.shelters import read_shelters

    rows = 1_000 if ctx.quick else 10_000
    path = ctx.workdir / "standard_shelters.csv"
    write_standard_csv(path, rows)
    url = ctx.sqlite_url("shelters_import")
    _bosai(url, "db", "upgrade")
    started = time.perf_counter()
    _bosai(url, "import", "shelters", str(path))
    elapsed = time.perf_counter() - started
    records = read_shelters(path).records
    baseline = _raw_shelter_rate(ctx, records)
    return Result(
        name=f"shelters_import_standard_{rows // 1000}k",
        value=rows / elapsed,
        unit="rows/s",
        baseline=baseline,
        note="bosai import shelters (read+validate+match+write) vs bare executemany of the rows",
    )


def _ring(lon: float, lat: float, radius: float, rnd: random.Random) -> list[list[float]]:
    """An irregular 24-vertex ring around (lon, lat)."""
    ring = []
    for step in range(24):
        angle = 2 * math.pi * step / 24
        r = radius * rnd.uniform(0.7, 1.0)
        ring.append([lon + r * math.cos(angle) * 1.25, lat + r * math.sin(angle)])
    return [*ring, ring[0]]


def flood_features(rnd: random.Random, step: float = 0.003) -> list[dict[str, Any]]:
    """A flood map like A31's: non-overlapping polygons along a meandering river, deeper near it.

    A jittered grid (shared, densified edges: 32 vertices per polygon) over the western plain;
    cells farther than 0.04° from the river are not flooded.
    """
    west, east = AREA["west"], AREA["west"] + 0.6 * (AREA["east"] - AREA["west"])
    columns = int((east - west) / step)
    rows = int((AREA["north"] - AREA["south"]) / step)
    jitter = {
        (i, j): (
            west + i * step + rnd.uniform(-0.3, 0.3) * step * (0 < i < columns),
            AREA["south"] + j * step + rnd.uniform(-0.3, 0.3) * step * (0 < j < rows),
        )
        for i in range(columns + 1)
        for j in range(rows + 1)
    }

    def edge(a, b):
        return [[a[0] + (b[0] - a[0]) * k / 8, a[1] + (b[1] - a[1]) * k / 8] for k in range(8)]

    features = []
    for i in range(columns):
        for j in range(rows):
            corners = [jitter[i, j], jitter[i + 1, j], jitter[i + 1, j + 1], jitter[i, j + 1]]
            lon = sum(c[0] for c in corners) / 4
            lat = sum(c[1] for c in corners) / 4
            river = west + 0.3 * (east - west) + 0.01 * math.sin((lat - AREA["south"]) * 60)
            gap = abs(lon - river)
            if gap > 0.04:
                continue
            rank = "4" if gap < 0.004 else "3" if gap < 0.01 else "2" if gap < 0.025 else "1"
            ring = [p for k in range(4) for p in edge(corners[k], corners[(k + 1) % 4])]
            features.append(
                {
                    "type": "Feature",
                    "properties": {"A31_201": rank},
                    "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]},
                }
            )
    return features


def landslide_features(rnd: random.Random, count: int = 500) -> list[dict[str, Any]]:
    """Small 土砂災害警戒区域 in the eastern hills; every third has a 特別警戒区域 inside it."""
    features = []
    number = 0
    while len(features) < count:
        lat = rnd.uniform(AREA["south"], AREA["north"])
        lon = rnd.uniform(AREA["west"] + 0.7 * (AREA["east"] - AREA["west"]), AREA["east"])
        radius = rnd.uniform(0.0008, 0.002)
        for zone, scale in (("1", 1.0), ("2", 0.5))[: 2 if number % 3 == 0 else 1]:
            number += 1
            features.append(
                {
                    "type": "Feature",
                    "properties": {
                        "A33_001": str(rnd.choice("123")),
                        "A33_002": zone,
                        "A33_003": "07",
                        "A33_004": f"{number:05d}",
                    },
                    "geometry": {
                        "type": "Polygon",
                        "coordinates": [_ring(lon, lat, radius * scale, rnd)],
                    },
                }
            )
    return features[:count]


def _write_geojson(path: Path, features: list[dict[str, Any]]) -> Path:
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8"
    )
    return path


def exposure_inputs(ctx: BenchContext, citizens: int, seed: int = 11):
    """Citizens (in memory), shelters and zones imported into SQLite and read back from it."""
    import numpy as np
    import pandas as pd

    from sql.engine import get_engine
    from sql.imports.readback import hazard_zones_frame, shelters_frame

    rnd = random.Random(seed)
    url = ctx.sqlite_url("exposure")
    _bosai(url, "db", "upgrade")
    shelters_csv = ctx.workdir / "exposure_shelters.csv"
    write_standard_csv(shelters_csv, 300, seed=seed)
    flood = _write_geojson(ctx.workdir / "A31.geojson", flood_features(rnd))
    slide = _write_geojson(ctx.workdir / "A33.geojson", landslide_features(rnd))
    _bosai(url, "import", "shelters", str(shelters_csv))
    _bosai(url, "import", "hazards", "--kind", "flood", str(flood))
    _bosai(url, "import", "hazards", "--kind", "landslide", str(slide))
    engine = get_engine(url)
    started = time.perf_counter()
    shelters = shelters_frame(engine)
    zones = hazard_zones_frame(engine)
    read_ms = (time.perf_counter() - started) * 1000
    generator = np.random.default_rng(seed)
    people = pd.DataFrame(
        {
            "id": np.arange(1, citizens + 1),
            "lat": generator.uniform(AREA["south"], AREA["north"], citizens),
            "lon": generator.uniform(AREA["west"], AREA["east"], citizens),
        }
    )
    shelters["is_open"] = generator.random(len(shelters)) < 0.6
    return people, shelters, zones, read_ms


def bench_hazard_exposure(ctx: BenchContext) -> list[Result]:
    from analytics.hazard_exposure import classify_citizens, classify_citizens_naive

    citizens = 12_000 if ctx.quick else 120_000
    people, shelters, zones, read_ms = exposure_inputs(ctx, citizens)
    warnings = ["03", "04"]  # 大雨警報 and 洪水警報: flood, landslide and inland-flood shelters
    fast = best_of(lambda: classify_citizens(people, shelters, zones, warnings), repeat=5)
    sample = people.head(600 if ctx.quick else 2_000)
    naive_sample = best_of(
        lambda: classify_citizens_naive(sample, shelters, zones, warnings), repeat=1
    )
    naive = naive_sample * len(people) / len(sample)
    return [
        Result(
            name=f"hazard_exposure_{citizens // 1000}k_citizens",
            value=fast * 1000,
            unit="ms",
            baseline=naive * 1000,
            note=(
                f"{len(shelters)} shelters, {len(zones)} zones read from SQLite; naive loop "
                f"measured on {len(sample):,} citizens and scaled; target ≤ 300 ms"
            ),
        ),
        Result(
            name="hazard_exposure_read_shelters_and_zones",
            value=read_ms,
            unit="ms",
            note="sql.imports.readback: shelters and zones from SQLite as (Geo)DataFrames",
        ),
    ]


def run(ctx: BenchContext) -> list[Result]:
    return [bench_shelter_import(ctx), *bench_hazard_exposure(ctx)]
