"""安否未確認者 — who is still unaccounted for: everyone's merged safety state (own app answer,
shelter reception, supporter, family, rescue, calls and visits), the people with no safe
confirmation in priority order, grouped by district or rolled up by household; a follow-up
for each (a caller or a visiting team, and what they found), reports, at home or in a car.

Rows for ``hq`` and ``rescue``; names and contacts only in an emergency (``sql.policy``);
every view of rows is audited. The list as filtered (every page) downloads as CSV for the
follow-up teams (``sql.policy.unaccounted_download``: each download audited before the file
is made; Japan time in the name and cells; spreadsheet-safe cells)."""

import pandas as pd
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from bosai.jpdate import format_datetime
from compositions.safety_state import build_safety_state
from dashboard import data, gate, safety_panels, widgets
from dashboard.context import current
from sql import policy

PAGE_ROWS = 200

ctx = current()
st.title(ctx.t("safety.unaccounted.title"))
st.caption(ctx.t("safety.unaccounted.intro"))
incident = data.current_incident(ctx.database_url)
incident_id = incident.id if incident else None
if incident_id is None:
    st.info(ctx.t("overview.no_incident"))
    st.stop()
with st.expander(ctx.t("safety.unaccounted.order")):
    st.caption(ctx.t("safety.unaccounted.rule"))


@gate.fragment(run_every=float(ctx.city.setting("refresh_seconds", 10)))
def live() -> None:
    try:
        state = build_safety_state(
            ctx.engine, data.safety_cache(ctx.database_url), incident_id, ctx.city
        )
        mode = policy.mode_of(ctx.engine, incident_id)
    except SQLAlchemyError as exc:
        widgets.unreachable_banner(ctx, "database", exc)
        return
    safety_panels.accounted_kpis(ctx, state.counts, state.places, state.now)
    if not policy.may_see_unaccounted(ctx.viewer):
        st.info(ctx.t("safety.unaccounted.aggregate_only"), icon=":material/lock:")
        return
    if mode.emergency:
        st.warning(ctx.t("safety.unaccounted.names_emergency"), icon=":material/gavel:")
    else:
        st.info(ctx.t("safety.unaccounted.names_normal"), icon=":material/lock:")
    safety_panels.show_messages()

    filters = st.columns([2, 2, 3, 2])
    scope = filters[0].segmented_control(
        ctx.t("safety.unaccounted.scope"),
        ["priority", "all"],
        default="priority",
        format_func=lambda s: ctx.t(f"safety.unaccounted.scope_{s}"),
        help=ctx.t("safety.unaccounted.scope_help"),
        key="ua_scope",
    )
    districts = ["", *state.districts["district"].tolist()]
    district = filters[1].selectbox(
        ctx.t("safety.unaccounted.district"),
        districts,
        format_func=lambda d: d or ctx.t("safety.unaccounted.all_districts"),
        key="ua_district",
    )
    states = widgets.choose_several(
        filters[2],
        ctx,
        ctx.t("safety.unaccounted.states"),
        ["needs_help", "no_contact", "moving"],
        "ua_states",
        words="safety.state",
        placeholder=ctx.t("safety.unaccounted.states"),
    )
    view = filters[3].segmented_control(
        ctx.t("safety.unaccounted.view"),
        ["people", "households"],
        default="people",
        format_func=lambda v: ctx.t(f"safety.unaccounted.view_{v}"),
        key="ua_view",
    )
    board = state.board
    if scope != "all":
        board = board[board["scope"] == "priority"]
    if district:
        board = board[board["district"].fillna("—") == district]
    if states:
        board = board[board["state"].isin(states)]

    left, right = st.columns([3, 2])
    with left:
        with st.expander(ctx.t("safety.unaccounted.by_district")):
            widgets.text_table(_district_table(state.districts), width="stretch", height=240)
        if view == "households":
            _households(state, district)
        else:
            shown = _people(board, mode, state)
            safety_panels.unaccounted_download(
                ctx,
                incident_id,
                board,
                state.now,
                {"scope": scope, "district": district, "states": list(states)},
            )
    with right:
        if view != "households":
            person = st.session_state.get("ua_person")
            if person in set(shown):
                _person_panel(state, person)
            else:
                st.info(ctx.t("safety.unaccounted.pick_hint"))


def _district_table(table: pd.DataFrame) -> pd.DataFrame:
    col = "safety.unaccounted.col."
    return pd.DataFrame(
        {
            ctx.t(col + "district"): table["district"].astype(str),
            ctx.t(col + "people"): table["unaccounted"],
            ctx.t(col + "priority_people"): table["priority"],
            ctx.t(col + "register"): table["register"],
            ctx.t(col + "zone"): table["in_zone"],
            ctx.t("safety.state.needs_help"): table["needs_help"],
            ctx.t("safety.state.no_contact"): table["no_contact"],
            ctx.t(col + "escalated"): table["escalated"],
            ctx.t(col + "households"): table["households"],
        }
    )


def _people(board: pd.DataFrame, mode, state) -> list[int]:
    pages = max(1, -(-len(board) // PAGE_ROWS))
    page = (
        st.number_input(ctx.t("safety.unaccounted.page"), 1, pages, 1, key="ua_page")
        if pages > 1
        else 1
    )
    rows = board.iloc[(page - 1) * PAGE_ROWS : page * PAGE_ROWS]
    ids = rows["citizen_id"].astype(int).tolist()
    details = (
        policy.unaccounted_details(ctx.engine, ctx.viewer, incident_id, ids).set_index("citizen_id")
        if ids
        else pd.DataFrame()
    )
    st.caption(
        ctx.t(
            "safety.unaccounted.shown",
            shown=f"{len(rows):,}",
            total=f"{len(board):,}",
            as_of=format_datetime(state.now, ctx.lang, era_style=ctx.lang == "ja"),
        )
    )
    if rows.empty:
        st.info(ctx.t("safety.unaccounted.empty"))
        return []
    col = "safety.unaccounted.col."
    yes = ctx.t("safety.unaccounted.mark")

    def detail(name: str) -> list[str]:
        values = details.reindex(ids)[name] if len(details) else pd.Series([None] * len(ids))
        return ["" if pd.isna(v) else str(v) for v in values]

    table = pd.DataFrame(
        {
            ctx.t(col + "priority"): [
                ctx.t("safety.unaccounted.escalated_mark") if e else "" for e in rows["escalated"]
            ],
            ctx.t(col + "number"): rows["citizen_id"].astype(int),
            ctx.t(col + "name"): detail("name"),
            ctx.t(col + "district"): rows["district"].fillna("").astype(str),
            ctx.t(col + "state"): [safety_panels.state_text(ctx, s) for s in rows["state"]],
            ctx.t(col + "source"): [
                safety_panels.source_text(ctx, s, d)
                for s, d in zip(rows["source"], rows["detail"], strict=True)
            ],
            ctx.t(col + "since"): [
                ctx.t("safety.unaccounted.minutes", n=int(m)) if pd.notna(m) else "—"
                for m in rows["minutes_since_contact"]
            ],
            ctx.t(col + "register"): [yes if v else "" for v in rows["on_register"]],
            ctx.t(col + "zone"): [yes if v else "" for v in rows["in_zone"]],
            ctx.t(col + "follow_up"): [
                ctx.t(f"safety.follow_up.{s}") if s else "" for s in detail("follow_up_status")
            ],
            ctx.t(col + "assignee"): detail("assignee"),
            ctx.t(col + "phone"): detail("phone"),
        }
    )
    widgets.selectable_table(
        table,
        ids,
        "ua_table",
        "ua_person",
        width="stretch",
        height=520,
    )
    return ids


def _households(state, district: str) -> None:
    table = state.households()
    if district:
        table = table[table["district"].fillna("—") == district]
    st.caption(
        ctx.t(
            "safety.unaccounted.shown_households",
            shown=f"{min(len(table), PAGE_ROWS):,}",
            total=f"{len(table):,}",
        )
    )
    col = "safety.unaccounted.col."
    yes = ctx.t("safety.unaccounted.mark")
    shown = table.head(PAGE_ROWS)
    policy.unaccounted_households(ctx.engine, ctx.viewer, incident_id, shown["household_id"])
    widgets.text_table(
        pd.DataFrame(
            {
                ctx.t(col + "household"): shown["household_id"].astype(int),
                ctx.t(col + "district"): shown["district"].fillna("").astype(str),
                ctx.t(col + "members"): shown["members"],
                ctx.t(col + "accounted"): shown["accounted"],
                ctx.t(col + "unaccounted"): shown["unaccounted"],
                ctx.t("safety.state.needs_help"): shown["needs_help"],
                ctx.t(col + "register"): shown["register"],
                ctx.t(col + "zone"): [yes if v else "" for v in shown["in_zone"]],
            }
        ),
        width="stretch",
        height=520,
    )


def _person_panel(state, person: int) -> None:
    row = state.board[state.board["citizen_id"] == person].iloc[0]
    details = policy.unaccounted_details(ctx.engine, ctx.viewer, incident_id, [person])
    info = details.iloc[0] if len(details) else pd.Series(dtype=object)
    st.subheader(ctx.t("safety.unaccounted.person", id=person))
    col = "safety.unaccounted.col."

    def text(value) -> str:
        return "—" if value is None or pd.isna(value) else str(value)

    facts = {
        ctx.t(col + "name"): text(info.get("name")),
        ctx.t(col + "phone"): text(info.get("phone")),
        ctx.t(col + "address"): text(info.get("address")),
        ctx.t(col + "district"): text(row["district"]),
        ctx.t(col + "state"): safety_panels.state_text(ctx, row["state"]),
        ctx.t(col + "source"): safety_panels.source_text(ctx, row["source"], row["detail"]),
        ctx.t(col + "last_contact"): format_datetime(row["last_contact_at"], ctx.lang)
        if pd.notna(row["last_contact_at"])
        else ctx.t("safety.unaccounted.never"),
        ctx.t(col + "supporter"): text(info.get("supporter_name")),
        ctx.t(col + "supporter_phone"): text(info.get("supporter_phone")),
        ctx.t(col + "follow_up"): ctx.t(f"safety.follow_up.{info.get('follow_up_status')}")
        if pd.notna(info.get("follow_up_status"))
        else "—",
        ctx.t(col + "assignee"): text(info.get("assignee")),
        ctx.t(col + "attempts"): text(info.get("attempts")),
    }
    widgets.text_table(
        pd.DataFrame(
            {ctx.t("panel.item"): list(facts), ctx.t("panel.value"): list(facts.values())}
        ),
        width="stretch",
    )
    version = info.get("follow_up_version")
    seen = st.session_state.setdefault(
        f"fu_seen_{person}", None if pd.isna(version) else int(version)
    )
    safety_panels.follow_up_forms(ctx, state, incident_id, person, seen)
    st.markdown(f"**{ctx.t('safety.unaccounted.history')}**")  # a catalog label, no data
    history = policy.safety_history(ctx.engine, ctx.viewer, incident_id, person)
    if history.empty:
        st.caption(ctx.t("safety.unaccounted.history_empty"))
    else:
        widgets.text_table(safety_panels.history_table(ctx, history), width="stretch")


live()
