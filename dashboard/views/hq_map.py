"""本部マップ — the headquarters' live map: KPIs, status hexagons, rescue requests, register
people not yet confirmed, shelters by congestion, hazard zones; refreshes on its own."""

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from analytics.status_cells import resolution_for_zoom
from compositions.hq_map_state import build_hq_state
from dashboard import (
    basemap,
    data,
    evacuation_state,
    gate,
    map_accounted,
    map_deck,
    map_evacuation,
    map_proposals,
    map_view,
    panels,
    registry,
    safety_panels,
    widgets,
)
from dashboard.context import current
from dashboard.text import plain, warning_names
from sql import policy, replication

ctx = current()
st.title(ctx.t("hqmap.title"))
incident = data.current_incident(ctx.database_url)
incident_id = incident.id if incident else None
board_incident = incident.id if incident and incident.active else None
incident_is_drill = bool(incident and incident.kind == "drill")
st.caption(
    f"{ctx.t('overview.incident')}: {plain(incident.name(ctx.lang))}"
    if incident
    else ctx.t("overview.no_incident")
)

with st.sidebar.expander(ctx.t("hqmap.options"), expanded=False):
    base = st.radio(
        ctx.t("hqmap.basemap"),
        ["pale", "std", "local", "none"],
        format_func=lambda b: ctx.t(f"hqmap.base.{b}"),
        key="hq_basemap",
    )
    overlays = tuple(
        o for o in basemap.OVERLAY_ORDER if st.toggle(ctx.t(f"hqmap.overlay.{o}"), key=f"hq_ov_{o}")
    )
    detail = st.select_slider(
        ctx.t("hqmap.detail"),
        [7, 8, 9],
        value=resolution_for_zoom(ctx.city.default_zoom),
        format_func=lambda r: ctx.t(f"hqmap.res.{r}"),
        key="hq_resolution",
    )
    auto = st.toggle(ctx.t("hqmap.auto_refresh"), value=True, key="hq_auto")
refresh = float(ctx.city.setting("refresh_seconds", 10)) if auto else None


@gate.fragment(run_every=refresh)
def live_picture() -> None:
    try:
        state = build_hq_state(
            ctx.engine,
            data.hq_cache(ctx.database_url),
            ctx.viewer,
            incident_id,
            ctx.city,
            resolution=detail,
            read_engine=ctx.aggregates,
        )
        sources = data.source_health(ctx.database_url)
        lag = replication.replica_lag(ctx.aggregates) if ctx.read_engine is not ctx.engine else None
    except SQLAlchemyError as exc:
        widgets.unreachable_banner(ctx, "database", exc)
        return
    widgets.remember_good_data(state.newest_report_at)
    widgets.freshness_banner(
        ctx,
        state.newest_report_at,
        live_incident=bool(incident and incident.active),
        synthetic=bool(incident and incident.is_synthetic),
        sources=sources,
        replica_lag=lag,
    )
    widgets.kpi_header(ctx, state.kpis)
    safety = data.safety_summary(ctx.database_url, incident_id)
    with st.expander(ctx.t("safety.unaccounted.title"), expanded=False):
        safety_panels.accounted_kpis(ctx, safety["counts"], safety["places"])
    if state.hazards:
        st.warning(
            ctx.t(
                "hqmap.warnings_in_force",
                warnings=ctx.t("common.list_sep").join(
                    warning_names(
                        ctx.t, ctx.lang, state.warnings["kind_code"], state.warnings["kind_name"]
                    )
                ),
                hazards=ctx.t("common.list_sep").join(ctx.t(f"hazard.{h}") for h in state.hazards),
            ),
            icon=":material/thunderstorm:",
        )
    drawn = map_view.choose_base(ctx, base, overlays)
    map_view.notices(ctx, drawn)
    left, right = st.columns([3, 2])
    with left, map_view.frame("hq"):
        exact = policy.sees_exact_counts(ctx.viewer)
        evac_areas, evac_levels = evacuation_state.areas_in_force(
            ctx.aggregates, incident_id, ctx.city
        )
        extra = {
            map_evacuation.LEGEND_KEY: map_evacuation.evacuation_layers(
                evac_areas, evac_levels, ctx.t, ctx.lang
            ),
            map_accounted.LEGEND_KEY: map_accounted.accounted_layers(
                safety["districts"], ctx.t, exact
            ),
        }
        if registry.can_open(ctx.viewer.role, "evacuation"):
            # The decision board's proposals, for the roles that see the board (while an
            # incident or a drill is active, as there); nothing is issued from the map.
            extra[map_proposals.LEGEND_KEY] = map_proposals.proposal_layers(
                ctx,
                map_proposals.pending(
                    ctx.aggregates, board_incident, ctx.city, exercise=incident_is_drill
                ),
            )
        shown = map_view.legend(
            ctx, "hq", drawn, state.shows_register, state.shows_positions, tuple(extra)
        )
        deck = map_view.city_deck(ctx, state, drawn, exact_counts=exact, layers=shown, extra=extra)
        event = st.pydeck_chart(
            deck, on_select="rerun", selection_mode="single-object", key="hq_deck", height=640
        )
    with left:
        st.caption(map_view.attribution(ctx, drawn, state.zone_sources, shown))
    picked = map_deck.selected(event)
    with right:
        rescue = (
            state.rescue.sort_values("score", ascending=False)
            if "score" in state.rescue
            else state.rescue
        )
        options = [("rescue", int(i)) for i in rescue["id"].head(200)] if len(rescue) else []
        options += [
            ("shelter", int(i)) for i in state.shelters.loc[state.shelters["is_open"], "id"]
        ]
        if picked:
            kind = "rescue" if picked[0] == map_deck.LAYER_RESCUE else "shelter"
            if (kind, picked[1]) not in options:
                options.insert(0, (kind, picked[1]))
            if st.session_state.get("hq_last_map_pick") != picked:
                # A new pick on the map opens its panel; the list still works afterwards.
                st.session_state["hq_last_map_pick"] = picked
                st.session_state["hq_pick"] = (kind, picked[1])
        # The panel stays on what was picked (by id) even when it leaves the list — a shelter
        # just closed, a request just resolved — so its outcome shows under its own name.
        kept = st.session_state.get("hq_pick")
        if kept is not None and tuple(kept) not in options:
            options.insert(0, tuple(kept))
        names = dict(zip(state.shelters["id"], state.shelters["name"], strict=True))
        requests = {
            int(r.id): ctx.t(
                "rescue.option_map",
                id=int(r.id),
                score=f"{r.score:.1f}",
                people=int(r.people_count),
                waiting=int(r.minutes_waiting),
            )
            for r in rescue.head(200).itertuples(index=False)
            if "score" in rescue
        }
        choice = st.selectbox(
            ctx.t("hqmap.select"),
            [None, *options],
            format_func=lambda o: (
                ctx.t("hqmap.select_none")
                if o is None
                else (
                    requests.get(o[1], ctx.t("hqmap.rescue_option", id=o[1]))
                    if o[0] == "rescue"
                    else names.get(o[1], str(o[1]))
                )
            ),
            key="hq_pick",
        )
        if choice and choice[0] == "rescue":
            panels.rescue_panel(ctx, incident_id, choice[1])
            panels.triage_formula(ctx)
        elif choice:
            shelter = state.shelters[state.shelters["id"] == choice[1]]
            if not shelter.empty:
                panels.shelter_panel(ctx, incident_id, shelter.iloc[0])
        else:
            st.info(ctx.t("hqmap.pick_hint"))


live_picture()
