"""CAP 1.2 messages (OASIS Common Alerting Protocol; ITU-T X.1303) for HQ's evacuation
decisions, and an Atom feed of the messages currently in force.

One message per decision (the rows of :mod:`sql.actions.evacuation` sharing a
``decision_key``):

- ``status`` ``Exercise`` for a drill's decision (with a ``note``), ``Actual`` otherwise;
- ``msgType`` ``Alert`` for a first issuance in its areas, ``Update`` when it changes a level
  in force, ``Cancel`` for a lift — ``references`` naming the earlier messages
  (``sender,identifier,sent``) it updates or cancels;
- one ``info`` block in ``ja-JP`` and one in ``en-US``: event 避難情報, response type
  (Evacuate for levels 3–4, Shelter for 5 — 緊急安全確保 is "secure your life where you are" —,
  AllClear for a lift), urgency / severity / certainty by level, headline, description,
  instruction (the standard text per level);
- one ``area`` per issuance area: its name and its polygons as ``lat,lon`` pairs (first =
  last); CAP polygons have no holes, so interior rings are left out.

Times are Japan time with the offset (``2026-07-01T21:05:00+09:00``), as the schema's pattern
wants. :class:`Publisher` is the interface a channel implements (the Atom feed here; an L-Alert
adapter, whose format is given only to registered partners, can be added beside it).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Protocol

import shapely
from sqlalchemy.engine import Engine

from bosai.i18n import t
from bosai.jpdate import jst
from sql.city_config import CityConfig, active_city
from sql.queries import evacuation as evq

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
CAP_MIME = "application/cap+xml"
LANGUAGES = (("ja", "ja-JP"), ("en", "en-US"))

#: Per level: responseType, urgency, severity, certainty.
LEVEL_TERMS = {
    3: ("Evacuate", "Expected", "Moderate", "Likely"),
    4: ("Evacuate", "Immediate", "Severe", "Likely"),
    5: ("Shelter", "Immediate", "Extreme", "Observed"),
    None: ("AllClear", "Past", "Minor", "Observed"),
}


class Publisher(Protocol):
    """A channel that takes a decision's CAP message (the feed; L-Alert's adapter later)."""

    def publish(self, identifier: str, cap_xml: bytes) -> str:
        """Hand the message over; returns what the channel says happened."""
        ...


def cap_time(value: dt.datetime) -> str:
    """``YYYY-MM-DDThh:mm:ss+09:00`` (the schema refuses ``Z`` and fractions)."""
    return jst(value).replace(microsecond=0).isoformat()


def sender(city: CityConfig) -> str:
    """The sender: ``settings.cap_sender`` of the city, else ``jp.lg.<code>.bosai``."""
    configured = (city.settings or {}).get("cap_sender")
    return str(configured) if configured else f"jp.lg.{city.municipality_code}.bosai"


def identifier(city: CityConfig, first_id: int) -> str:
    """A stable identifier for a decision (no spaces, commas, ``<`` or ``&``)."""
    return f"{sender(city)}.evacuation.{int(first_id)}"


def polygons(wkb: bytes) -> list[str]:
    """The exterior rings of an area as CAP polygons (``lat,lon`` pairs, closed)."""
    geometry = shapely.from_wkb(wkb)
    parts = list(geometry.geoms) if geometry.geom_type == "MultiPolygon" else [geometry]
    out = []
    for part in parts:
        coords = list(part.exterior.coords)
        if coords[0] != coords[-1]:
            coords.append(coords[0])
        out.append(" ".join(f"{lat:.6f},{lon:.6f}" for lon, lat, *_ in coords))
    return out


def _sub(parent: ET.Element, name: str, text: Any = None) -> ET.Element:
    element = ET.SubElement(parent, f"{{{CAP_NS}}}{name}")
    if text is not None:
        element.text = str(text)
    return element


def _clean(text: str) -> str:
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", text)


def _area_name(row: Any, lang: str) -> str:
    return row["area_name_en"] if lang == "en" and row["area_name_en"] else row["area_name_ja"]


def build_alert(
    city: CityConfig,
    rows: list[dict[str, Any]],
    first_id: int,
    references: list[tuple[int, dt.datetime]],
) -> bytes:
    """The CAP document for one decision's rows (dicts with ``action``, ``level``,
    ``previous_level``, ``issued_at``, ``reason``, ``is_exercise``, ``incident_id``,
    ``area_name_ja``, ``area_name_en``, ``geom_wkb``)."""
    head = rows[0]
    lift = head["action"] == "lift"
    level = None if lift else int(head["level"])
    updates = any(r["previous_level"] is not None for r in rows)
    msg_type = "Cancel" if lift else ("Update" if updates and references else "Alert")
    ET.register_namespace("", CAP_NS)
    alert = ET.Element(f"{{{CAP_NS}}}alert")
    _sub(alert, "identifier", identifier(city, first_id))
    _sub(alert, "sender", sender(city))
    _sub(alert, "sent", cap_time(head["issued_at"]))
    _sub(alert, "status", "Exercise" if head["is_exercise"] else "Actual")
    _sub(alert, "msgType", msg_type)
    _sub(alert, "scope", "Public")
    if head["is_exercise"]:
        _sub(
            alert,
            "note",
            f"{t('evacuation.cap.exercise_note', 'ja')} / "
            f"{t('evacuation.cap.exercise_note', 'en')}",
        )
    if references:
        _sub(
            alert,
            "references",
            " ".join(
                f"{sender(city)},{identifier(city, ref_id)},{cap_time(at)}"
                for ref_id, at in references
            ),
        )
    _sub(alert, "incidents", f"{sender(city)}.incident.{int(head['incident_id'])}")
    response, urgency, severity, certainty = LEVEL_TERMS[level]
    for lang, language in LANGUAGES:
        city_name = city.name_ja if lang == "ja" else city.name_en
        separator = "、" if lang == "ja" else ", "
        names = separator.join(_area_name(r, lang) for r in rows)
        info = _sub(alert, "info")
        _sub(info, "language", language)
        _sub(info, "category", "Safety")
        _sub(info, "event", t("evacuation.cap.event", lang))
        _sub(info, "responseType", response)
        _sub(info, "urgency", urgency)
        _sub(info, "severity", severity)
        _sub(info, "certainty", certainty)
        _sub(info, "eventCode").extend(
            [_value("valueName", "JP-EvacuationLevel"), _value("value", str(level or 0))]
        )
        _sub(info, "senderName", t("evacuation.cap.sender_name", lang, city=city_name))
        if lift:
            headline = t("evacuation.cap.headline_lift", lang, city=city_name, areas=names)
        else:
            headline = t(
                "evacuation.cap.headline_issue",
                lang,
                city=city_name,
                level=t(f"evacuation.level.{level}", lang),
                areas=names,
            )
        _sub(info, "headline", _clean(headline))
        _sub(info, "description", _clean(str(head["reason"])))
        _sub(info, "instruction", t(f"evacuation.cap.instruction.{level or 'lift'}", lang))
        for r in rows:
            area = _sub(info, "area")
            _sub(area, "areaDesc", _clean(_area_name(r, lang)))
            for polygon in polygons(r["geom_wkb"]):
                _sub(area, "polygon", polygon)
    return ET.tostring(alert, encoding="utf-8", xml_declaration=True)


def _value(name: str, text: str) -> ET.Element:
    element = ET.Element(f"{{{CAP_NS}}}{name}")
    element.text = text
    return element


def decision_message(engine: Engine, decision_key: str) -> bytes:
    """The CAP message of a stored decision."""
    frame = evq.decision_rows(engine, decision_key)
    if frame.empty:
        raise KeyError(decision_key)
    rows = frame.to_dict("records")
    refs = evq.referenced_decisions(engine, decision_key)
    return build_alert(
        active_city(engine),
        rows,
        int(frame["id"].min()),
        [(r.first_id, r.issued_at) for r in refs],
    )


def atom_feed(engine: Engine, incident_id: int | None, base_url: str) -> bytes:
    """An Atom feed of the messages in force for an incident (newest first); each entry links
    its CAP message at ``{base_url}/{identifier}.xml``."""
    city = active_city(engine)
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed")

    def sub(parent: ET.Element, name: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM_NS}}}{name}", attrs)
        if text is not None:
            element.text = text
        return element

    base = base_url.rstrip("/")
    sub(feed, "id", f"{base}/feed.atom")
    sub(feed, "title", t("evacuation.cap.feed_title", "ja", city=city.name_ja))
    sub(feed, "link", rel="self", href=f"{base}/feed.atom")
    author = sub(feed, "author")
    sub(author, "name", t("evacuation.cap.sender_name", "ja", city=city.name_ja))
    entries = []
    for key in evq.current_decision_keys(engine, incident_id):
        ref = evq.decision_ref(engine, key)
        if ref is None:
            continue
        frame = evq.decision_rows(engine, key)
        head = frame.iloc[0]
        names = "、".join(frame["area_name_ja"])
        if head["action"] == "lift":
            title = t("evacuation.cap.headline_lift", "ja", city=city.name_ja, areas=names)
        else:
            title = t(
                "evacuation.cap.headline_issue",
                "ja",
                city=city.name_ja,
                level=t(f"evacuation.level.{int(head['level'])}", "ja"),
                areas=names,
            )
        if bool(head["is_exercise"]):
            title = f"{t('evacuation.cap.exercise_note', 'ja')} {title}"
        entries.append((ref, title))
    updated = max((ref.issued_at for ref, _ in entries), default=None)
    sub(feed, "updated", cap_time(updated or dt.datetime.now(dt.UTC)))
    for ref, title in sorted(entries, key=lambda e: e[0].first_id, reverse=True):
        ident = identifier(city, ref.first_id)
        entry = sub(feed, "entry")
        sub(entry, "id", f"urn:cap:{ident}")
        sub(entry, "title", _clean(title))
        sub(entry, "updated", cap_time(ref.issued_at))
        sub(entry, "link", rel="alternate", type=CAP_MIME, href=f"{base}/{ident}.xml")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


FEED_NAME = "feed.atom"


def _write_atomically(path: Path, data: bytes) -> None:
    """Write through a temporary file renamed over ``path`` (a reader never sees half a file)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def publish_dir(
    engine: Engine, incident_id: int | None, base_url: str, directory: Path
) -> list[Path]:
    """Write the feed (``feed.atom``) and the CAP message of every decision it lists
    (``{identifier}.xml``) into ``directory``, for a web server to serve at ``base_url`` — e.g.
    the dashboard's ``dashboard/static/evacuation`` served by Streamlit's static serving at
    ``https://<host>/app/static/evacuation/feed.atom`` (as ``application/atom+xml``). The CAP
    files first, the feed last, so the feed never links a file not yet written; messages no
    longer in force stay (later messages refer to them). Returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    city = active_city(engine)
    written = []
    for key in evq.current_decision_keys(engine, incident_id):
        ref = evq.decision_ref(engine, key)
        if ref is None:
            continue
        path = directory / f"{identifier(city, ref.first_id)}.xml"
        _write_atomically(path, decision_message(engine, key))
        written.append(path)
    feed = directory / FEED_NAME
    _write_atomically(feed, atom_feed(engine, incident_id, base_url))
    written.append(feed)
    return written
