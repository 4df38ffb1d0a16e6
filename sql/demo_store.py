"""Loading and removing the demo city (``bosai demo``) in one transaction.

The database remembers which demo it holds (``meta['demo']``: seed, size, start, version), so a
second ``bosai demo`` with the same parameters changes nothing, and the dashboard knows it is
showing synthetic data. The demo never mixes with real data: it refuses a database that holds
non-synthetic citizens or incidents.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bosai.errors import BosaiError

from . import audit
from .bulk import bulk_insert
from .consent import rebuild_state
from .ingest import rebuild_latest_status
from .models import Base, Citizen, Incident, Meta
from .models.base import utcnow
from .viewer import Viewer

#: Activity rows of the demo's decisions that HQ's actions also write to the audit chain.
AUDITED_DEMO_ACTIONS = ("evacuation_issued", "evacuation_lifted")

#: Tables the demo writes to, children before parents (the order to delete in).
DEMO_TABLES_DELETE_ORDER = (
    "safety_observations",
    "follow_up_events",
    "follow_ups",
    "evacuee_stays",
    "walk_ins",
    "evacuation_plans",
    "drill_events",
    "drills",
    "staff",
    "incident_activity",
    "evacuation_issuances",
    "water_level_observations",
    "river_stations",
    "evacuation_areas",
    "notification_events",
    "notification_requests",
    "shelter_occupancy",
    "rescue_request_events",
    "rescue_requests",
    "location_fixes",
    "citizen_latest_status",
    "status_reports",
    "shelter_operations",
    "jma_warnings",
    "jma_telegrams",
    "consent_state",
    "consent_events",
    "support_register",
    "citizens",
    "households",
    "hazard_zones",
    "shelters",
    "incidents",
)


def demo_state(engine: Engine) -> dict[str, Any] | None:
    """The parameters of the demo this database holds, or None."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(Meta.value).where(Meta.key == "demo")).first()
    return row[0] if row else None


def is_demo_database(engine: Engine) -> bool:
    """True when ``bosai demo`` marked this database as a demo (``meta['demo']``); DEMO mode
    runs only there — a fresh production database, even with no citizens yet, is not one.
    One primary-key lookup (the dashboard asks on every run path)."""
    return demo_state(engine) is not None


def holds_real_data(engine: Engine) -> bool:
    """True when the database has any non-synthetic citizen or incident."""
    with engine.connect() as conn:
        citizens = conn.execute(
            sa.select(sa.func.count()).select_from(Citizen).where(Citizen.is_synthetic.is_(False))
        ).scalar_one()
        incidents = conn.execute(
            sa.select(sa.func.count()).select_from(Incident).where(Incident.is_synthetic.is_(False))
        ).scalar_one()
    return bool(citizens or incidents)


def is_empty(engine: Engine) -> bool:
    """No citizens, incidents or shelters yet (a fresh database)."""
    with engine.connect() as conn:
        for table in ("citizens", "incidents", "shelters"):
            t = Base.metadata.tables[table]
            if conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one():
                return False
    return True


def _reset_sequences(conn: Connection, tables: list[str]) -> None:
    """After explicit ids on PostgreSQL, move each serial past the highest id."""
    if conn.dialect.name != "postgresql":
        return
    for name in tables:
        table = Base.metadata.tables[name]
        if "id" not in table.c or not table.c.id.autoincrement:
            continue
        # Table names come from our own metadata, never from input.
        max_id = f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {name})"  # noqa: S608
        conn.execute(
            sa.text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), {max_id}, false)")
        )


def _audit_decisions(conn: Connection, activity: list[dict[str, Any]]) -> int:
    """One audit row per demo decision of :data:`AUDITED_DEMO_ACTIONS`, as
    :func:`sql.actions.activity.log_action` writes it for HQ (the chain keeps the wall clock)."""
    rows = [a for a in activity if a["action"] in AUDITED_DEMO_ACTIONS]
    for a in rows:
        viewer = Viewer(role="hq", subject=a["actor"], demo=True, incident_id=a["incident_id"])
        audit.append(
            conn,
            viewer,
            f"write:{a['action']}",
            target=f"{a['target_type']}:{a['target_id']}",
            details=a["details"],
        )
    return len(rows)


def load_demo(
    engine: Engine,
    tables: dict[str, list[dict[str, Any]]],
    meta: dict[str, Any],
    progress: Callable[[str, int], None] | None = None,
    before_insert: Callable[[Connection], None] | None = None,
) -> dict[str, int]:
    """Write the demo's rows in one transaction; returns rows written per table."""
    written: dict[str, int] = {}
    with engine.begin() as conn:
        if before_insert is not None:
            before_insert(conn)
        for name, rows in tables.items():
            if not rows:
                continue
            written[name] = bulk_insert(conn, Base.metadata.tables[name], rows)
            if progress:
                progress(name, len(rows))
        written["audit_log"] = _audit_decisions(conn, tables.get("incident_activity", []))
        written["consent_state"] = rebuild_state(conn)
        written["citizen_latest_status"] = rebuild_latest_status(conn)
        _reset_sequences(conn, list(tables))
        conn.execute(sa.delete(Meta.__table__).where(Meta.key == "demo"))
        conn.execute(sa.insert(Meta.__table__).values(key="demo", value=meta, updated_at=utcnow()))
    return written


def remove_demo(engine: Engine) -> None:
    """Delete every synthetic row the demo wrote (for ``bosai demo --replace``)."""
    if holds_real_data(engine):
        raise BosaiError("this database holds real data; the demo will not touch it")
    with engine.begin() as conn:
        for name in DEMO_TABLES_DELETE_ORDER:
            conn.execute(sa.delete(Base.metadata.tables[name]))
        conn.execute(sa.delete(Meta.__table__).where(Meta.key == "demo"))
