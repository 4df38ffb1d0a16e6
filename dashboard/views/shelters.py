"""避難所 — shelters: the table and the map by congestion, suitability for the warnings in force,
expected arrivals against capacity; open or close a shelter, enter a head count, see its history."""

import dataclasses

import pandas as pd
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from analytics.shelter_status import shelter_attention
from compositions.hq_map_state import build_hq_state, expected_arrivals
from dashboard import data, gate, map_deck, map_view, panels, widgets
from dashboard.context import current

ctx = current()
st.title(ctx.t("shelters.title"))
incident = data.current_incident(ctx.database_url)
incident_id = incident.id if incident else None
thresholds = ctx.city.setting("congestion_thresholds", [0.3, 0.6, 0.8])
# The occupancy shares that bound the congestion levels (the legend states them).
levels = dict(zip(("low", "mid", "high"), thresholds[:3], strict=True))
st.caption(ctx.t("shelters.levels", **{level: f"{share:.1%}" for level, share in levels.items()}))


@gate.fragment(run_every=float(ctx.city.setting("refresh_seconds", 10)))
def board() -> None:
    try:
        cache = data.hq_cache(ctx.database_url)
        state = build_hq_state(
            ctx.engine, cache, ctx.viewer, incident_id, ctx.city, read_engine=ctx.aggregates
        )
        codes = tuple(state.warnings["kind_code"].tolist()) if len(state.warnings) else ()
        expected = expected_arrivals(
            ctx.engine, cache, state.shelters, codes, state.states, incident_id
        )
    except SQLAlchemyError as exc:
        widgets.unreachable_banner(ctx, "database", exc)
        return
    shelters = state.shelters.assign(expected=expected.to_numpy())
    if state.hazards:
        st.warning(
            ctx.t(
                "shelters.hazards_in_force",
                hazards=ctx.t("common.list_sep").join(ctx.t(f"hazard.{h}") for h in state.hazards),
            ),
            icon=":material/thunderstorm:",
        )
    top = st.columns(4)
    top[0].metric(
        ctx.t("kpi.shelters_open"), f"{state.kpis['shelters_open']:,} / {len(shelters):,}"
    )
    top[1].metric(ctx.t("kpi.shelters_full"), f"{state.kpis['shelters_full']:,}")
    top[2].metric(
        ctx.t("shelters.unsuitable_open"),
        f"{int((shelters['is_open'] & ~shelters['suitable']).sum()):,}",
    )
    top[3].metric(
        ctx.t("shelters.head_count_total"),
        f"{int(shelters.loc[shelters['is_open'], 'head_count'].fillna(0).sum()):,}",
    )
    filters = st.columns([2, 2, 3])
    only_open = filters[0].toggle(ctx.t("shelters.only_open"), value=True, key="shelters_open_only")
    only_problem = filters[1].toggle(ctx.t("shelters.only_problems"), key="shelters_problems")
    search = filters[2].text_input(ctx.t("shelters.search"), key="shelters_search")
    shown = shelters
    if only_open:
        shown = shown[shown["is_open"]]
    if only_problem:
        shown = shown[~shown["suitable"] | shown["congestion"].isin(["crowded", "full"])]
    if search:
        shown = shown[
            shown["name"].str.contains(search, regex=False)
            | shown["address"].fillna("").str.contains(search, regex=False)
        ]
    # What needs attention first: over capacity, then by congestion, then unsuitable.
    shown = shown.assign(_order=shelter_attention(shown)).sort_values(
        ["_order", "occupancy", "name"], ascending=[True, False, True], na_position="last"
    )
    capacity = pd.to_numeric(shown["capacity"], errors="coerce")
    table = pd.DataFrame(
        {
            ctx.t("shelter.col.name"): shown["name"],
            ctx.t("shelter.col.occupancy"): (shown["occupancy"] * 100).round(1),
            ctx.t("shelter.col.head_count"): shown["head_count"].astype("Int64"),
            ctx.t("shelter.col.capacity"): capacity.astype("Int64"),
            ctx.t("shelter.col.congestion"): [
                "⚠ " + ctx.t("congestion.over") if over else ctx.t(f"congestion.{c}")
                for c, over in zip(shown["congestion"], shown["occupancy"] > 1.0, strict=True)
            ],
            ctx.t("shelter.col.suitability"): [
                ctx.t("shelter.suitable") if ok else "⚠ " + ctx.t("hqmap.unsuitable")
                for ok in shown["suitable"]
            ],
            ctx.t("shelter.col.expected"): shown["expected"].astype(int),
            ctx.t("shelters.col.room_after"): (
                capacity - shown["head_count"].fillna(0) - shown["expected"]
            ).astype("Int64"),
            ctx.t("shelter.col.open"): [
                ctx.t("common.open") if o else ctx.t("common.closed") for o in shown["is_open"]
            ],
            ctx.t("shelter.col.address"): shown["address"].fillna(""),
        }
    )
    left, right = st.columns([3, 2])
    with left:
        ids = [int(i) for i in shown["id"]]
        widgets.selectable_table(
            table,
            ids,
            "shelters_table",
            "shelters_pick",
            empty=ctx.t("shelters.empty"),
            width="stretch",
            height=420,
            column_config={
                ctx.t("shelter.col.occupancy"): st.column_config.NumberColumn(
                    format="%.1f%%", width="small"
                ),
                ctx.t("shelter.col.name"): st.column_config.TextColumn(pinned=True),
            },
        )
        drawn = map_view.choose_base(ctx, "pale")
        map_view.notices(ctx, drawn)
        only_shelters = dataclasses.replace(
            state,
            cells=state.cells.iloc[0:0],
            shelters=shown.drop(columns="_order"),
            shows_positions=False,
            shows_register=False,
        )
        deck = map_view.city_deck(ctx, only_shelters, drawn)
        picked = map_deck.selected(
            st.pydeck_chart(
                deck,
                on_select="rerun",
                selection_mode="single-object",
                key="shelters_deck",
                height=420,
            )
        )
        st.caption(
            map_view.attribution(ctx, drawn, (), {"base", "shelters"})
            if (drawn.style or drawn.local)
            else ctx.t("hqmap.no_basemap")
        )
    if picked and st.session_state.get("shelters_last_map") != picked:
        st.session_state["shelters_last_map"] = picked
        st.session_state["shelters_pick"] = picked[1]
    names = dict(zip(shelters["id"], shelters["name"], strict=True))
    options = ids + [int(i) for i in shelters["id"] if int(i) not in set(ids)]
    with right:
        pick = st.selectbox(
            ctx.t("shelters.pick"),
            options,
            index=None,
            format_func=lambda i: names.get(i, str(i)),
            placeholder=ctx.t("shelters.pick_hint"),
            key="shelters_pick",
        )
        if pick is not None:
            row = shelters[shelters["id"] == pick].iloc[0]
            panels.shelter_panel(ctx, incident_id, row, expected=int(row["expected"]))


board()
