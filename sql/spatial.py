"""Spatial columns and helpers for both backends.

The portable truth is latitude/longitude (and WKB for polygons). On PostgreSQL/PostGIS the
migrations add *generated* columns next to them, so no writer ever sets geometry by hand:

======================  ==========================================  =====================
table                   generated column                            index
======================  ==========================================  =====================
citizens                ``home_geog geography(Point,4326)``         GiST
households              ``geog geography(Point,4326)``              GiST
shelters                ``geog geography(Point,4326)``              GiST
rescue_requests         ``geog geography(Point,4326)``              GiST
location_fixes          ``geog geography(Point,4326)``              GiST
hazard_zones            ``geom geometry(Geometry,4326)``            GiST
evacuation_areas        ``geom geometry(Geometry,4326)``            GiST (migration 0017)
======================  ==========================================  =====================

On SQLite (no SpatiaLite: see docs/ARCHITECTURE.md) spatial work happens in Python with
shapely's STRtree, geopandas and h3.
"""

from __future__ import annotations

import sqlalchemy as sa
from geoalchemy2 import Geography, Geometry

#: (table, generated column, latitude column, longitude column)
POINT_COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("citizens", "home_geog", "home_lat", "home_lon"),
    ("households", "geog", "lat", "lon"),
    ("shelters", "geog", "lat", "lon"),
    ("rescue_requests", "geog", "lat", "lon"),
    ("location_fixes", "geog", "lat", "lon"),
)
POLYGON_COLUMNS: tuple[tuple[str, str, str], ...] = (("hazard_zones", "geom", "geom_wkb"),)
#: Polygon columns added by later migrations (each adds its own with :func:`add_polygon_column`).
LATER_POLYGON_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("evacuation_areas", "geom", "geom_wkb"),  # 0017
)


def create_postgis_columns(op) -> None:
    """Migration step (PostgreSQL only): PostGIS extension, generated columns, GiST indexes."""
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    for table, column, lat, lon in POINT_COLUMNS:
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN {column} geography(Point,4326) "
            f"GENERATED ALWAYS AS (CASE WHEN {lat} IS NULL OR {lon} IS NULL THEN NULL ELSE "
            f"ST_SetSRID(ST_MakePoint({lon}, {lat}), 4326)::geography END) STORED"
        )
        op.execute(f"CREATE INDEX ix_{table}_{column} ON {table} USING gist ({column})")
    for table, column, wkb in POLYGON_COLUMNS:
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN {column} geometry(Geometry,4326) "
            f"GENERATED ALWAYS AS (ST_GeomFromWKB({wkb}, 4326)) STORED"
        )
        op.execute(f"CREATE INDEX ix_{table}_{column} ON {table} USING gist ({column})")


def add_polygon_column(op, table: str, column: str, wkb: str) -> None:
    """Migration step (PostgreSQL only): one generated geometry column from WKB, GiST-indexed."""
    op.execute(
        f"ALTER TABLE {table} ADD COLUMN {column} geometry(Geometry,4326) "
        f"GENERATED ALWAYS AS (ST_GeomFromWKB({wkb}, 4326)) STORED"
    )
    op.execute(f"CREATE INDEX ix_{table}_{column} ON {table} USING gist ({column})")


def drop_postgis_columns(op) -> None:
    for table, column, *_ in (*POINT_COLUMNS, *POLYGON_COLUMNS):
        op.execute(f"DROP INDEX IF EXISTS ix_{table}_{column}")
        op.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS {column}")


def geography_column(table: str, column: str = "geog") -> sa.ColumnClause:
    """A typed reference to a generated PostGIS geography column, for GeoAlchemy2 functions."""
    return sa.column(
        column, Geography(geometry_type="POINT", srid=4326), _selectable=sa.table(table)
    )


def geometry_column(table: str, column: str = "geom") -> sa.ColumnClause:
    return sa.column(column, Geometry(srid=4326), _selectable=sa.table(table))


#: Tables' generated spatial columns, which the ORM models do not map (for schema comparison).
GENERATED_COLUMNS = {
    (t, c) for t, c, *_ in (*POINT_COLUMNS, *POLYGON_COLUMNS, *LATER_POLYGON_COLUMNS)
}
