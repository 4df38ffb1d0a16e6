"""What every page gets: the engine, the viewer, the language, the city, label lookup.

A page calls :func:`current` once at the top and uses only that: its data through ``sql``
queries (passing ``ctx.viewer`` to anything that returns personal data; aggregate reads may use
``ctx.aggregates``, a read replica when one is configured), its computations
through ``analytics``, its labels through ``ctx.t``.
"""

from __future__ import annotations

import dataclasses

import streamlit as st
from sqlalchemy.engine import Engine

from bosai.i18n import t as translate
from sql.city_config import CityConfig
from sql.viewer import Viewer

SESSION_KEY = "_bosai_page_context"


@dataclasses.dataclass(frozen=True)
class PageContext:
    engine: Engine
    database_url: str
    viewer: Viewer
    lang: str
    city: CityConfig
    large_type: bool = False
    demo: bool = False
    #: Aggregate reads (map cells, KPIs, boards): a streaming replica when one is configured.
    read_engine: Engine | None = None

    @property
    def aggregates(self) -> Engine:
        """The engine for aggregate reads (the replica, else the primary)."""
        return self.read_engine or self.engine

    def t(self, key: str, **values) -> str:
        """The catalog label for ``key`` in the session's language."""
        return translate(key, self.lang, **values)


def current() -> PageContext:
    """The context the app shell set up for this run (see :mod:`dashboard.shell`)."""
    ctx = st.session_state.get(SESSION_KEY)
    if ctx is None:
        raise RuntimeError("dashboard page run outside the app shell: start dashboard/app.py")
    return ctx


def install(ctx: PageContext) -> None:
    st.session_state[SESSION_KEY] = ctx
