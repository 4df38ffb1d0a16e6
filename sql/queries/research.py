"""Reads of the research workbench: survey responses, UI/UX timings, consent ledger, drill logs.

The frames returned here are the inputs of the pure functions in ``analytics/``; pages and the
CLI show only the aggregates those functions compute. Reads that touch citizens (consent ledger,
attributes, drill events, the support register) take a :class:`~sql.viewer.Viewer` in the
``researcher`` or ``admin`` role and return **pseudonymised** rows: the internal citizen id, an
age band and sex — never names, addresses, phone numbers, birth dates or positions. Each such
read is appended to the audit log (:mod:`sql.audit`) naming the citizens it touched, so a
citizen's access report shows the research use of their data; callers turn the rows into
aggregates (the pages cache only those).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import orjson
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .. import audit
from ..consent import ConsentFact, ledger_select
from ..frames import query_frame
from ..models import (
    Citizen,
    ConsentEvent,
    Drill,
    DrillEvent,
    SupportRegisterEntry,
    SurveyInstrument,
    SurveyResponse,
    UiuxSession,
    UiuxTaskTiming,
)
from ..viewer import Viewer

RESEARCH_ROLES = ("researcher", "admin")
#: Age bands (lower bound, code) used for citizens' attributes, as in the drill questionnaire.
AGE_BANDS = (
    (70, "70plus"),
    (60, "60s"),
    (50, "50s"),
    (40, "40s"),
    (30, "30s"),
    (20, "20s"),
    (0, "under20"),
)


def _require_research(viewer: Viewer) -> None:
    if viewer.role not in RESEARCH_ROLES:
        raise PermissionError(
            f"role {viewer.role!r} may not read research data (researcher or admin only)"
        )


def _audit(engine: Engine, viewer: Viewer, target: str, citizen_ids, rows: int) -> None:
    ids = sorted({int(c) for c in citizen_ids if c is not None and not pd.isna(c)})
    audit.record(
        engine,
        viewer,
        "read",
        target=f"research.{target}",
        citizen_ids=ids,
        details={"rows": int(rows), "pseudonymised": True, "purpose": viewer.purpose},
    )


def age_band(birth: dt.date | None, on: dt.date) -> str | None:
    """The age band of someone born on ``birth`` at the date ``on``.

    >>> age_band(dt.date(1950, 3, 12), dt.date(2022, 3, 11)), age_band(None, dt.date(2022, 3, 11))
    ('70plus', None)
    """
    if birth is None:
        return None
    years = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    return next(code for lower, code in AGE_BANDS if years >= lower)


def _frame(engine: Engine, stmt) -> pd.DataFrame:
    """The statement's rows as a frame, its columns named as selected."""
    with engine.connect() as conn:
        return query_frame(conn, stmt)


# ---------------------------------------------------------------- surveys


def instruments(engine: Engine) -> list[dict[str, Any]]:
    """Instruments with at least their definition loaded, with their number of responses."""
    inst = SurveyInstrument.__table__
    resp = SurveyResponse.__table__
    stmt = (
        sa.select(
            inst.c.id,
            inst.c.version,
            inst.c.title_ja,
            inst.c.title_en,
            sa.func.count(resp.c.id).label("responses"),
        )
        .select_from(inst.outerjoin(resp, resp.c.instrument_id == inst.c.id))
        .group_by(inst.c.id, inst.c.version, inst.c.title_ja, inst.c.title_en)
        .order_by(inst.c.id)
    )
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def instrument_definition(engine: Engine, instrument_id: str) -> dict[str, Any] | None:
    """The instrument definition stored at import (the YAML mapping)."""
    inst = SurveyInstrument.__table__
    with engine.connect() as conn:
        return conn.execute(
            sa.select(inst.c.definition).where(inst.c.id == instrument_id)
        ).scalar_one_or_none()


def survey_responses(
    engine: Engine, instrument_id: str, drill_id: int | None = None
) -> pd.DataFrame:
    """One row per response: metadata columns plus one column per item.

    Likert, number and duration items hold numbers (raw, not reverse-coded); choice items hold
    option codes (multiple choice: codes joined by ``;``); free text holds the text.
    """
    resp = SurveyResponse.__table__
    meta_cols = [
        "id",
        "respondent_key",
        "submitted_at",
        "participant_type",
        "age_band",
        "sex",
        "drill_id",
    ]
    # The answers' JSON as stored (text), decoded below by orjson: 3x json's speed.
    answers = sa.type_coerce(resp.c.answers, sa.Text).label("answers")
    stmt = sa.select(*[resp.c[c] for c in meta_cols], answers).where(
        resp.c.instrument_id == instrument_id
    )
    if drill_id is not None:
        stmt = stmt.where(resp.c.drill_id == drill_id)
    with engine.connect() as conn:
        read = query_frame(conn, stmt.order_by(resp.c.id))
    meta = read.drop(columns="answers").rename(columns={"id": "response_id"})
    objects = [orjson.loads(text) if text else {} for text in read["answers"]]
    if not any(objects):
        return meta
    wide = _answers_wide(read["id"], objects)
    # Items copied onto the response (maps_to: participant_type, age_band, sex) may share the
    # metadata column's name: the metadata column already holds the same code.
    wide = wide.drop(columns=[c for c in wide.columns if c in meta.columns])
    return meta.merge(wide, left_on="response_id", right_index=True, how="left")


def _answers_wide(response_ids: pd.Series, answers: list[dict[str, Any]]) -> pd.DataFrame:
    """Each response's answers (``{item id: number or text}``) as one column per item (sorted
    by item id), indexed by response id; a column whose every answer is a number is float, any
    other keeps its texts beside its numbers (as floats). One JSON object per response: 10,000
    responses × 40 items are 10,000 rows to read (the read of the survey page went from ~2.3 s
    to ~0.9 s gathering a row per answer into such objects in SQL, and less once they were
    stored so, migration 0020)."""
    index = pd.Index(response_ids.to_numpy(), name="response_id")
    wide = pd.DataFrame.from_records(answers, index=index).sort_index(axis=1)
    for col in wide.columns:
        if wide[col].dtype != object:
            wide[col] = wide[col].astype(float)
            continue
        converted = pd.to_numeric(wide[col], errors="coerce")
        if converted.notna().sum() == wide[col].notna().sum():
            wide[col] = converted.astype(float)
        else:
            wide[col] = wide[col].map(_number_as_float)
    return wide


def _number_as_float(value: Any) -> Any:
    """A JSON number of a mixed column as a float (as the database stores it), a text as is."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


# ---------------------------------------------------------------- UI/UX


def uiux_sessions(engine: Engine) -> pd.DataFrame:
    s = UiuxSession.__table__
    t = UiuxTaskTiming.__table__
    stmt = (
        sa.select(
            s.c.id,
            s.c.external_id,
            s.c.name,
            s.c.held_on,
            s.c.location,
            sa.func.count(t.c.id).label("timings"),
        )
        .select_from(s.outerjoin(t, t.c.session_id == s.c.id))
        .group_by(s.c.id, s.c.external_id, s.c.name, s.c.held_on, s.c.location)
        .order_by(s.c.held_on, s.c.id)
    )
    return _frame(engine, stmt)


def uiux_timings(engine: Engine, sessions: list[str] | None = None) -> pd.DataFrame:
    """Task timings (``participant, group, task, method, seconds, success, error_count, session``)."""
    s = UiuxSession.__table__
    t = UiuxTaskTiming.__table__
    stmt = sa.select(
        t.c.participant,
        t.c.participant_group.label("group"),
        t.c.task,
        t.c.method,
        t.c.seconds,
        t.c.success,
        t.c.error_count,
        s.c.external_id.label("session"),
    ).join(s, s.c.id == t.c.session_id)
    if sessions:
        stmt = stmt.where(s.c.external_id.in_(sessions))
    stmt = stmt.order_by(s.c.external_id, t.c.task, t.c.participant, t.c.method)
    frame = _frame(engine, stmt)
    frame["seconds"] = frame["seconds"].astype(float)
    return frame


# ---------------------------------------------------------------- consent (opt-in)


def consent_ledger(engine: Engine, viewer: Viewer) -> pd.DataFrame:
    """The consent ledger, pseudonymised: ``citizen_id, data_item, share_target, event_type,
    occurred_at, expires_at, event_id``."""
    _require_research(viewer)
    ev = ConsentEvent.__table__
    stmt = ledger_select().order_by(ev.c.occurred_at, ev.c.id)
    cols = [field.name for field in dataclasses.fields(ConsentFact)]  # ledger_select's rows
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(stmt).all(), columns=cols)
    _audit(engine, viewer, "consent_ledger", frame["citizen_id"], len(frame))
    return frame


def citizen_attributes(
    engine: Engine, viewer: Viewer, on: dt.date, citizen_ids: set[int] | None = None
) -> pd.DataFrame:
    """``citizen_id, age_band, sex`` (age band at ``on``; the birth date itself never leaves)."""
    _require_research(viewer)
    c = Citizen.__table__
    stmt = sa.select(c.c.id, c.c.birth_date, c.c.sex).order_by(c.c.id)
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    frame = pd.DataFrame(
        [
            (cid, age_band(birth, on), sex)
            for cid, birth, sex in rows
            if citizen_ids is None or cid in citizen_ids
        ],
        columns=["citizen_id", "age_band", "sex"],
    )
    _audit(engine, viewer, "citizen_attributes", frame["citizen_id"], len(frame))
    return frame


def citizen_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(Citizen.__table__)).scalar_one()


def register_citizen_ids(engine: Engine, viewer: Viewer) -> set[int]:
    """Ids of citizens on the evacuation-support register."""
    _require_research(viewer)
    with engine.connect() as conn:
        ids = set(conn.execute(sa.select(SupportRegisterEntry.__table__.c.citizen_id)).scalars())
    _audit(engine, viewer, "support_register_ids", ids, len(ids))
    return ids


# ---------------------------------------------------------------- drills


def drills(engine: Engine) -> pd.DataFrame:
    d = Drill.__table__
    e = DrillEvent.__table__
    stmt = (
        sa.select(
            d.c.id,
            d.c.external_id,
            d.c.name,
            d.c.scenario,
            d.c.started_at,
            d.c.ended_at,
            d.c.is_synthetic,
            sa.func.count(e.c.id).label("events"),
        )
        .select_from(d.outerjoin(e, e.c.drill_id == d.c.id))
        .group_by(
            d.c.id,
            d.c.external_id,
            d.c.name,
            d.c.scenario,
            d.c.started_at,
            d.c.ended_at,
            d.c.is_synthetic,
        )
        .order_by(d.c.started_at, d.c.id)
    )
    return _frame(engine, stmt)


def drill(engine: Engine, ref: str | int) -> dict[str, Any] | None:
    """One drill by database id or external id."""
    d = Drill.__table__
    cond = d.c.external_id == str(ref)
    if str(ref).isdigit():
        cond = sa.or_(cond, d.c.id == int(ref))
    with engine.connect() as conn:
        row = conn.execute(sa.select(d).where(cond).order_by(d.c.id)).mappings().first()
    return dict(row) if row else None


def drill_events(engine: Engine, viewer: Viewer, drill_id: int) -> pd.DataFrame:
    """``participant, citizen_id, group, event_type, at`` for one drill (pseudonymised).

    ``participant`` is ``c<citizen id>`` for citizens and the log's own participant key (from
    ``details.participant``) for people without a citizen record (visitors).
    """
    _require_research(viewer)
    e = DrillEvent.__table__
    stmt = (
        sa.select(
            e.c.id, e.c.citizen_id, e.c.participant_group, e.c.event_type, e.c.at, e.c.details
        )
        .where(e.c.drill_id == drill_id)
        .order_by(e.c.at, e.c.id)
    )
    rows = []
    with engine.connect() as conn:
        for ev_id, citizen_id, group, event_type, at, details in conn.execute(stmt):
            if citizen_id is not None:
                participant = f"c{citizen_id}"
            elif isinstance(details, dict) and details.get("participant"):
                participant = f"p{details['participant']}"
            else:
                participant = f"e{ev_id}"
            rows.append((participant, citizen_id, group, event_type, at))
        rows += _reception_arrivals(conn, drill_id, rows)
    frame = pd.DataFrame(rows, columns=["participant", "citizen_id", "group", "event_type", "at"])
    frame = frame.sort_values("at", kind="stable").reset_index(drop=True)
    _audit(engine, viewer, f"drill_events:{drill_id}", frame["citizen_id"], len(frame))
    return frame


def _reception_arrivals(conn, drill_id: int, rows: list[tuple]) -> list[tuple]:
    """Check-ins at shelter reception during the drill's incident, as ``arrived`` events of the
    people checked in (their group as in the log, else ``resident``): arrival times come from
    the reception desk even when the app never said so (issue 18)."""
    from ..models import EvacueeStay

    incident = conn.execute(
        sa.select(Drill.__table__.c.incident_id).where(Drill.__table__.c.id == drill_id)
    ).scalar()
    if incident is None:
        return []
    st = EvacueeStay.__table__
    groups = {c: g for _, c, g, _, _ in rows if c is not None}
    found = conn.execute(
        sa.select(st.c.citizen_id, sa.func.min(st.c.arrived_at))
        .where(
            st.c.incident_key == incident,
            st.c.place_kind == "shelter",
            st.c.citizen_id.is_not(None),
        )
        .group_by(st.c.citizen_id)
    ).all()
    return [(f"c{c}", c, groups.get(c, "resident"), "arrived", at) for c, at in found]
