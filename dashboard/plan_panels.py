"""The individual evacuation plans page's parts: tables, the supporter confirmation, the
admin's edit form, deletion (confirmed in a dialog stating what the person loses) and the CSV
import (checked first, confirmed in a dialog)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd
import streamlit as st

from bosai.jpdate import format_datetime
from bosai.vocab import PLAN_DESTINATIONS, PLAN_TRANSPORTS
from importers.evacuation_plans import parse_plans
from sql.actions import ActionRefused, ConflictError
from sql.actions.follow_up import record_report
from sql.actions.plans import delete_plan, save_plan
from sql.queries.shelter_board import shelter_board

from . import gate, safety_panels
from .context import PageContext

show_messages = safety_panels.show_messages
say = safety_panels.say
SUPPORTER_SLOTS = 3


def _text(value) -> str:
    return "" if value is None or (not isinstance(value, list) and pd.isna(value)) else str(value)


def _supporters(value, lang: str = "ja") -> str:
    people = value or []
    comma, left, right = ("、", "（", "）") if lang == "ja" else (", ", " (", ")")
    return comma.join(
        p.get("name", "") + (f"{left}{p['relation']}{right}" if p.get("relation") else "")
        for p in people
    )


def _when(ctx: PageContext, value) -> str:
    return format_datetime(value, ctx.lang) if value is not None and pd.notna(value) else "—"


def _destination(ctx: PageContext, row) -> str:
    if row["destination_kind"] == "other":
        return _text(row.get("destination_note"))
    return _text(row.get("destination"))


def tracking_table(ctx: PageContext, tracked: pd.DataFrame) -> pd.DataFrame:
    col = "safety.plans.col."
    return pd.DataFrame(
        {
            ctx.t(col + "status"): [ctx.t(f"safety.plans.status.{s}") for s in tracked["status"]],
            ctx.t(col + "name"): tracked["name"].map(_text),
            ctx.t(col + "district"): tracked["district"].map(_text),
            ctx.t(col + "destination"): [_destination(ctx, r) for _, r in tracked.iterrows()],
            ctx.t(col + "supporters"): [_supporters(v, ctx.lang) for v in tracked["supporters"]],
            ctx.t(col + "transport"): [
                ctx.t(f"safety.plans.transport.{t}") for t in tracked["transport"]
            ],
            ctx.t(col + "confirmed_at"): [_when(ctx, v) for v in tracked["confirmed_at"]],
            ctx.t(col + "arrived_at"): [_when(ctx, v) for v in tracked["arrived_at"]],
            ctx.t(col + "elsewhere"): [
                ctx.t("safety.unaccounted.mark") if v else "" for v in tracked["arrived_elsewhere"]
            ],
        }
    )


def plans_table(ctx: PageContext, plans: pd.DataFrame) -> pd.DataFrame:
    col = "safety.plans.col."
    return pd.DataFrame(
        {
            ctx.t(col + "name"): plans["name"].map(_text),
            ctx.t(col + "district"): plans["district"].map(_text),
            ctx.t(col + "needs"): plans["needs"].map(_text),
            ctx.t(col + "kind"): [
                ctx.t(f"safety.plans.kind.{k}") for k in plans["destination_kind"]
            ],
            ctx.t(col + "destination"): [_destination(ctx, r) for _, r in plans.iterrows()],
            ctx.t(col + "supporters"): [_supporters(v, ctx.lang) for v in plans["supporters"]],
            ctx.t(col + "transport"): [
                ctx.t(f"safety.plans.transport.{t}") for t in plans["transport"]
            ],
            ctx.t(col + "updated"): [_when(ctx, v) for v in plans["updated_at"]],
            ctx.t(col + "source"): plans["source"].map(_text),
        }
    )


# ------------------------------------------------------------------ supporter confirmation


def on_supporter(ctx: PageContext, incident_id: int) -> None:
    state = st.session_state
    person = state.get("pl_supporter_person")
    try:
        record_report(
            ctx.engine,
            ctx.viewer.for_incident(incident_id),
            incident_id,
            [person] if person is not None else [],
            "supporter",
            state.get("pl_supporter_outcome") or "safe",
            state.get("pl_supporter_note"),
        )
    except ActionRefused as exc:
        say("error", safety_panels.refusal(ctx, exc))
    else:
        say("success", ctx.t("safety.plans.confirmed_done"))
        state.pop("pl_supporter_note", None)


def supporter_form(ctx: PageContext, incident_id: int, tracked: pd.DataFrame) -> None:
    names = dict(zip(tracked["citizen_id"].astype(int), tracked["name"].map(_text), strict=True))
    with st.form("pl_supporter_form"):
        st.markdown(f"**{ctx.t('safety.plans.confirm_supporter')}**")
        st.selectbox(
            ctx.t("safety.plans.pick"),
            list(names),
            format_func=lambda i: names[i] or str(i),
            key="pl_supporter_person",
        )
        st.segmented_control(
            ctx.t("safety.plans.confirm_outcome"),
            ["safe", "needs_help"],
            default="safe",
            format_func=lambda o: ctx.t(f"safety.detail.{o}"),
            key="pl_supporter_outcome",
        )
        st.text_input(ctx.t("safety.unaccounted.note"), max_chars=500, key="pl_supporter_note")
        st.form_submit_button(
            ctx.t("safety.plans.confirm_supporter"),
            type="primary",
            on_click=gate.callback(on_supporter),
            args=(ctx, incident_id),
        )


# ------------------------------------------------------------------ admin: edit


def _say_conflict(ctx: PageContext, key: str, exc: ConflictError) -> None:
    """Someone changed the plan first: who, and which version is current."""
    say("error", ctx.t(key, by=exc.current.get("by"), version=exc.current.get("version")))


def on_save(ctx: PageContext, citizen_id: int, version: int | None) -> None:
    state = st.session_state
    supporters = [
        {
            "name": state.get(f"pe_s{k}_name"),
            "phone": state.get(f"pe_s{k}_phone"),
            "relation": state.get(f"pe_s{k}_relation"),
        }
        for k in range(1, SUPPORTER_SLOTS + 1)
    ]
    try:
        new = save_plan(
            ctx.engine,
            ctx.viewer,
            citizen_id,
            version,
            destination_kind=state.get("pe_kind") or "shelter",
            destination_shelter_id=state.get("pe_shelter"),
            destination_note=state.get("pe_note"),
            supporters=supporters,
            transport=state.get("pe_transport") or "walk",
            transport_note=state.get("pe_transport_note"),
            notes=state.get("pe_notes"),
        )
    except ConflictError as exc:
        _say_conflict(ctx, "safety.refused.plan_conflict", exc)
    except ActionRefused as exc:
        say("error", safety_panels.refusal(ctx, exc))
    else:
        say("success", ctx.t("safety.plans.saved", version=new))
    state.pop("pe_loaded", None)


def _choose_code(slot: Any, ctx: PageContext, field: str, codes: Iterable[str], key: str) -> None:
    """The plan's ``field`` chosen from its codes, each shown in words
    (``safety.plans.<field>.<code>``) under the field's column label."""
    slot.selectbox(
        ctx.t(f"safety.plans.col.{field}"),
        codes,
        format_func=lambda code: ctx.t(f"safety.plans.{field}.{code}"),
        key=key,
    )


def edit_form(ctx: PageContext, plans: pd.DataFrame, incident_id: int | None = None) -> None:
    """The admin's form for one register person's plan, and the deletion of an existing plan
    (``incident_id``: the active incident whose activity log records a deletion)."""
    from sql import policy

    candidates = policy.plan_candidates(ctx.engine, ctx.viewer)
    if candidates.empty:
        st.info(ctx.t("register.empty"))
        return
    labels = {
        int(r.citizen_id): ctx.t(
            "safety.plans.person_label",
            name=_text(r.name),
            district=_text(r.district),
            state=ctx.t("safety.plans.has_plan" if r.has_plan else "safety.plans.no_plan"),
        )
        for r in candidates.itertuples()
    }
    person = st.selectbox(
        ctx.t("safety.plans.pick_person"),
        list(labels),
        format_func=labels.get,
        key="pe_person",
    )
    current = plans[plans["citizen_id"] == person]
    plan = current.iloc[0] if len(current) else None
    if st.session_state.get("pe_loaded") != person:
        _load(plan)
        st.session_state["pe_loaded"] = person
    board = shelter_board(ctx.engine, None)
    shelters = dict(zip(board["id"].astype(int), board["name"], strict=True))
    with st.form("pe_form"):
        left, right = st.columns(2)
        _choose_code(left, ctx, "kind", PLAN_DESTINATIONS, "pe_kind")
        right.selectbox(
            ctx.t("safety.plans.destination_shelter"),
            list(shelters),
            index=None,
            format_func=lambda i: shelters.get(i, str(i)),
            placeholder=ctx.t("safety.plans.destination_shelter"),
            key="pe_shelter",
        )
        st.text_input(ctx.t("safety.plans.destination_note"), max_chars=200, key="pe_note")
        for k in range(1, SUPPORTER_SLOTS + 1):
            a, b, c = st.columns(3)
            a.text_input(
                ctx.t("safety.plans.supporter_name", k=k), max_chars=100, key=f"pe_s{k}_name"
            )
            b.text_input(
                ctx.t("safety.plans.supporter_phone", k=k), max_chars=32, key=f"pe_s{k}_phone"
            )
            c.text_input(
                ctx.t("safety.plans.supporter_relation", k=k), max_chars=32, key=f"pe_s{k}_relation"
            )
        left, right = st.columns(2)
        _choose_code(left, ctx, "transport", PLAN_TRANSPORTS, "pe_transport")
        right.text_input(
            ctx.t("safety.plans.transport_note"), max_chars=200, key="pe_transport_note"
        )
        st.text_area(ctx.t("safety.plans.notes"), max_chars=1000, height=80, key="pe_notes")
        st.form_submit_button(
            ctx.t("safety.plans.save"),
            type="primary",
            icon=":material/save:",
            on_click=gate.callback(on_save),
            args=(ctx, person, None if plan is None else int(plan["version"])),
        )
    if plan is not None:
        delete_button(ctx, incident_id, person, int(plan["version"]), labels[person])


def _load(plan) -> None:
    state = st.session_state
    state["pe_kind"] = plan["destination_kind"] if plan is not None else "shelter"
    state["pe_shelter"] = (
        int(plan["destination_shelter_id"])
        if plan is not None and pd.notna(plan["destination_shelter_id"])
        else None
    )
    state["pe_note"] = _text(plan["destination_note"]) if plan is not None else ""
    supporters = list(plan["supporters"] or []) if plan is not None else []
    for k in range(1, SUPPORTER_SLOTS + 1):
        one = supporters[k - 1] if k <= len(supporters) else {}
        state[f"pe_s{k}_name"] = one.get("name") or ""
        state[f"pe_s{k}_phone"] = one.get("phone") or ""
        state[f"pe_s{k}_relation"] = one.get("relation") or ""
    state["pe_transport"] = plan["transport"] if plan is not None else "walk"
    state["pe_transport_note"] = _text(plan["transport_note"]) if plan is not None else ""
    state["pe_notes"] = _text(plan["notes"]) if plan is not None else ""


# ------------------------------------------------------------------ admin: delete

DELETE_ASKED = "pe_delete_asked"


def _ask_delete(citizen_id: int, version: int) -> None:
    st.session_state[DELETE_ASKED] = (citizen_id, version)


def delete_button(
    ctx: PageContext, incident_id: int | None, citizen_id: int, version: int, label: str
) -> None:
    """The plan shown, deleted after a question in a dialog stating what the person loses."""
    st.button(
        ctx.t("safety.plans.delete"),
        icon=":material/delete:",
        on_click=gate.callback(_ask_delete),
        args=(citizen_id, version),
        key="pe_delete",
    )
    if st.session_state.get(DELETE_ASKED) == (citizen_id, version):
        gate.dialog(ctx.t("safety.plans.delete_title"), dismissible=False)(_delete_body)(
            ctx, incident_id, citizen_id, version, label
        )


def _delete_body(
    ctx: PageContext, incident_id: int | None, citizen_id: int, version: int, label: str
) -> None:
    st.text(ctx.t("safety.plans.delete_confirm", person=label, version=version))  # no markup
    st.caption(ctx.t("safety.plans.delete_effect"))
    left, right = st.columns(2)
    if left.button(
        ctx.t("safety.plans.delete_yes"), type="primary", width="stretch", key="pe_delete_yes"
    ):
        st.session_state.pop(DELETE_ASKED, None)
        on_delete(ctx, incident_id, citizen_id, version)
        st.rerun()
    if right.button(ctx.t("safety.reception.cancel"), width="stretch", key="pe_delete_no"):
        st.session_state.pop(DELETE_ASKED, None)
        st.rerun()


def on_delete(ctx: PageContext, incident_id: int | None, citizen_id: int, version: int) -> None:
    """The deletion itself, saying what really happened: deleted (which version), changed
    meanwhile (by whom; nothing deleted) or already gone."""
    try:
        deleted = delete_plan(ctx.engine, ctx.viewer, citizen_id, version, incident_id)
    except ConflictError as exc:
        _say_conflict(ctx, "safety.refused.plan_delete_conflict", exc)
    except ActionRefused as exc:
        say("error", safety_panels.refusal(ctx, exc))
    else:
        say("success", ctx.t("safety.plans.deleted", version=deleted["version"]))
    st.session_state.pop("pe_loaded", None)


# ------------------------------------------------------------------ admin: import


def _checked(ctx: PageContext, upload):
    """(batch, summary or None, problems) of an uploaded file, checked without writing."""
    from bosai.errors import InvalidInputError
    from importers.evacuation_plans import PlanBatch
    from importers.problems import FileRejected
    from importers.text_encoding import decode_text
    from sql.imports.evacuation_plans import import_plans

    try:
        text, _ = decode_text(upload.getvalue(), upload.name)
    except FileRejected as exc:
        return PlanBatch([], [exc.problem]), None, [str(exc.problem)]
    batch = parse_plans(text, upload.name)
    problems = [str(p) for p in batch.problems]
    summary = None
    if batch.records:
        try:
            summary = import_plans(
                ctx.engine,
                ctx.viewer,
                batch.records,
                upload.name,
                dry_run=True,
                problems=batch.problems,
            )
        except InvalidInputError as exc:
            problems = list(getattr(exc, "problems", []) or [str(exc)])
    return batch, summary, problems


def import_form(ctx: PageContext) -> None:
    st.caption(ctx.t("safety.plans.import_help"))
    upload = st.file_uploader(ctx.t("safety.plans.import_file"), type=["csv"], key="pi_file")
    if upload is None:
        return
    batch, summary, problems = _checked(ctx, upload)
    if problems:
        st.error(ctx.t("safety.plans.import_problems", n=len(problems)), icon=":material/error:")
        st.dataframe(
            pd.DataFrame({ctx.t("safety.plans.col_problem"): problems}),
            hide_index=True,
            width="stretch",
        )
        return
    if summary is None:
        return
    st.info(
        ctx.t(
            "safety.plans.import_ready",
            added=summary.added,
            changed=summary.changed,
            unchanged=summary.unchanged,
        )
    )
    if st.button(
        ctx.t("safety.plans.import_go"),
        type="primary",
        icon=":material/upload:",
        disabled=not (summary.added or summary.changed),
    ):
        gate.dialog(ctx.t("safety.plans.import"))(_import_body)(ctx, upload.name, batch, summary)


def _import_body(ctx: PageContext, name: str, batch, summary) -> None:
    from bosai.errors import InvalidInputError
    from sql.imports.evacuation_plans import import_plans

    st.text(ctx.t("safety.plans.import_confirm", n=summary.added + summary.changed))
    left, right = st.columns(2)
    if left.button(ctx.t("safety.reception.confirm"), type="primary", width="stretch"):
        try:
            done = import_plans(ctx.engine, ctx.viewer, batch.records, name)
        except InvalidInputError as exc:
            say(
                "error",
                ctx.t("safety.plans.import_problems", n=len(getattr(exc, "problems", []) or [1])),
            )
        else:
            say(
                "success",
                ctx.t(
                    "safety.plans.imported",
                    added=done.added,
                    changed=done.changed,
                    unchanged=done.unchanged,
                ),
            )
        st.rerun()
    if right.button(ctx.t("safety.reception.cancel"), width="stretch"):
        st.rerun()
