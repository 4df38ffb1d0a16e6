"""Small shared pieces of the pages: the freshness banner, the KPI header, safe tables.

No business logic: each widget shows values it is given, with labels from the catalog.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pandas as pd
import streamlit as st

from bosai.i18n import t
from bosai.jpdate import clock, format_datetime

from . import gate
from .context import PageContext
from .text import plain

FRESH_KEY = "_bosai_last_good_data"


def remember_good_data(at: dt.datetime | None) -> None:
    st.session_state[FRESH_KEY] = at or dt.datetime.now(dt.UTC)


def last_good_data() -> dt.datetime | None:
    return st.session_state.get(FRESH_KEY)


def unreachable_banner(ctx: PageContext, what: str, error: BaseException) -> None:
    """Red banner: what failed and the time of the last good data. Never a traceback.

    For a page's live fragment, which refreshes by itself every ``refresh_seconds``."""
    outage_banner(ctx.lang, what, error)
    every = float(ctx.city.setting("refresh_seconds", 10))
    st.caption(ctx.t("outage.retrying", seconds=f"{every:g}"))


# ------------------------------------------------------------------ outages

LAST_GOOD_RUN_KEY = "_bosai_last_good_run"
OUTAGE_SINCE_KEY = "_bosai_outage_since"
RETURN_TO_KEY = "_bosai_return_to"
#: Seconds between checks while a service is down; the page reruns once it answers.
RETRY_SECONDS = 5.0
#: What the banner says about an error, by a fragment of its message (first match wins).
OUTAGE_REASONS = (
    ("locked", "outage.reason.locked"),
    ("lock timeout", "outage.reason.locked"),
    ("does not exist", "outage.reason.missing"),
    ("refused", "outage.reason.refused"),
    ("timed out", "outage.reason.timeout"),
    ("timeout", "outage.reason.timeout"),
    ("circuit open", "outage.reason.circuit"),
)


def remember_good_run() -> None:
    """The page ran through on live data: the banner's "last good data" if the page set none."""
    st.session_state[LAST_GOOD_RUN_KEY] = dt.datetime.now(dt.UTC)


def outage_reason(error: BaseException, lang: str) -> str:
    """The error's type and, where recognised, a few words on what happened (no traceback,
    no SQL, no addresses)."""
    cause = getattr(error, "orig", None) or error
    text = str(cause).lower()
    words = next((t(key, lang) for fragment, key in OUTAGE_REASONS if fragment in text), None)
    return f"{type(cause).__name__}: {words}" if words else type(cause).__name__


def outage_banner(lang: str, what: str, error: BaseException) -> None:
    """Red banner: what failed (``what``: ``database`` or ``cityos``), why in a few words, and
    the time of the last good data. Never a traceback."""
    last = last_good_data() or st.session_state.get(LAST_GOOD_RUN_KEY)
    st.error(
        t(
            "live.unreachable",
            lang,
            what=t(f"live.source.{what}", lang),
            error=outage_reason(error, lang),
            last=clock(last) if last else t("live.never", lang),
        ),
        icon=":material/cloud_off:",
    )


def retry_until_back(lang: str, answers: Callable[[], bool], every: float = RETRY_SECONDS) -> None:
    """While a service is down: every ``every`` seconds ask ``answers()`` and rerun the whole
    page as soon as it returns True (a fragment, so the rest of the page stays as it is).

    The page the browser asked for is remembered: a run that failed before the navigation
    was built falls back to the start page, and :func:`page_to_return_to` brings it back."""
    st.session_state[OUTAGE_SINCE_KEY] = time.monotonic()
    if RETURN_TO_KEY not in st.session_state:
        st.session_state[RETURN_TO_KEY] = _requested_page()
    gate.rerun_when(
        answers, every, OUTAGE_SINCE_KEY, t("outage.retrying", lang, seconds=f"{every:g}")
    )


def _requested_page() -> str | None:
    """The page the browser asked for by URL (``/hq-map`` → ``hq-map``), if any."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    manager = getattr(get_script_run_ctx(), "pages_manager", None)
    name = getattr(manager, "intended_page_name", None)
    return str(name).strip("/") or None if name else None


def page_to_return_to() -> str | None:
    """The page that was open when an outage began (once, after it ended)."""
    return st.session_state.pop(RETURN_TO_KEY, None)


def stale_sources_banner(lang: str, sources: list[dict[str, Any]]) -> bool:
    """Red banner for each data feed marked stale (the city-OS sync failed): its last success
    and its error. Returns True when one was shown."""
    shown = False
    for source in sources:
        if source.get("stale"):
            st.error(source_stale_text(lang, source), icon=":material/sync_problem:")
            shown = True
    return shown


def freshness_banner(
    ctx: PageContext,
    newest: dt.datetime | None,
    *,
    live_incident: bool,
    synthetic: bool,
    sources: list[dict[str, Any]] | None = None,
    now: dt.datetime | None = None,
    replica_lag: float | None = None,
) -> bool:
    """Show "data as of HH:MM:SS" (and, when read from a replica, how far it lags the primary),
    and a red banner when the newest data is older than the city's ``stale_after_seconds``
    during a live incident or a source is marked stale. Returns True when the banner is red."""
    now = now or dt.datetime.now(dt.UTC)
    stale_after = float(ctx.city.setting("stale_after_seconds", 120))
    red = False
    if newest is not None:
        age = (now - newest).total_seconds()
        if synthetic:
            st.caption(
                ctx.t("live.demo_time", time=format_datetime(newest, ctx.lang, era_style=True))
            )
        elif live_incident and age > stale_after:
            st.error(
                ctx.t("live.stale", time=clock(newest), minutes=f"{age / 60:.0f}"),
                icon=":material/warning:",
            )
            red = True
        st.caption(ctx.t("app.data_as_of", time=clock(newest)))
    if replica_lag is not None:
        st.caption(ctx.t("live.replica_lag", seconds=f"{replica_lag:.1f}"))
    for source in sources or []:
        if source.get("stale"):
            st.error(source_stale_text(ctx.lang, source), icon=":material/sync_problem:")
            red = True
        if source.get("quarantined"):
            st.warning(
                ctx.t(
                    "live.source_quarantined",
                    source=plain(source["source"]),
                    n=f"{source['quarantined']:,}",
                ),
                icon=":material/block:",
            )
    return red


#: Failure kinds the catalog has a short reason for (``live.source_error.<kind>``).
SOURCE_ERROR_KINDS = ("unavailable", "auth", "contract", "write", "unknown")


def source_stale_text(lang: str, source: dict[str, Any]) -> str:
    """The stale-feed banner: the feed, its last success and a short translated reason —
    never the error text itself (it may carry a driver's message, SQL and data)."""
    kind = source.get("error_kind")
    kind = kind if kind in SOURCE_ERROR_KINDS else "unknown"
    return t(
        "live.source_stale",
        lang,
        source=plain(source["source"]),
        time=clock(source["last_success_at"]) if source.get("last_success_at") else "—",
        reason=t(f"live.source_error.{kind}", lang),
    )


def kpi_header(ctx: PageContext, kpis: dict[str, Any]) -> None:
    """The HQ key figures in two rows of metrics (small cells suppressed for the roles that see
    no individuals: ``sql.policy.sees_exact_counts``)."""
    from analytics.small_cells import MASK, count_label, hides
    from sql.policy import sees_exact_counts

    exact = sees_exact_counts(ctx.viewer)

    def n(value: Any) -> str:
        return f"{value:,}" if exact else count_label(value, ctx.lang)

    share_hidden = not exact and hides(kpis["confirmed"], kpis["citizens"])
    top = st.columns(5)
    top[0].metric(ctx.t("kpi.opted_in"), n(kpis["citizens"]))
    key_figure(
        top[1],
        ctx.t("kpi.confirmed_safe"),
        MASK if share_hidden else f"{kpis['confirmed_share']:.1%}",
        ctx.t("kpi.people", n=n(kpis["confirmed"])),
    )
    top[2].metric(ctx.t("kpi.evacuating"), n(kpis["evacuating"]))
    top[3].metric(ctx.t("kpi.at_shelter"), n(kpis["at_shelter"]))
    top[4].metric(ctx.t("kpi.needs_rescue"), n(kpis["needs_rescue"]))
    bottom = st.columns(5)
    by_priority = kpis["rescue_open"]
    bottom[0].metric(ctx.t("kpi.rescue_open"), n(kpis["rescue_open_total"]))
    key_figure(
        bottom[1],
        ctx.t("kpi.rescue_by_priority"),
        " / ".join(n(by_priority.get(p, 0)) for p in ("high", "medium", "low")),
        ctx.t("kpi.priority_legend"),
    )
    bottom[2].metric(
        ctx.t("kpi.shelters_open"), f"{kpis['shelters_open']:,} / {kpis['shelters']:,}"
    )
    bottom[3].metric(ctx.t("kpi.shelters_full"), f"{kpis['shelters_full']:,}")
    key_figure(
        bottom[4],
        ctx.t("kpi.register_unconfirmed"),
        n(kpis["register_unconfirmed"]),
        ctx.t("kpi.of_total", n=n(kpis["register"])),
    )


def counts_text(counts: Mapping[str, int], *names: str) -> dict[str, str]:
    """The named ``counts`` (0 where one is missing) written with thousands separators, by
    name — values for a label that states them."""
    return {name: f"{counts.get(name, 0):,}" for name in names}


def key_figure(slot: Any, label: str, value: str, beside: str | None) -> None:
    """A key figure in ``slot`` (a column, or ``st``) with ``beside`` it a share or a count of
    what it is part of — never an increase, so drawn without arrow or colour."""
    slot.metric(label, value, beside, delta_color="off", delta_arrow="off")


def choose_several(
    slot: Any,
    ctx: PageContext,
    label: str,
    options: Iterable[Any],
    key: str,
    *,
    words: str | None = None,
    placeholder: str | None = None,
    **kwargs: Any,
) -> list[Any]:
    """A multiselect in ``slot`` (a column, or ``st``) without Streamlit's select-all entry
    (English, one click from everything), its placeholder in the page's language
    (「選んでください」 unless given); options that are codes are shown as the catalogue's
    ``{words}.{code}``."""
    if words is not None:
        kwargs["format_func"] = lambda code: ctx.t(f"{words}.{code}")
    return slot.multiselect(
        label,
        options,
        key=key,
        select_all=False,
        placeholder=placeholder or ctx.t("common.choose"),
        **kwargs,
    )


def rerun_tabs(key: str, labels: list[str]) -> list[Any]:
    """Tabs that keep the open one in the session (``key``) and rerun the page when another is
    chosen."""
    return st.tabs(labels, key=key, on_change="rerun")


def text_table(frame: pd.DataFrame, **kwargs: Any) -> None:
    """A dataframe whose text cells are shown as text (Streamlit never renders them as HTML)."""
    st.dataframe(frame, hide_index=True, **kwargs)


def selectable_table(
    frame: pd.DataFrame,
    ids: list[int],
    key: str,
    pick_key: str,
    empty: str | None = None,
    **kwargs: Any,
) -> None:
    """A table whose row selection opens the same panel as the ``pick_key`` selectbox: a newly
    selected row sets the pick (once, by the row's id), and the selectbox keeps working.

    Streamlit reports a selection as a row *position*, and positions move when the list
    changes (a closed shelter leaves the "open only" list, a request is re-scored). So a
    clicked position is read against the ids of the list the user clicked on, and when the
    list changes the table is drawn anew without a selection: a stale position never picks
    another row, and the panel stays on the id that was picked. ``empty``: what to say instead
    of an empty grid."""
    state = st.session_state
    ids_key, generation_key, last_key = f"{key}_ids", f"{key}_generation", f"{key}_last"
    generation = int(state.get(generation_key, 0))
    widget_key = f"{key}_{generation}"
    seen_ids: list[int] = state.get(ids_key, ids)
    event = state.get(widget_key)
    rows = _selected_rows(event)
    if rows and rows[0] < len(seen_ids):
        chosen = seen_ids[rows[0]]
        if state.get(last_key) != (generation, chosen):
            state[last_key] = (generation, chosen)
            state[pick_key] = chosen
    if list(seen_ids) != list(ids):
        generation += 1
        state[generation_key] = generation
        widget_key = f"{key}_{generation}"
    state[ids_key] = list(ids)
    if empty is not None and frame.empty:  # words, not a blank grid saying "empty" in English
        st.info(empty)
        return
    st.dataframe(
        frame,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key=widget_key,
        **kwargs,
    )


def _selected_rows(event: Any) -> list[int]:
    """The selected row positions of a dataframe's selection state (an attribute-or-dict)."""
    if event is None:
        return []
    selection = (
        event.get("selection") if isinstance(event, dict) else getattr(event, "selection", None)
    )
    if selection is None:
        return []
    rows = (
        selection.get("rows") if isinstance(selection, dict) else getattr(selection, "rows", None)
    )
    return [int(r) for r in rows or []]


def tidy_downloads(t: Callable[..., str], frame: pd.DataFrame, stem: str, note: str) -> None:
    """A research table's three downloads side by side: spreadsheet-safe CSV, Parquet with the
    method note in its metadata, and the note as text (each produced when requested, after the
    gate re-checks the viewer). File names end in the Japan-time stamp of the page's run
    (``{stem}_20261207_0650.csv``)."""
    import datetime as dt
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    from bosai.jpdate import file_stamp
    from bosai.spreadsheet_safe import to_csv_bytes

    stem = f"{stem}_{file_stamp(dt.datetime.now(dt.UTC))}"

    def parquet() -> bytes:
        buffer = io.BytesIO()
        table = pa.Table.from_pandas(frame, preserve_index=False)
        meta = {**(table.schema.metadata or {}), b"method": note.encode()}
        pq.write_table(table.replace_schema_metadata(meta), buffer)
        return buffer.getvalue()

    csv_col, parquet_col, note_col = st.columns(3)
    gate.download_button(
        t("research.common.download_csv"),
        lambda: to_csv_bytes(frame),
        file_name=f"{stem}.csv",
        mime="text/csv",
        container=csv_col,
    )
    gate.download_button(
        t("research.common.download_parquet"),
        parquet,
        file_name=f"{stem}.parquet",
        mime="application/vnd.apache.parquet",
        container=parquet_col,
    )
    gate.download_button(
        t("research.common.download_note"),
        note.encode("utf-8"),
        file_name=f"{stem}_method.txt",
        mime="text/plain",
        container=note_col,
    )


def short_addresses(ctx: PageContext, addresses: pd.Series) -> pd.Series:
    """Addresses without the city's own prefecture and name in front (every one starts with
    them): what tells one request from another fits a narrow column."""
    prefixes = (ctx.city.prefecture_ja + ctx.city.name_ja, ctx.city.name_ja)

    def short(value: Any) -> str:
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return "—"
        text = str(value)
        for prefix in prefixes:
            if prefix and text.startswith(prefix):
                return text[len(prefix) :] or text
        return text

    return addresses.map(short)
