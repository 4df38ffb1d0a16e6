"""国土数値情報 flood (A31, A31a, A31b) and landslide (A33) zones → WGS84 polygon records.

Files are GeoJSON or shapefiles (plain, or zipped as downloaded), read with geopandas/pyogrio.
国土数値情報 is in JGD2011 (EPSG:6668); a file without a CRS is taken to be in it, and
everything is transformed to WGS84 (EPSG:4326), which the database stores. Shapefiles without
a ``.cpg`` are read as CP932 (Shift_JIS), as 国土数値情報 publishes them.

Files are read only as what they claim (issue 13, finding 7): the content is sniffed before
GDAL sees it — a GeoJSON text must be a JSON object, a ``.shp`` must carry the shapefile
magic number, a ZIP is bounded by entry count and uncompressed size (zip bombs) and its
layers are sniffed the same way; GDAL then opens it with only the GeoJSON or ESRI Shapefile
driver, with its network access and VRT/``/vsicurl`` paths disabled. Anything else (a GDAL
VRT named ``.geojson``, a CSV, a path GDAL would treat as virtual) is refused naming the file.

Each zone keeps its rank with its meaning (depth range, or landslide phenomenon and zone) and a
stable key (dataset, scenario, river or zone number, rank and a hash of the geometry), so
re-importing the same file changes nothing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import zipfile
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from bosai.geo_bounds import JAPAN_BOUNDS

from . import ksj_hazard_codes as codes
from .problems import FileRejected, Problem, quoted, reason
from .progress import Progress, tick

KINDS = ("flood", "landslide")
#: The CRS of 国土数値情報 (JGD2011 geographic), assumed when a file does not say.
KSJ_CRS = "EPSG:6668"
_LAYER_SUFFIXES = (".shp", ".geojson", ".json")


@dataclasses.dataclass
class HazardZoneRecord:
    source_key: str
    kind: str  # flood, landslide
    source_dataset: str  # A31, A31a, A31b, A33
    rank_code: str | None
    rank_label: str | None
    depth_min_m: float | None
    depth_max_m: float | None
    phenomenon: str | None
    name: str | None
    attributes: dict[str, Any]
    geometry: BaseGeometry  # WGS84 (lon, lat)
    severity: float  # for the worst zone a point lies in: depth_min_m, or 1/2 for landslide
    file: str
    row: int


@dataclasses.dataclass
class HazardZoneBatch:
    files: list[Path]
    records: list[HazardZoneRecord]
    problems: list[Problem]
    notes: list[str] = dataclasses.field(default_factory=list)
    skipped: int = 0
    #: Features with problems (for ``--skip-invalid``), keyed by (file, feature number).
    rejected: dict[tuple[str, int], dict[str, str]] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class _Layout:
    dataset: str  # A31, A31a, A31b, A33
    kind: str
    rank_column: str | None = None
    scenario: str | None = None
    rank_table: dict[str, codes.DepthRank] | None = None
    river_code: str | None = None
    river_name: str | None = None


#: GDAL drivers the importer opens (content sniffed first, driver checked after opening).
ALLOWED_DRIVERS = frozenset({"GeoJSON", "ESRI Shapefile"})
#: Zip bombs: at most this many entries and this many bytes once uncompressed.
ZIP_MAX_ENTRIES = 2_000
ZIP_MAX_UNCOMPRESSED = 2 * 1024**3
#: Shapefile main file: file code 9994, big-endian, in its first four bytes.
SHP_MAGIC = (9994).to_bytes(4, "big")
#: GDAL configuration while reading an outside file: no network, no virtual file systems.
GDAL_SAFE_CONFIG = {
    "GDAL_HTTP_TIMEOUT": "1",
    "GDAL_HTTP_MAX_RETRY": "0",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".bosai-network-disabled",
    "GDAL_HTTP_PROXY": "127.0.0.1:9",
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
}


def _refuse(label: str, key: str, **params: Any) -> FileRejected:
    return FileRejected(Problem(label, "-", "-", reason(key, **params)))


def sniff(head: bytes, name: str, label: str) -> str:
    """The driver the first bytes of ``name`` prove, or FileRejected (nothing is opened)."""
    lower = name.lower()
    if lower.endswith(".shp"):
        if head[:4] == SHP_MAGIC:
            return "ESRI Shapefile"
        raise _refuse(label, "importers.problem.not_what_it_claims", claimed="Shapefile")
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    if lower.endswith((".geojson", ".json")) and text.startswith(b"{"):
        return "GeoJSON"
    raise _refuse(label, "importers.problem.not_what_it_claims", claimed="GeoJSON")


def _check_plain_path(path: Path, label: str) -> None:
    text = str(path)
    if text.startswith("/vsi") or "://" in text or not path.is_file():
        raise _refuse(label, "importers.problem.not_a_local_file")


def layer_paths(path: Path) -> list[str]:
    """GDAL paths of the layers in ``path`` (a zip may hold several), each sniffed; a zip is
    bounded by entry count and uncompressed size."""
    label = str(path)
    _check_plain_path(path, label)
    if path.suffix.lower() != ".zip":
        if path.suffix.lower() not in _LAYER_SUFFIXES:
            raise _refuse(label, "importers.problem.unsupported_geodata_kind")
        with path.open("rb") as handle:
            sniff(handle.read(64), path.name, label)
        return [str(path)]
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if len(infos) > ZIP_MAX_ENTRIES:
                raise _refuse(
                    label,
                    "importers.problem.zip_too_many_entries",
                    n=len(infos),
                    max=ZIP_MAX_ENTRIES,
                )
            total = sum(i.file_size for i in infos)
            if total > ZIP_MAX_UNCOMPRESSED:
                raise _refuse(
                    label,
                    "importers.problem.zip_too_large",
                    mb=f"{total / 1024**2:,.0f}",
                    max_mb=f"{ZIP_MAX_UNCOMPRESSED / 1024**2:,.0f}",
                )
            names = []
            for info in infos:
                name = info.filename
                if not name.lower().endswith(_LAYER_SUFFIXES) or info.is_dir():
                    continue
                if name.startswith(("/", "\\")) or ".." in name.split("/") or "/vsi" in name:
                    raise _refuse(f"{label}!{name}", "importers.problem.not_a_local_file")
                with archive.open(info) as member:
                    sniff(member.read(64), name, f"{label}!{name}")
                names.append(name)
    except zipfile.BadZipFile as exc:
        raise FileRejected(
            Problem(
                str(path),
                "-",
                "-",
                reason("importers.problem.unreadable_geodata", detail=quoted(str(exc))),
            )
        ) from exc
    if not names:
        raise FileRejected(
            Problem(str(path), "-", "-", reason("importers.problem.zip_without_layers"))
        )
    return [f"/vsizip/{path}/{name}" for name in sorted(names)]


def _has_cpg(layer: str) -> bool:
    if not layer.lower().endswith(".shp"):
        return True
    stem = layer[:-4]
    if layer.startswith("/vsizip/"):
        archive_path, _, member = layer[len("/vsizip/") :].partition(".zip/")
        with zipfile.ZipFile(archive_path + ".zip") as archive:
            return any(n.lower() == member[:-4].lower() + ".cpg" for n in archive.namelist())
    return Path(stem + ".cpg").exists() or Path(stem + ".CPG").exists()


def _read_layer(layer: str, label: str):
    import geopandas
    import pyogrio

    options: dict[str, Any] = {"engine": "pyogrio"}
    if not _has_cpg(layer):
        options["encoding"] = "cp932"
    previous = pyogrio.get_gdal_config_option
    saved = {k: previous(k) for k in GDAL_SAFE_CONFIG}
    pyogrio.set_gdal_config_options(GDAL_SAFE_CONFIG)
    try:
        driver = pyogrio.read_info(layer).get("driver")
        if driver not in ALLOWED_DRIVERS:
            raise _refuse(label, "importers.problem.not_what_it_claims", claimed=str(driver))
        frame = geopandas.read_file(layer, **options)
    except (
        pyogrio.errors.DataSourceError,
        pyogrio.errors.DataLayerError,
        ValueError,
        OSError,
    ) as exc:
        raise FileRejected(
            Problem(
                label,
                "-",
                "-",
                reason("importers.problem.unreadable_geodata", detail=quoted(str(exc))),
            )
        ) from exc
    finally:
        pyogrio.set_gdal_config_options(saved)
    if frame.crs is None:
        frame = frame.set_crs(KSJ_CRS)
    return frame.to_crs("EPSG:4326")


def _layout(columns: list[str], label: str) -> _Layout:
    lower = {c.lower(): c for c in columns}

    def pick(*names: str) -> str | None:
        return next((lower[n] for n in names if n in lower), None)

    for prefix, dataset, rank_suffix, code_suffix in (
        ("a31a", "A31a", "05", "01"),
        ("a31b", "A31b", "01", None),
        ("a31", "A31", "01", None),
    ):
        for scenario in ("2", "1"):
            column = pick(f"{prefix}_{scenario}{rank_suffix}")
            if column:
                return _Layout(
                    dataset,
                    "flood",
                    column,
                    codes.SCENARIOS[scenario],
                    codes.WATER_DEPTH_RANKS,
                    pick(f"{prefix}_{scenario}{code_suffix}") if code_suffix else None,
                    pick(f"{prefix}_{scenario}02") if prefix == "a31a" else None,
                )
        for layer, meaning in codes.NOT_DEPTH_LAYERS.items():
            column = pick(f"{prefix}_{layer}{rank_suffix}")
            if column:
                raise FileRejected(
                    Problem(
                        label,
                        1,
                        column,
                        reason(
                            "importers.problem.unsupported_ksj_layer",
                            dataset=dataset,
                            attribute=column,
                            meaning=meaning,
                        ),
                    )
                )
    if pick("a31_001"):
        return _Layout("A31", "flood", pick("a31_001"), "planned", codes.WATER_DEPTH_RANKS_2012)
    if pick("a33_001") and pick("a33_002"):
        return _Layout("A33", "landslide")
    raise FileRejected(Problem(label, 1, "-", reason("importers.problem.not_ksj_hazard")))


def _geometry_hash(geometry: BaseGeometry) -> str:
    normal = shapely.normalize(shapely.set_precision(geometry, 1e-7))
    return hashlib.sha256(shapely.to_wkb(normal, output_dimension=2)).hexdigest()[:16]


def _polygonal(geometry: BaseGeometry) -> BaseGeometry | None:
    if not geometry.is_valid:
        geometry = shapely.make_valid(geometry)
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        return geometry
    if geometry.geom_type == "GeometryCollection":
        parts = [g for g in geometry.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
        return shapely.union_all(parts) if parts else None
    return None


def read_hazard_zones(
    path: Path | str, kind: str, *, progress: Progress | None = None
) -> HazardZoneBatch:
    """Zones of one file; ``kind`` (flood or landslide) must match what the file is.

    ``progress(features_done, features_total)`` is called while features are checked.
    """
    path = Path(path)
    label = str(path)
    batch = HazardZoneBatch([path], [], [])
    try:
        if not path.exists():
            raise FileRejected(Problem(label, "-", "-", reason("importers.problem.no_file")))
        if path.stat().st_size == 0:
            raise FileRejected(Problem(label, "-", "-", reason("importers.problem.empty_file")))
        layers = layer_paths(path)
        for layer in layers:
            layer_label = label if len(layers) == 1 else f"{label}!{layer.rsplit('/', 1)[-1]}"
            _read_into(batch, layer, layer_label, kind, progress)
    except FileRejected as exc:
        batch.problems.append(exc.problem)
        batch.records = []
    return batch


def _read_into(
    batch: HazardZoneBatch, layer: str, label: str, kind: str, progress: Progress | None
) -> None:
    frame = _read_layer(layer, label)
    if frame.empty:
        raise FileRejected(Problem(label, "-", "-", reason("importers.problem.header_only")))
    layout = _layout([c for c in frame.columns if c != "geometry"], label)
    if layout.kind != kind:
        raise FileRejected(
            Problem(
                label,
                "-",
                "-",
                reason("importers.problem.kind_mismatch", kind=kind, dataset=layout.dataset),
            )
        )
    seen: set[str] = set()
    non_polygon = 0
    for number, (attributes, geometry) in enumerate(
        zip(frame.drop(columns="geometry").to_dict("records"), frame.geometry, strict=True), start=1
    ):
        tick(progress, number, len(frame))
        attributes = {str(k): codes.code_text(v) for k, v in attributes.items()}
        if geometry is None or geometry.is_empty:
            _reject(
                batch,
                label,
                number,
                "geometry",
                reason("importers.problem.empty_geometry"),
                attributes,
            )
            continue
        if geometry.geom_type not in ("Polygon", "MultiPolygon", "GeometryCollection"):
            non_polygon += 1
            continue
        polygon = _polygonal(geometry)
        if polygon is None or polygon.is_empty:
            _reject(
                batch,
                label,
                number,
                "geometry",
                reason("importers.problem.not_a_polygon", kind=quoted(geometry.geom_type)),
                attributes,
            )
            continue
        west, south, east, north = polygon.bounds
        b = JAPAN_BOUNDS
        if west < b["west"] or east > b["east"] or south < b["south"] or north > b["north"]:
            bounds = f"{west:.4f},{south:.4f},{east:.4f},{north:.4f}"
            _reject(
                batch,
                label,
                number,
                "geometry",
                reason("importers.problem.geometry_outside_japan", bounds=bounds),
                attributes,
            )
            continue
        record = _record(layout, attributes, polygon, label, number, batch)
        if record is None or record.source_key in seen:
            continue
        seen.add(record.source_key)
        batch.records.append(record)
    if non_polygon:
        batch.skipped += non_polygon
        batch.notes.append(reason("importers.skip.non_polygon", n=non_polygon))


def _reject(
    batch: HazardZoneBatch,
    label: str,
    number: int,
    column: str,
    text: str,
    attributes: dict[str, str],
) -> None:
    batch.problems.append(Problem(label, number, column, text))
    batch.rejected[(label, number)] = attributes


def _record(
    layout: _Layout,
    attributes: dict[str, str],
    polygon: BaseGeometry,
    label: str,
    number: int,
    batch: HazardZoneBatch,
) -> HazardZoneRecord | None:
    digest = _geometry_hash(polygon)
    if layout.kind == "flood":
        value = attributes.get(layout.rank_column or "", "")
        rank = (layout.rank_table or {}).get(value)
        if rank is None:
            _reject(
                batch,
                label,
                number,
                layout.rank_column or "-",
                reason("importers.problem.unknown_code", value=quoted(value)),
                attributes,
            )
            return None
        river = attributes.get(layout.river_code or "", "") if layout.river_code else ""
        name = attributes.get(layout.river_name or "", "") if layout.river_name else ""
        key = f"{layout.dataset}:{layout.scenario}:{_slug(river)}:{rank.code}:{digest}"
        return HazardZoneRecord(
            source_key=key,
            kind="flood",
            source_dataset=layout.dataset,
            rank_code=rank.code,
            rank_label=rank.label,
            depth_min_m=rank.depth_min_m,
            depth_max_m=rank.depth_max_m,
            phenomenon=None,
            name=name or None,
            attributes={**attributes, "scenario": layout.scenario or ""},
            geometry=polygon,
            severity=rank.depth_min_m,
            file=label,
            row=number,
        )
    columns = {c.lower(): c for c in attributes}
    phenomenon_code = attributes.get(columns.get("a33_001", ""), "")
    zone_code = attributes.get(columns.get("a33_002", ""), "")
    for column, code, known in (
        ("A33_001", phenomenon_code, codes.LANDSLIDE_PHENOMENA),
        ("A33_002", zone_code, codes.LANDSLIDE_ZONES),
    ):
        if code not in known:
            _reject(
                batch,
                label,
                number,
                columns.get(column.lower(), column),
                reason("importers.problem.unknown_code", value=quoted(code)),
                attributes,
            )
            return None
    zone_number = "-".join(attributes.get(columns.get(c, ""), "") for c in ("a33_003", "a33_004"))
    name = attributes.get(columns.get("a33_005", ""), "") or None
    key = f"A33:{_slug(zone_number)}:{phenomenon_code}:{zone_code}:{digest}"
    return HazardZoneRecord(
        source_key=key,
        kind="landslide",
        source_dataset="A33",
        rank_code=zone_code,
        rank_label=codes.LANDSLIDE_ZONES[zone_code],
        depth_min_m=None,
        depth_max_m=None,
        phenomenon=codes.LANDSLIDE_PHENOMENA[phenomenon_code],
        name=name[:200] if name else None,
        attributes=attributes,
        geometry=polygon,
        severity=codes.LANDSLIDE_ZONE_SEVERITY[zone_code],
        file=label,
        row=number,
    )


def _slug(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z_.-]", "", text)[:40]
