"""Small cached helpers between the pages and ``sql``.

``st.cache_resource`` keeps one engine per database URL and purpose: ``primary`` for writes,
staff actions and personal reads (they append to the audit chain), ``aggregate`` for reads that
may come from a streaming replica (``BOSAI_DATABASE_REPLICA_URL``; :func:`sql.engine.url_for`).
The cached aggregates below read through the aggregate engine. Cached data is keyed by what makes it
differ (database URL, incident, role where it matters) — ``st.cache_data`` is shared by every
session, so nothing personal is ever cached here.
"""

from __future__ import annotations

import streamlit as st
from sqlalchemy.engine import Engine

from sql.engine import make_engine, url_for


@st.cache_resource(show_spinner=False)
def _engine(url: str) -> Engine:
    return make_engine(url)


def engine_for(database_url: str, purpose: str = "primary") -> Engine:
    """The engine for ``purpose`` (``primary`` or ``aggregate``), one per URL per process."""
    return _engine(url_for(database_url, purpose))


@st.cache_data(ttl=5, show_spinner=False)
def city_overview(database_url: str, incident_id: int | None):
    from sql.queries.overview import city_overview as query

    return query(engine_for(database_url, "aggregate"), incident_id)


@st.cache_data(ttl=5, show_spinner=False)
def current_incident(database_url: str):
    """The incident or drill in force, or None: once it ends every live page shows the state
    as it is now (normal time: no incident's warnings, clock or demo time). Looking back at an
    ended one is the replay's and the reports' job, which choose it themselves."""
    from sql.queries.incidents import active_incident

    return active_incident(engine_for(database_url, "aggregate"))


@st.cache_resource(show_spinner=False)
def hq_cache(database_url: str):
    """The HQ map's memory for one database (home points on H3, zones, live status)."""
    from compositions.hq_map_state import HqMapCache

    return HqMapCache()


@st.cache_data(ttl=5, show_spinner=False)
def source_health(database_url: str) -> list[dict]:
    """Data feeds and whether they are stale (not personal)."""
    from sql.queries.overview import city_overview as query

    return query(engine_for(database_url, "aggregate"), None).sources


@st.cache_data(ttl=300, show_spinner=False)
def tiles_reachable(url: str) -> bool:
    """Whether the GSI map tiles load from here (checked at most every five minutes)."""
    from dashboard.basemap import tiles_reachable as probe

    return probe(url)


@st.cache_resource(show_spinner=False)
def safety_cache(database_url: str):
    """The safety picture's memory for one database (people, home zones, the merge's inputs;
    ids and codes only — names are read per view through the policy)."""
    from compositions.safety_state import SafetyCache

    return SafetyCache()


@st.cache_data(ttl=10, show_spinner=False)
def safety_summary(database_url: str, incident_id: int | None) -> dict:
    """Aggregates of the safety picture for the HQ map (shared by every session; no person):
    key figures, evacuees by place, and unaccounted people per district with a position."""
    from compositions.safety_state import build_safety_state, district_points
    from sql.city_config import active_city

    engine = engine_for(database_url)
    state = build_safety_state(engine, safety_cache(database_url), incident_id, active_city(engine))
    return {
        "counts": state.counts,
        "places": state.places,
        "districts": district_points(state),
        "coverage": state.coverage,
    }
