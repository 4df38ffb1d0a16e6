"""The safety loop's page parts: key figures, the reception desk, a person on the
unaccounted-for list, and the callbacks of their actions.

Callbacks are plain module-level functions taking the page context and ids (the app's gate
can wrap them); each writes through ``sql.actions`` and leaves a message saying what really
happened (checked in, moved from where, already here by whom and when; conflicts name who
changed what). Names from the city OS or typed by staff are shown only in ``st.dataframe`` /
``st.data_editor`` cells and widget values, never as Markdown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from bosai.jpdate import format_datetime, wareki
from cityos import citizen_qr
from sql import policy
from sql.actions import ActionRefused, ConflictError
from sql.actions.follow_up import assign_follow_up, record_follow_up, record_report
from sql.actions.reception import (
    SafetyRefused,
    check_in,
    check_out,
    record_place,
    register_walk_in,
)

from . import gate, widgets
from .context import PageContext

MESSAGES_KEY = "_bosai_safety_messages"


# ------------------------------------------------------------------ messages


def say(kind: str, text: str) -> None:
    st.session_state.setdefault(MESSAGES_KEY, []).append((kind, text))


def show_messages() -> None:
    """Show (once) what the last actions did."""
    for kind, text in st.session_state.pop(MESSAGES_KEY, []):
        {"success": st.success, "error": st.error, "warning": st.warning, "info": st.info}[kind](
            text
        )


def refusal(ctx: PageContext, exc: ActionRefused) -> str:
    if isinstance(exc, SafetyRefused):
        return ctx.t(exc.key, **exc.values)
    return ctx.t("panel.refused", reason=str(exc))


def _when(ctx: PageContext, value: Any) -> str:
    if value is None or pd.isna(value):
        return "—"
    return format_datetime(pd.Timestamp(value).to_pydatetime(), ctx.lang)


def birth_text(ctx: PageContext, value: Any) -> str:
    if value is None or pd.isna(value):
        return ""
    day = value if isinstance(value, dt.date) else pd.Timestamp(value).date()
    return wareki(day) if ctx.lang == "ja" else day.isoformat()


# ------------------------------------------------------------------ key figures


def accounted_kpis(
    ctx: PageContext, counts: dict[str, int], places: dict[str, int], as_of=None
) -> None:
    """One row of key figures — accounted for (share), unaccounted, needs help, priority and
    register people not accounted for — and a line with the rest (no contact, evacuating,
    shelters, at home, in cars)."""
    people = counts["people"] or 1

    def of(n: int) -> str:
        return ctx.t("safety.kpi.of_people", n=f"{n:,}")

    # Each figure (a count under its own key) and what stands beside it.
    figures = {
        "accounted": ctx.t("safety.kpi.share", rate=f"{counts['accounted'] / people:.1%}"),
        "unaccounted": of(counts["people"]),
        "needs_help": None,
        "priority_unaccounted": of(counts["priority"]),
        "register_unaccounted": of(counts["register"]),
    }
    for slot, (key, beside) in zip(st.columns(len(figures)), figures.items(), strict=True):
        widgets.key_figure(slot, ctx.t(f"safety.kpi.{key}"), f"{counts[key]:,}", beside)
    st.caption(
        ctx.t(
            "safety.unaccounted.more",
            **widgets.counts_text(counts, "no_contact", "moving"),
            **widgets.counts_text(places, "shelter", "home", "car"),
            as_of=_when(ctx, as_of) if as_of is not None else "—",
        )
    )


# ------------------------------------------------------------------ reception: callbacks


def _report_check_in(ctx: PageContext, done) -> None:
    checked = [d for d in done if d.result == "checked_in"]
    moved = [d for d in done if d.result == "moved"]
    already = [d for d in done if d.result == "already_here"]
    if checked:
        say("success", ctx.t("safety.reception.done_in", n=len(checked)))
    for d in moved:
        place = d.from_shelter or ctx.t(f"safety.place.{d.from_place}")
        say("warning", ctx.t("safety.reception.done_moved", n=1, place=place))
    for d in already:
        say(
            "info",
            ctx.t("safety.reception.done_already", n=1, by=d.by or "?", at=_when(ctx, d.at)),
        )


def on_check_in(
    ctx: PageContext, incident_id: int, shelter_id: int, method: str, ids_key: str
) -> None:
    """Check in the people whose ids the page left in ``st.session_state[ids_key]``."""
    ids = list(st.session_state.get(ids_key) or [])
    try:
        done = check_in(
            ctx.engine, ctx.viewer.for_incident(incident_id), incident_id, shelter_id, ids, method
        )
    except ConflictError:
        say("error", ctx.t("safety.reception.done_already", n=len(ids), by="?", at="—"))
    except ActionRefused as exc:
        say("error", refusal(ctx, exc))
    else:
        _report_check_in(ctx, done)
        for key in ("rcp_person", "rcp_query", "rcp_qr_person", "rcp_walk_in"):
            st.session_state.pop(key, None)


def on_check_out(ctx: PageContext, incident_id: int, shelter_id: int, stay: dict) -> None:
    try:
        check_out(
            ctx.engine,
            ctx.viewer.for_incident(incident_id),
            incident_id,
            shelter_id,
            citizen_id=stay.get("citizen_id"),
            walk_in_id=stay.get("walk_in_id"),
        )
    except ActionRefused as exc:
        say("error", refusal(ctx, exc))
    else:
        say("success", ctx.t("safety.reception.done_out"))
        st.session_state.pop("rcp_leaving", None)


def on_walk_in(ctx: PageContext, incident_id: int, shelter_id: int) -> None:
    draft = st.session_state.get("rcp_walk_in") or {}
    try:
        register_walk_in(
            ctx.engine,
            ctx.viewer.for_incident(incident_id),
            incident_id,
            shelter_id,
            name=draft.get("name", ""),
            kana=draft.get("kana"),
            age_band=draft.get("age_band", "unknown"),
            household_size=draft.get("size", 1),
            needs=draft.get("needs"),
        )
    except ActionRefused as exc:
        say("error", refusal(ctx, exc))
    else:
        say("success", ctx.t("safety.reception.done_walk_in", n=int(draft.get("size", 1))))
        st.session_state.pop("rcp_walk_in", None)


def on_qr_text(ctx: PageContext, incident_id: int, shelter_id: int, text: str) -> None:
    """A scanned code: find its holder (their household is offered next), or say why not."""
    st.session_state.pop("rcp_qr_person", None)
    code = citizen_qr.parse(text)
    if code is None:
        say("error", ctx.t("safety.reception.qr_not_ours", value=(text or "")[:40]))
        return
    if not code.is_for(ctx.city.municipality_code):
        say(
            "error",
            ctx.t(
                "safety.reception.qr_other_city",
                city=_city_name(code.municipality_code, ctx.lang),
                code=code.municipality_code,
            ),
        )
        return
    found = policy.reception_by_subject(
        ctx.engine, ctx.viewer.for_incident(incident_id), incident_id, shelter_id, code.subject
    )
    if found.empty:
        say("error", ctx.t("safety.reception.qr_unknown"))
        return
    st.session_state["rcp_qr_person"] = int(found.iloc[0]["citizen_id"])
    say("success", ctx.t("safety.reception.qr_found"))


def on_qr_scanner(ctx: PageContext, incident_id: int, shelter_id: int) -> None:
    text = st.session_state.get("rcp_qr_text") or ""
    st.session_state["rcp_qr_text"] = ""
    if text.strip():
        on_qr_text(ctx, incident_id, shelter_id, text)


def _city_name(code: str, lang: str) -> str:
    from sql.city_config import known_city_name

    return known_city_name(code, lang) or "—"


# ------------------------------------------------------------------ reception: parts


def status_text(ctx: PageContext, row: pd.Series, shelter_id: int) -> str:
    staying = row.get("staying")
    if staying is None or pd.isna(staying):
        return ctx.t("safety.reception.status.none")
    if staying == "shelter" and row.get("staying_shelter_id") == shelter_id:
        return ctx.t("safety.reception.status.here")
    return ctx.t(f"safety.reception.status.{staying}")


def person_table(ctx: PageContext, found: pd.DataFrame, shelter_id: int) -> pd.DataFrame:
    unnamed = ctx.t("safety.reception.unnamed")
    return pd.DataFrame(
        {
            ctx.t("safety.reception.col.name"): found["name"].fillna(unnamed).astype(str),
            ctx.t("safety.reception.col.kana"): found["kana"].fillna("").astype(str),
            ctx.t("safety.reception.col.birth"): [birth_text(ctx, v) for v in found["birth_date"]],
            ctx.t("safety.reception.col.district"): found["district"].fillna("").astype(str),
            ctx.t("safety.reception.col.household_size"): found["household_size"].astype("Int64"),
            ctx.t("safety.reception.col.status"): [
                status_text(ctx, r, shelter_id) for _, r in found.iterrows()
            ],
        }
    )


def pick_person(
    ctx: PageContext, found: pd.DataFrame, shelter_id: int, table_key: str, pick_key: str
) -> int | None:
    """The people found, as a table to pick one from (:func:`person_table`); the citizen id
    picked, while it is among them."""
    ids = found["citizen_id"].astype(int).tolist()
    widgets.selectable_table(
        person_table(ctx, found, shelter_id), ids, table_key, pick_key, width="stretch"
    )
    picked = st.session_state.get(pick_key)
    return picked if picked in ids else None


def household_desk(
    ctx: PageContext, incident_id: int, shelter_id: int, citizen_id: int, method: str
) -> None:
    """The household of the person found: tick who came along, then check them in."""
    members = policy.reception_household(
        ctx.engine, ctx.viewer.for_incident(incident_id), incident_id, shelter_id, citizen_id
    )
    if members.empty:
        return
    st.caption(ctx.t("safety.reception.household_note"))
    table = person_table(ctx, members, shelter_id)
    together = ctx.t("safety.reception.col.together")
    table.insert(0, together, members["citizen_id"] == citizen_id)
    edited = st.data_editor(
        table,
        hide_index=True,
        width="stretch",
        disabled=[c for c in table.columns if c != together],
        column_config={together: st.column_config.CheckboxColumn(together, width="small")},
        key=f"rcp_household_{citizen_id}",
    )
    chosen = members.loc[edited[together].to_numpy(bool), "citizen_id"].astype(int).tolist()
    st.session_state["rcp_chosen"] = chosen
    st.button(
        ctx.t("safety.reception.check_in_n", n=len(chosen)),
        type="primary",
        icon=":material/how_to_reg:",
        disabled=not chosen,
        on_click=gate.callback(on_check_in),
        args=(
            ctx,
            incident_id,
            shelter_id,
            "household" if len(chosen) > 1 else method,
            "rcp_chosen",
        ),
        key=f"rcp_check_in_{citizen_id}",
        width="stretch",
    )


def stay_label(ctx: PageContext, row: pd.Series) -> str:
    """A person at the shelter as an option label (plain text in a selectbox, not Markdown)."""
    if pd.notna(row.get("walk_in_id")):
        return ctx.t(
            "safety.reception.walk_in_label", name=row["name"], n=int(row["household_size"])
        )
    if row.get("name") is None or pd.isna(row.get("name")):
        return ctx.t("safety.reception.unnamed_label", id=int(row["stay_id"]))
    return ctx.t("safety.reception.citizen_label", name=row["name"])


def people_here_table(ctx: PageContext, here: pd.DataFrame) -> pd.DataFrame:
    unnamed = ctx.t("safety.reception.unnamed")
    return pd.DataFrame(
        {
            ctx.t("safety.reception.col.name"): [
                str(n) if pd.notna(n) else unnamed for n in here["name"]
            ],
            ctx.t("safety.reception.col.kana"): here["kana"].fillna("").astype(str),
            ctx.t("safety.reception.col.people"): here["household_size"].astype("Int64"),
            ctx.t("safety.reception.col.age_band"): [
                ctx.t(f"safety.age_band.{a}") if pd.notna(a) else "" for a in here["age_band"]
            ],
            ctx.t("safety.reception.col.needs"): here["needs"].fillna("").astype(str),
            ctx.t("safety.reception.col.arrived"): [_when(ctx, v) for v in here["arrived_at"]],
            ctx.t("safety.reception.col.method"): [
                ctx.t(f"safety.reception.method_name.{m}") for m in here["method"]
            ],
        }
    )


def walk_in_matches(
    ctx: PageContext, incident_id: int, shelter_id: int, draft: dict
) -> pd.DataFrame | None:
    """Registered people who may be this walk-in (by their name, then their kana); None when
    the walk-in has no usable name."""
    found = []
    for text in (draft.get("name"), draft.get("kana")):
        if text and len(policy.normalise_search(text)) >= 2:
            found.append(
                policy.reception_search(
                    ctx.engine, ctx.viewer.for_incident(incident_id), incident_id, shelter_id, text
                )
            )
    if not found:
        return None
    return pd.concat(found, ignore_index=True).drop_duplicates("citizen_id")


def check_out_dialog(ctx: PageContext, incident_id: int, shelter_id: int, stay: pd.Series) -> None:
    """Confirm a check-out: the person leaves the shelter's roll and its head count."""
    gate.dialog(ctx.t("safety.reception.check_out"))(_check_out_body)(
        ctx, incident_id, shelter_id, stay
    )


def _check_out_body(ctx: PageContext, incident_id: int, shelter_id: int, stay: pd.Series) -> None:
    st.text(ctx.t("safety.reception.check_out_confirm", name=stay_label(ctx, stay)))
    left, right = st.columns(2)
    target = {
        "citizen_id": int(stay["citizen_id"]) if pd.notna(stay["citizen_id"]) else None,
        "walk_in_id": int(stay["walk_in_id"]) if pd.notna(stay["walk_in_id"]) else None,
    }
    if left.button(ctx.t("safety.reception.confirm"), type="primary", width="stretch"):
        on_check_out(ctx, incident_id, shelter_id, target)
        st.rerun()
    if right.button(ctx.t("safety.reception.cancel"), width="stretch"):
        st.rerun()


# ------------------------------------------------------------------ the list: callbacks


def on_assign(
    ctx: PageContext, incident_id: int, citizen_id: int, seen_version: int | None
) -> None:
    state = st.session_state
    assignee = state.get(f"fu_assignee_{citizen_id}") or ""
    method = state.get(f"fu_method_{citizen_id}") or "call"
    how = ctx.t(f"safety.method.{method}")
    done = ctx.t("safety.unaccounted.assigned", assignee=assignee.strip(), method=how)
    _follow_up(
        ctx, assign_follow_up, (incident_id, citizen_id, seen_version, assignee, method), done
    )


def _follow_up(ctx: PageContext, action: Callable, args: tuple, done: str) -> None:
    """Take a follow-up ``action`` on one person (``args``: the incident, the citizen, the
    version the page showed, then the action's own) and say ``done``, or why not. The version
    seen is forgotten unless the action was refused outright (a conflict shows the newer one)."""
    incident_id, citizen_id = args[:2]
    try:
        action(ctx.engine, ctx.viewer.for_incident(incident_id), *args)
    except ConflictError as exc:
        say("error", conflict_text(ctx, exc))
        st.session_state.pop(f"fu_seen_{citizen_id}", None)
    except ActionRefused as exc:
        say("error", refusal(ctx, exc))
    else:
        st.session_state.pop(f"fu_seen_{citizen_id}", None)
        say("success", done)


def conflict_text(ctx: PageContext, exc: ConflictError) -> str:
    now = exc.current
    status = now.get("status")
    return ctx.t(
        "safety.refused.conflict",
        by=now.get("by") or "?",
        status=ctx.t(f"safety.follow_up.{status}") if status else "—",
        assignee=now.get("assignee") or "—",
    )


def on_outcome(
    ctx: PageContext,
    incident_id: int,
    citizen_id: int,
    seen_version: int | None,
    outcome: str,
    note: str | None,
    members: list[int],
) -> None:
    done = ctx.t(
        "safety.unaccounted.recorded",
        outcome=ctx.t(f"safety.follow_up.{outcome}"),
        n=1 + len(members),
    )
    _follow_up(
        ctx, record_follow_up, (incident_id, citizen_id, seen_version, outcome, note, members), done
    )


def on_report(ctx: PageContext, incident_id: int, citizen_id: int) -> None:
    state = st.session_state
    source = state.get(f"rp_source_{citizen_id}") or (
        "rescue" if ctx.viewer.role == "rescue" else "family"
    )
    outcome = state.get(f"rp_outcome_{citizen_id}") or "safe"
    try:
        record_report(
            ctx.engine,
            ctx.viewer.for_incident(incident_id),
            incident_id,
            [citizen_id],
            source,
            outcome,
            state.get(f"rp_note_{citizen_id}"),
        )
    except ActionRefused as exc:
        say("error", refusal(ctx, exc))
    else:
        say(
            "success", ctx.t("safety.unaccounted.reported", source=ctx.t(f"safety.source.{source}"))
        )
        state.pop(f"rp_note_{citizen_id}", None)


def on_place(ctx: PageContext, incident_id: int, citizen_id: int) -> None:
    state = st.session_state
    kind = state.get(f"pl_kind_{citizen_id}") or "home"
    try:
        done = record_place(
            ctx.engine,
            ctx.viewer.for_incident(incident_id),
            incident_id,
            [citizen_id],
            kind,
            state.get(f"pl_text_{citizen_id}") or "",
        )
    except ActionRefused as exc:
        say("error", refusal(ctx, exc))
    else:
        say(
            "success",
            ctx.t("safety.unaccounted.placed", place=ctx.t(f"safety.place.{kind}"), n=len(done)),
        )
        state.pop(f"pl_text_{citizen_id}", None)


# ------------------------------------------------------------------ the list: parts


def state_text(ctx: PageContext, state: Any) -> str:
    return ctx.t(f"safety.state.{state}")


def source_text(ctx: PageContext, source: Any, detail: Any) -> str:
    if source is None or pd.isna(source):
        return "—"
    what = (
        ctx.t(f"status.{detail}")
        if source == "app" and detail not in ("rescue_requested",)
        else ctx.t(f"safety.detail.{detail}")
    )
    colon = "：" if ctx.lang == "ja" else ": "
    return f"{ctx.t(f'safety.source.{source}')}{colon}{what}"


def history_table(ctx: PageContext, history: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            ctx.t("safety.unaccounted.col.at"): [_when(ctx, v) for v in history["at"]],
            ctx.t("safety.unaccounted.col.source"): [
                ctx.t(f"safety.source.{s}") for s in history["source"]
            ],
            ctx.t("safety.unaccounted.col.detail"): [
                ctx.t(f"status.{d}") if s == "app" else ctx.t(f"safety.detail.{d}")
                for s, d in zip(history["source"], history["detail"], strict=True)
            ],
            ctx.t("safety.unaccounted.col.shelter"): history["shelter"].fillna("").astype(str),
            ctx.t("safety.unaccounted.col.place"): history["place"].fillna("").astype(str),
            ctx.t("safety.unaccounted.col.note"): history["note"].fillna("").astype(str),
            ctx.t("safety.unaccounted.col.recorded_by"): history["recorded_by"]
            .fillna("")
            .astype(str),
        }
    )


# ------------------------------------------------------------------ the list as a file


def unaccounted_file(ctx: PageContext, rows: pd.DataFrame, details: pd.DataFrame) -> pd.DataFrame:
    """The unaccounted-for list as the follow-up teams' file: one row per person in the list's
    order, headers and words in the viewer's language, times in Japan time.

    Parameters
    ----------
    ctx
        The page context (language).
    rows
        Rows of the safety state's board (citizen_id, escalated, district, state, source,
        detail, last_contact_at, minutes_since_contact, on_register, in_zone).
    details
        What :func:`sql.policy.unaccounted_download` returned for them (names and contacts
        only where the policy allowed).

    Returns
    -------
    pandas.DataFrame
        Text cells (spreadsheet escaping is the writer's, ``bosai.spreadsheet_safe``).
    """
    info = details.set_index("citizen_id").reindex(rows["citizen_id"].astype(int))
    col = "safety.unaccounted.col."
    yes = ctx.t("safety.unaccounted.mark")

    def text(name: str) -> list[str]:
        return ["" if pd.isna(v) else str(v) for v in info[name]]

    return pd.DataFrame(
        {
            ctx.t(col + "priority"): [
                ctx.t("safety.unaccounted.escalated_mark") if e else "" for e in rows["escalated"]
            ],
            ctx.t(col + "number"): rows["citizen_id"].astype(int).to_numpy(),
            ctx.t(col + "name"): text("name"),
            ctx.t("safety.reception.col.kana"): text("kana"),
            ctx.t(col + "phone"): text("phone"),
            ctx.t(col + "address"): text("address"),
            ctx.t(col + "district"): ["" if pd.isna(d) else str(d) for d in rows["district"]],
            ctx.t(col + "state"): [state_text(ctx, s) for s in rows["state"]],
            ctx.t(col + "source"): [
                source_text(ctx, s, d) for s, d in zip(rows["source"], rows["detail"], strict=True)
            ],
            ctx.t(col + "last_contact"): [
                format_datetime(v, ctx.lang) if pd.notna(v) else ctx.t("safety.unaccounted.never")
                for v in rows["last_contact_at"]
            ],
            ctx.t(col + "since_minutes"): [
                str(int(m)) if pd.notna(m) else "" for m in rows["minutes_since_contact"]
            ],
            ctx.t(col + "register"): [yes if v else "" for v in rows["on_register"]],
            ctx.t(col + "zone"): [yes if v else "" for v in rows["in_zone"]],
            ctx.t(col + "follow_up"): [
                ctx.t(f"safety.follow_up.{s}") if s else "" for s in text("follow_up_status")
            ],
            ctx.t(col + "assignee"): text("assignee"),
            ctx.t(col + "attempts"): ["" if pd.isna(v) else str(int(v)) for v in info["attempts"]],
            ctx.t(col + "supporter"): text("supporter_name"),
            ctx.t(col + "supporter_phone"): text("supporter_phone"),
        }
    )


def unaccounted_download(
    ctx: PageContext,
    incident_id: int,
    board: pd.DataFrame,
    as_of: dt.datetime,
    filters: dict[str, Any],
) -> None:
    """The download button of the list as shown (every page of it): the file is made when
    requested, after the gate re-checks the viewer, from the policy's audited download."""
    from bosai.jpdate import file_stamp
    from bosai.spreadsheet_safe import to_csv_bytes

    engine, viewer = ctx.engine, ctx.viewer
    rows = board.reset_index(drop=True)

    def produce() -> bytes:
        details = policy.unaccounted_download(
            engine, viewer, incident_id, rows["citizen_id"], filters=filters
        )
        return to_csv_bytes(unaccounted_file(ctx, rows, details))

    gate.download_button(
        ctx.t("safety.unaccounted.download"),
        produce,
        file_name=ctx.t("safety.unaccounted.file_name", stamp=file_stamp(as_of)),
        mime="text/csv",
        disabled=rows.empty,
        icon=":material/download:",
        key="ua_download",
    )
    st.caption(ctx.t("safety.unaccounted.download_note"))


def follow_up_forms(
    ctx: PageContext, state, incident_id: int, person: int, seen_version: int | None
) -> None:
    """The actions on one person: assign a caller or a team, record what they found (confirmed
    in a dialog), record a report, record them at home or in a car."""
    if ctx.viewer.role not in ("hq", "rescue"):
        return
    row = state.board[state.board["citizen_id"] == person].iloc[0]

    def choose(slot: Any, field: str, codes: list[str], words: str, key: str) -> None:
        """The form's ``field``: one of ``codes``, each shown as ``safety.<words>.<code>``."""
        slot.selectbox(
            ctx.t(f"safety.unaccounted.{field}"),
            codes,
            format_func=lambda code: ctx.t(f"safety.{words}.{code}"),
            key=f"{key}_{person}",
        )

    assign_tab, outcome_tab, report_tab, place_tab = widgets.rerun_tabs(
        "ua_panel_tabs",
        [
            ctx.t(f"safety.unaccounted.tab_{tab}")
            for tab in ("assign", "outcome", "report", "place")
        ],
    )
    with assign_tab, st.form(f"fu_assign_form_{person}"):
        left, right = st.columns([3, 2])
        left.text_input(
            ctx.t("safety.unaccounted.assignee"),
            placeholder=ctx.t("safety.unaccounted.assignee_placeholder"),
            max_chars=64,
            key=f"fu_assignee_{person}",
        )
        choose(right, "method", ["call", "visit"], "method", "fu_method")
        st.form_submit_button(
            ctx.t("safety.unaccounted.assign"),
            icon=":material/assignment_ind:",
            on_click=gate.callback(on_assign),
            args=(ctx, incident_id, person, seen_version),
        )
    members = []
    if pd.notna(row["household_id"]):
        same = state.board[
            (state.board["household_id"] == row["household_id"])
            & (state.board["citizen_id"] != person)
        ]
        members = same["citizen_id"].astype(int).tolist()
    with outcome_tab, st.form(f"fu_outcome_form_{person}"):
        st.segmented_control(
            ctx.t("safety.unaccounted.outcome_label"),
            ["reached_safe", "needs_help", "not_reached"],
            default="reached_safe",
            format_func=lambda o: ctx.t(f"safety.follow_up.{o}"),
            key=f"fu_outcome_{person}",
        )
        st.text_input(ctx.t("safety.unaccounted.note"), max_chars=500, key=f"fu_note_{person}")
        if members:
            widgets.choose_several(
                st,
                ctx,
                ctx.t("safety.unaccounted.also_members"),
                members,
                f"fu_members_{person}",
                placeholder=ctx.t("safety.unaccounted.also_members"),
                format_func=lambda i: ctx.t("safety.unaccounted.person", id=i),
            )
        confirm = st.form_submit_button(
            ctx.t("safety.unaccounted.outcome"), type="primary", icon=":material/fact_check:"
        )
    if confirm:
        outcome_dialog(ctx, incident_id, person, seen_version)
    rescue = ctx.viewer.role == "rescue"
    with report_tab, st.form(f"rp_form_{person}"):
        left, right = st.columns(2)
        if not rescue:
            choose(left, "report_source", ["supporter", "family", "hq"], "source", "rp_source")
        choose(right, "report_outcome", ["safe", "needs_help"], "detail", "rp_outcome")
        st.text_input(ctx.t("safety.unaccounted.note"), max_chars=500, key=f"rp_note_{person}")
        st.form_submit_button(
            ctx.t("safety.unaccounted.report_rescue" if rescue else "safety.unaccounted.report"),
            icon=":material/record_voice_over:",
            on_click=gate.callback(on_report),
            args=(ctx, incident_id, person),
        )
    with place_tab, st.form(f"pl_form_{person}"):
        left, right = st.columns([2, 3])
        choose(left, "place_kind", ["home", "car"], "place", "pl_kind")
        right.text_input(
            ctx.t("safety.unaccounted.place_text"),
            placeholder=ctx.t("safety.unaccounted.place_placeholder"),
            max_chars=200,
            key=f"pl_text_{person}",
        )
        st.form_submit_button(
            ctx.t("safety.unaccounted.place"),
            icon=":material/home_pin:",
            on_click=gate.callback(on_place),
            args=(ctx, incident_id, person),
        )


def outcome_dialog(
    ctx: PageContext, incident_id: int, person: int, seen_version: int | None
) -> None:
    """Confirm a follow-up's outcome, saying what it does to the list."""
    gate.dialog(ctx.t("safety.unaccounted.outcome"))(_outcome_body)(
        ctx, incident_id, person, seen_version
    )


def _outcome_body(
    ctx: PageContext, incident_id: int, person: int, seen_version: int | None
) -> None:
    state = st.session_state
    outcome = state.get(f"fu_outcome_{person}") or "reached_safe"
    members = [int(i) for i in state.get(f"fu_members_{person}") or []]
    note = state.get(f"fu_note_{person}") or None
    effect = {
        "reached_safe": "outcome_effect_safe",
        "needs_help": "outcome_effect_help",
        "not_reached": "outcome_effect_not_reached",
    }[outcome]
    st.text(
        ctx.t(
            "safety.unaccounted.outcome_confirm",
            n=1 + len(members),
            outcome=ctx.t(f"safety.follow_up.{outcome}"),
        )
    )
    st.caption(ctx.t(f"safety.unaccounted.{effect}"))
    left, right = st.columns(2)
    if left.button(ctx.t("safety.reception.confirm"), type="primary", width="stretch"):
        on_outcome(ctx, incident_id, person, seen_version, outcome, note, members)
        st.rerun()
    if right.button(ctx.t("safety.reception.cancel"), width="stretch"):
        st.rerun()
