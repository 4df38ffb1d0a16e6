"""救助要請 — the rescue queue: the requests in the chosen statuses (open ones by default) with
their triage score (formula shown), filters, counts per status, and the panel to assign a team
or move the request on, with conflicts reported."""

import pandas as pd
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from bosai.jpdate import clock
from bosai.vocab import RESCUE_OPEN_STATUSES, RESCUE_PRIORITIES, RESCUE_STATUSES
from compositions.hq_map_state import score_requests
from dashboard import data, gate, panels, widgets
from dashboard.context import current
from sql import policy
from sql.queries.incidents import incident_clock
from sql.queries.rescue import count_by_status

ctx = current()
st.title(ctx.t("queue.title"))
incident = data.current_incident(ctx.database_url)
incident_id = incident.id if incident else None
if not policy.may_see_rescue_requests(ctx.viewer):
    st.info(ctx.t("queue.aggregate_only"))
    st.stop()
panels.triage_formula(ctx)


@gate.fragment(run_every=float(ctx.city.setting("refresh_seconds", 10)))
def queue() -> None:
    filters = st.columns([2, 2, 2, 2])

    def choose(slot, column: str, codes: tuple[str, ...], words: str, default: tuple[str, ...]):
        """The requests' ``column`` filtered to some of its ``codes`` (``default`` at first)."""
        label = ctx.t(f"rescue.col.{column}")
        return widgets.choose_several(
            slot, ctx, label, codes, f"queue_{column}", words=words, default=list(default)
        )

    statuses = choose(filters[0], "status", RESCUE_STATUSES, "rescue_status", RESCUE_OPEN_STATUSES)
    priorities = choose(filters[1], "priority", RESCUE_PRIORITIES, "priority", RESCUE_PRIORITIES)
    try:
        # Only the chosen statuses, without contact details (the panel reads those for the one
        # request it opens): at prefecture scale this is tens of thousands of rows otherwise.
        requests = policy.rescue_requests(
            ctx.engine, ctx.viewer, incident_id, statuses=statuses, fields="queue"
        )
        counts = count_by_status(ctx.engine, incident_id)
        zones = data.hq_cache(ctx.database_url).zones(ctx.engine)
    except SQLAlchemyError as exc:
        widgets.unreachable_banner(ctx, "database", exc)
        return
    now = incident_clock(ctx.engine, incident_id)
    scored = score_requests(requests, zones.index, now)
    districts = sorted(d for d in scored["district"].dropna().unique())
    # (no districts, no filter: Streamlit would say "No options to select" in English)
    chosen_districts = (
        widgets.choose_several(
            filters[2], ctx, ctx.t("rescue.col.district"), districts, "queue_district"
        )
        if districts
        else []
    )
    team_filter = filters[3].text_input(ctx.t("queue.team_filter"), key="queue_team")
    shown = scored[scored["priority"].isin(priorities)]
    if chosen_districts:
        shown = shown[shown["district"].isin(chosen_districts)]
    if team_filter:
        shown = shown[shown["assigned_team"].fillna("").str.contains(team_filter, regex=False)]
    shown = shown.sort_values(["score", "requested_at"], ascending=[False, True])
    st.caption(
        ctx.t("queue.summary", shown=f"{len(shown):,}", total=f"{sum(counts.values()):,}")
        + ctx.t("common.slash")
        + ctx.t("common.list_sep").join(
            f"{ctx.t(f'rescue_status.{s}')} {counts[s]:,}" for s in RESCUE_STATUSES
        )
    )
    # What a rescuer needs, narrow enough for 1366 px beside the panel (priority, injured,
    # the flood depth, the register and the full address are in the panel).
    table = pd.DataFrame(
        {
            ctx.t("rescue.col.score"): shown["score"].round(1),
            ctx.t("rescue.col.waiting"): shown["minutes_waiting"].astype(int),
            ctx.t("rescue.col.district"): shown["district"].fillna(""),
            ctx.t("rescue.col.address"): widgets.short_addresses(ctx, shown["address"]),
            ctx.t("rescue.col.people"): shown["people_count"].astype(int),
            ctx.t("rescue.col.team"): shown["assigned_team"].fillna("—"),
            ctx.t("rescue.col.requested"): [clock(v, seconds=False) for v in shown["requested_at"]],
            ctx.t("rescue.col.status"): [ctx.t(f"rescue_status.{s}") for s in shown["status"]],
        }
    )
    options = [int(i) for i in shown["id"]]
    labels = {
        int(r.id): ctx.t(
            "rescue.option",
            id=int(r.id),
            score=f"{r.score:.1f}",
            district=r.district or "—",
            people=int(r.people_count),
            waiting=int(r.minutes_waiting),
        )
        for r in scored.itertuples(index=False)
    }
    left, right = st.columns([2, 1])
    with left:

        def px(n: int) -> dict:
            return {"width": n}

        widgets.selectable_table(
            table,
            options,
            "queue_table",
            "queue_pick",
            empty=ctx.t("queue.empty"),
            width="stretch",
            height=560,
            column_config={
                ctx.t("rescue.col.score"): st.column_config.NumberColumn(format="%.1f", **px(58)),
                ctx.t("rescue.col.waiting"): st.column_config.NumberColumn(
                    format=ctx.t("rescue.minutes_format"), **px(64)
                ),
                ctx.t("rescue.col.district"): st.column_config.TextColumn(**px(60)),
                ctx.t("rescue.col.address"): st.column_config.TextColumn(**px(112)),
                ctx.t("rescue.col.people"): st.column_config.NumberColumn(**px(46)),
                ctx.t("rescue.col.team"): st.column_config.TextColumn(**px(66)),
                ctx.t("rescue.col.requested"): st.column_config.TextColumn(**px(56)),
                ctx.t("rescue.col.status"): st.column_config.TextColumn(**px(66)),
            },
        )
    # The panel stays on the request picked (by id) when it leaves the list (resolved,
    # filtered out), so the outcome of an action shows under that request.
    kept = st.session_state.get("queue_pick")
    if kept is not None and kept not in options:
        options.insert(0, int(kept))
    with right:
        pick = st.selectbox(
            ctx.t("queue.pick"),
            options,
            index=None,
            format_func=lambda i: labels.get(i, ctx.t("hqmap.rescue_option", id=i)),
            placeholder=ctx.t("queue.pick_hint"),
            key="queue_pick",
        )
        if pick is not None:
            panels.rescue_panel(ctx, incident_id, int(pick))


queue()
