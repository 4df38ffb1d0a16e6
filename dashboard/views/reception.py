"""避難所受付 — shelter reception on a tablet: find a registered person (name, kana, birth date),
read their app's QR code (a scanner or the camera), or register a walk-in; check a whole
household in at once; see who is here and record check-outs.

Shelter staff at their own open shelters; headquarters in an emergency (``sql.policy``)."""

import datetime as dt

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from bosai.vocab import WALK_IN_AGE_BANDS
from cityos import citizen_qr
from dashboard import data, gate, safety_panels, widgets
from dashboard.context import current
from sql import policy
from sql.queries.shelter_board import shelter_board

ctx = current()
st.title(ctx.t("safety.reception.title"))
incident = data.current_incident(ctx.database_url)
incident_id = incident.id if incident and incident.active else None
if incident_id is None:
    st.info(ctx.t("safety.reception.no_incident"), icon=":material/info:")
    st.stop()
mode = policy.mode_of(ctx.engine, incident_id)

board = shelter_board(ctx.engine, incident_id)
mine = board[board["is_open"]]
if ctx.viewer.role == "shelter_staff":
    mine = mine[mine["id"].isin(ctx.viewer.shelter_ids)]
if mine.empty or not policy.may_run_reception(ctx.viewer, mode, int(mine.iloc[0]["id"])):
    st.warning(
        ctx.t("safety.reception.no_shelters")
        if ctx.viewer.role == "shelter_staff"
        else ctx.t("safety.reception.not_allowed"),
        icon=":material/block:",
    )
    st.stop()
names = dict(zip(mine["id"].astype(int), mine["name"], strict=True))
shelter_id = st.selectbox(
    ctx.t("safety.reception.shelter"),
    list(names),
    format_func=lambda i: names[i],
    key="rcp_shelter",
)
row = mine[mine["id"] == shelter_id].iloc[0]

try:
    here = policy.shelter_people(ctx.engine, ctx.viewer, incident_id, shelter_id)
except SQLAlchemyError as exc:
    widgets.unreachable_banner(ctx, "database", exc)
    st.stop()
top = st.columns(4)
top[0].metric(ctx.t("safety.reception.here_now"), f"{int(here['household_size'].sum()):,}")
top[1].metric(ctx.t("safety.reception.citizens_here"), f"{int(here['citizen_id'].notna().sum()):,}")
top[2].metric(
    ctx.t("safety.reception.walk_ins_here"),
    f"{int(here.loc[here['walk_in_id'].notna(), 'household_size'].sum()):,}",
)
capacity = row.get("capacity")
top[3].metric(ctx.t("safety.reception.capacity"), f"{int(capacity):,}" if capacity else "—")
if row.get("head_count_source") == "reception":
    st.caption(ctx.t("safety.reception.counts_note"))
safety_panels.show_messages()

search_tab, qr_tab, walk_in_tab, here_tab = widgets.rerun_tabs(
    "rcp_tabs",
    [ctx.t(f"safety.reception.tab_{tab}") for tab in ("search", "qr", "walk_in", "here")],
)

with search_tab:
    with st.form("rcp_search_form", border=False):
        left, right, go = st.columns([3, 2, 1], vertical_alignment="bottom")
        text = left.text_input(
            ctx.t("safety.reception.search_text"),
            placeholder=ctx.t("safety.reception.search_placeholder"),
            max_chars=50,
        )
        birth = right.date_input(
            ctx.t("safety.reception.birth_date"),
            value=None,
            min_value=dt.date(1900, 1, 1),
            max_value=dt.date.today(),
            format="YYYY/MM/DD",
        )
        if go.form_submit_button(ctx.t("safety.reception.search"), icon=":material/search:"):
            st.session_state["rcp_query"] = (text, birth)
            st.session_state.pop("rcp_person", None)
    st.caption(ctx.t("safety.reception.search_note"))
    query = st.session_state.get("rcp_query")
    if query:
        try:
            found = policy.reception_search(
                ctx.engine, ctx.viewer, incident_id, shelter_id, query[0], query[1]
            )
        except ValueError:
            st.warning(ctx.t("safety.refused.search_short"))
            found = None
        if found is not None and found.empty:
            st.info(ctx.t("safety.reception.found_none"))
        elif found is not None:
            if found.attrs.get("more"):
                st.warning(ctx.t("safety.reception.found_more", n=policy.RECEPTION_SEARCH_LIMIT))
            else:
                st.caption(ctx.t("safety.reception.found", n=len(found)))
            person = safety_panels.pick_person(ctx, found, shelter_id, "rcp_results", "rcp_person")
            if person is not None:
                st.subheader(ctx.t("safety.reception.household"))
                safety_panels.household_desk(ctx, incident_id, shelter_id, person, "search")

with qr_tab:
    st.text_input(
        ctx.t("safety.reception.qr_input"),
        placeholder=ctx.t("safety.reception.qr_placeholder"),
        key="rcp_qr_text",
        on_change=gate.callback(safety_panels.on_qr_scanner),
        args=(ctx, incident_id, shelter_id),
    )
    if citizen_qr.decoder_available():
        photo = st.camera_input(
            ctx.t("safety.reception.qr_camera"),
            help=ctx.t("safety.reception.qr_camera_help"),
            key="rcp_camera",
        )
        if photo is not None and st.session_state.get("rcp_camera_seen") != photo.file_id:
            st.session_state["rcp_camera_seen"] = photo.file_id
            texts = citizen_qr.decode_image(photo.getvalue())
            if texts:
                safety_panels.on_qr_text(ctx, incident_id, shelter_id, texts[0])
            else:
                safety_panels.say("error", ctx.t("safety.reception.qr_unreadable"))
            st.rerun()
    else:
        st.caption(ctx.t("safety.reception.qr_no_decoder"))
    person = st.session_state.get("rcp_qr_person")
    if person is not None:
        st.subheader(ctx.t("safety.reception.household"))
        safety_panels.household_desk(ctx, incident_id, shelter_id, person, "qr")

with walk_in_tab:
    st.caption(ctx.t("safety.reception.walk_in_intro"))
    with st.form("rcp_walk_in_form"):
        first, second = st.columns(2)
        name = first.text_input(ctx.t("safety.reception.walk_in_name"), max_chars=100)
        kana = second.text_input(ctx.t("safety.reception.walk_in_kana"), max_chars=100)
        third, fourth = st.columns(2)
        band = third.selectbox(
            ctx.t("safety.reception.walk_in_age"),
            WALK_IN_AGE_BANDS,
            index=len(WALK_IN_AGE_BANDS) - 1,
            format_func=lambda b: ctx.t(f"safety.age_band.{b}"),
        )
        size = fourth.number_input(
            ctx.t("safety.reception.walk_in_size"), min_value=1, max_value=30, value=1, step=1
        )
        needs = st.text_area(ctx.t("safety.reception.walk_in_needs"), max_chars=500, height=80)
        if st.form_submit_button(
            ctx.t("safety.reception.walk_in_check"), type="primary", icon=":material/person_search:"
        ):
            st.session_state["rcp_walk_in"] = {
                "name": name,
                "kana": kana,
                "age_band": band,
                "size": int(size),
                "needs": needs,
            }
    draft = st.session_state.get("rcp_walk_in")
    if draft:
        matches = safety_panels.walk_in_matches(ctx, incident_id, shelter_id, draft)
        if matches is None:
            st.warning(ctx.t("safety.refused.name_required"))
        elif matches.empty:
            st.info(ctx.t("safety.reception.walk_in_no_match"))
        else:
            st.warning(ctx.t("safety.reception.walk_in_matches"), icon=":material/person_search:")
            match = safety_panels.pick_person(
                ctx, matches, shelter_id, "rcp_match_table", "rcp_match"
            )
            if match is not None:
                st.session_state["rcp_match_ids"] = [match]
                st.button(
                    ctx.t("safety.reception.walk_in_as_match"),
                    icon=":material/how_to_reg:",
                    on_click=gate.callback(safety_panels.on_check_in),
                    args=(ctx, incident_id, shelter_id, "search", "rcp_match_ids"),
                    width="stretch",
                )
        if matches is not None:
            st.button(
                ctx.t("safety.reception.walk_in_as_new_n", n=draft["size"]),
                type="primary",
                icon=":material/person_add:",
                on_click=gate.callback(safety_panels.on_walk_in),
                args=(ctx, incident_id, shelter_id),
                width="stretch",
            )

with here_tab:
    if here.empty:
        st.info(ctx.t("safety.reception.here_empty"))
    else:
        stays = here["stay_id"].astype(int).tolist()
        widgets.selectable_table(
            safety_panels.people_here_table(ctx, here),
            stays,
            "rcp_here_table",
            "rcp_leaving",
            width="stretch",
            height=360,
        )
        leaving = st.session_state.get("rcp_leaving")
        if leaving in stays:
            stay = here[here["stay_id"] == leaving].iloc[0]
            if st.button(
                ctx.t("safety.reception.check_out"), icon=":material/logout:", width="stretch"
            ):
                safety_panels.check_out_dialog(ctx, incident_id, shelter_id, stay)
