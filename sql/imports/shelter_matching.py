"""Find the stored shelter a record is — by its ID, or as the same site from another list.

The same site is often published twice: as a GSI 指定緊急避難場所 and a GSI 指定避難所 (two
共通IDs), and again in the city's standard list (a third ID). Those become one shelter that
keeps every ID: ``standard_id``, ``gsi_id``, and a second GSI ID in ``local_id`` as
``gsi:<共通ID>`` (the schema has one GSI column; see the notes in the report).

A record joins an existing shelter when
- it comes from another source (GSI vs standard list) and the site has the same name and
  address, or lies within 30 m — the nearest such site, preferring one with the same name;
  several unnamed candidates within 30 m are ambiguous and do not merge;
- it comes from the other GSI list and has the same name and address, or the same name within
  30 m (two different facilities of one school at one address stay apart);
and only when the shelter still has a free slot for the record's ID.
"""

from __future__ import annotations

import dataclasses
import math
import re
import unicodedata
from typing import Any

from importers.shelter_record import ShelterRecord

GSI_LOCAL_PREFIX = "gsi:"
#: Grid cell for the distance search (degrees): larger than the merge distance everywhere in Japan.
_CELL_DEG = 0.0005
_EARTH_RADIUS_M = 6_371_008.8

_SPACES = re.compile(r"\s+")
_DASHES = re.compile(r"[‐‑‒–—―−ｰー－]")
_PREFECTURE = re.compile(r"^(北海道|東京都|大阪府|京都府|.{2,3}県)")


def normalise_name(text: str | None) -> str:
    return _SPACES.sub("", unicodedata.normalize("NFKC", text or "")).lower()


def normalise_address(text: str | None) -> str:
    value = _SPACES.sub("", unicodedata.normalize("NFKC", text or ""))
    value = _PREFECTURE.sub("", value)
    value = _DASHES.sub("-", value)
    for word, replacement in (("丁目", "-"), ("番地", "-"), ("番", "-"), ("号", ""), ("の", "-")):
        value = value.replace(word, replacement)
    value = re.sub(r"-+", "-", value).strip("-")
    return value


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@dataclasses.dataclass(eq=False)
class ShelterEntry:
    """A stored shelter (or one about to be inserted) as column values."""

    values: dict[str, Any]
    is_new: bool = False

    @property
    def gsi_ids(self) -> set[str]:
        ids = {self.values.get("gsi_id")}
        local = self.values.get("local_id") or ""
        if local.startswith(GSI_LOCAL_PREFIX):
            ids.add(local[len(GSI_LOCAL_PREFIX) :])
        return {i for i in ids if i}

    def free_gsi_slot(self) -> str | None:
        """The column a further GSI ID would go to (None when both are taken)."""
        if not self.values.get("gsi_id"):
            return "gsi_id"
        if not self.values.get("local_id"):
            return "local_id"
        return None


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return int(math.floor(lat / _CELL_DEG)), int(math.floor(lon / _CELL_DEG))


class ShelterIndex:
    """Stored shelters indexed by ID, by name + address and by position."""

    def __init__(self, merge_distance_m: float = 30.0):
        self.merge_distance_m = merge_distance_m
        self.entries: list[ShelterEntry] = []
        self._by_id: dict[tuple[str, str], ShelterEntry] = {}
        self._by_name_address: dict[tuple[str, str], list[ShelterEntry]] = {}
        self._grid: dict[tuple[int, int], list[ShelterEntry]] = {}

    # -- maintenance ---------------------------------------------------------------------
    def add(self, entry: ShelterEntry) -> None:
        self.entries.append(entry)
        self._index(entry)

    def reindex(self, entry: ShelterEntry, before: dict[str, Any]) -> None:
        """Call after changing an entry's values (``before``: its values before the change)."""
        self._unindex(entry, before)
        self._index(entry)

    def _keys(self, values: dict[str, Any]):
        ids = []
        if values.get("standard_id"):
            ids.append(("standard", values["standard_id"]))
        if values.get("gsi_id"):
            ids.append(("gsi", values["gsi_id"]))
        local = values.get("local_id")
        if local:
            if local.startswith(GSI_LOCAL_PREFIX):
                ids.append(("gsi", local[len(GSI_LOCAL_PREFIX) :]))
            ids.append(("local", local))
        name_address = (
            normalise_name(values.get("name")),
            normalise_address(values.get("address")),
        )
        return ids, name_address, _cell(values["lat"], values["lon"])

    def _index(self, entry: ShelterEntry) -> None:
        ids, name_address, cell = self._keys(entry.values)
        for key in ids:
            self._by_id[key] = entry
        if name_address[1]:
            self._by_name_address.setdefault(name_address, []).append(entry)
        self._grid.setdefault(cell, []).append(entry)

    def _unindex(self, entry: ShelterEntry, values: dict[str, Any]) -> None:
        ids, name_address, cell = self._keys(values)
        for key in ids:
            if self._by_id.get(key) is entry:
                del self._by_id[key]
        bucket = self._by_name_address.get(name_address, [])
        if entry in bucket:
            bucket.remove(entry)
        cell_bucket = self._grid.get(cell, [])
        if entry in cell_bucket:
            cell_bucket.remove(entry)

    # -- lookups -------------------------------------------------------------------------
    def by_id(self, record: ShelterRecord) -> ShelterEntry | None:
        for key in (
            ("standard", record.standard_id),
            ("gsi", record.gsi_id),
            ("local", record.local_id),
        ):
            if key[1] and key in self._by_id:
                return self._by_id[key]
        return None

    def near(self, lat: float, lon: float) -> list[tuple[float, ShelterEntry]]:
        row, col = _cell(lat, lon)
        found = []
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                for entry in self._grid.get((row + dr, col + dc), ()):
                    d = distance_m(lat, lon, entry.values["lat"], entry.values["lon"])
                    if d <= self.merge_distance_m:
                        found.append((d, entry))
        return sorted(found, key=lambda pair: pair[0])

    def merge_candidate(self, record: ShelterRecord) -> ShelterEntry | None:
        """The shelter this record is the same site as (from another list), if any."""
        name = normalise_name(record.name)
        address = normalise_address(record.address)
        same_place = self._by_name_address.get((name, address), []) if address else []
        for entry in same_place:
            if self._eligible(record, entry):
                return entry
        nearby = [(d, e) for d, e in self.near(record.lat, record.lon) if self._eligible(record, e)]
        named = [e for _, e in nearby if normalise_name(e.values.get("name")) == name]
        if named:
            return named[0]
        cross_source = [e for _, e in nearby if e.values.get("source") != record.source]
        if len(cross_source) == 1:
            return cross_source[0]
        return None

    @staticmethod
    def _eligible(record: ShelterRecord, entry: ShelterEntry) -> bool:
        values = entry.values
        if record.standard_id and values.get("standard_id"):
            return False
        if record.gsi_id and entry.free_gsi_slot() is None:
            return False
        if record.local_id and values.get("local_id"):
            return False
        return (
            record.standard_id is not None
            or record.gsi_id is not None
            or record.local_id is not None
        )
