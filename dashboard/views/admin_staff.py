"""職員管理 — staff accounts (admins only): who may sign in, in which role, for which shelters
and team. Every change goes through :mod:`sql.actions.staff` (audited); nothing is deleted,
an account that should no longer sign in is deactivated."""

import pandas as pd
import streamlit as st

from bosai.jpdate import format_datetime
from dashboard import gate, panels, widgets
from dashboard.context import current
from dashboard.registry import ALL_ROLES
from dashboard.text import say
from dashboard.widgets import text_table
from sql.actions import ActionRefused
from sql.actions.staff import add_staff, update_staff
from sql.queries.shelter_board import shelter_names
from sql.queries.staff import staff_list

ctx = current()
st.title(ctx.t("admin.staff.title"))
st.caption(ctx.t("admin.staff.intro"))


def role_label(role: str) -> str:
    return ctx.t(f"role.{role}")


def _run(action, *args, done: str, **kwargs) -> None:
    try:
        result = action(ctx.engine, ctx.viewer, *args, **kwargs)
    except ActionRefused as exc:
        st.session_state[panels.MESSAGE_KEY] = ("error", say(ctx.t, "panel.refused", reason=exc))
    else:
        unchanged = isinstance(result, dict) and not result
        text = ctx.t("admin.staff.unchanged") if unchanged else done
        st.session_state[panels.MESSAGE_KEY] = ("info" if unchanged else "success", text)


def _add_as_typed() -> None:
    """Add the account as typed into the add form."""
    state = st.session_state
    _run(
        add_staff,
        state.get("new_staff_subject") or "",
        state.get("new_staff_name") or "",
        state.get("new_staff_role") or "hq",
        state.get("new_staff_shelters") or [],
        state.get("new_staff_team") or None,
        done=ctx.t("admin.staff.added"),
    )


def _save_as_edited(i: int) -> None:
    """Save account ``i`` as edited in its form."""
    state = st.session_state
    _run(
        update_staff,
        i,
        name=state.get(f"edit_staff_name_{i}") or "",
        role=state.get(f"edit_staff_role_{i}"),
        shelter_ids=state.get(f"edit_staff_shelters_{i}") or [],
        team=state.get(f"edit_staff_team_{i}") or "",
        active=bool(state.get(f"edit_staff_active_{i}")),
        done=ctx.t("admin.staff.saved"),
    )


panels.show_messages()
shelters = shelter_names(ctx.engine)
staff = staff_list(ctx.engine)

left, right = st.columns(2)
left.metric(ctx.t("admin.staff.active"), f"{int(staff['active'].sum()):,}")
right.metric(ctx.t("admin.staff.inactive"), f"{int((~staff['active']).sum()):,}")

if staff.empty:
    st.info(ctx.t("admin.staff.none"))
else:
    table = pd.DataFrame(
        {
            ctx.t("admin.staff.col.name"): staff["name"],
            ctx.t("admin.staff.col.subject"): staff["subject"],
            ctx.t("admin.staff.col.role"): [role_label(r) for r in staff["role"]],
            ctx.t("admin.staff.col.shelters"): [
                "、".join(shelters.get(s, f"#{s}") for s in ids) for ids in staff["shelter_ids"]
            ],
            ctx.t("admin.staff.col.team"): staff["team"].fillna(""),
            ctx.t("admin.staff.col.active"): [
                ctx.t("admin.staff.state_active") if a else ctx.t("admin.staff.state_inactive")
                for a in staff["active"]
            ],
            ctx.t("admin.staff.col.updated"): [
                format_datetime(v, ctx.lang) for v in staff["updated_at"]
            ],
        }
    )
    text_table(table, use_container_width=True)

add_tab, change_tab = st.tabs([ctx.t("admin.staff.add"), ctx.t("admin.staff.change")])

with add_tab, st.form("add_staff", clear_on_submit=True):
    st.text_input(ctx.t("admin.staff.subject"), key="new_staff_subject", max_chars=128)
    st.text_input(ctx.t("admin.staff.name"), key="new_staff_name", max_chars=100)
    st.selectbox(ctx.t("admin.staff.role"), ALL_ROLES, format_func=role_label, key="new_staff_role")
    widgets.choose_several(
        st,
        ctx,
        ctx.t("admin.staff.shelters"),
        list(shelters),
        "new_staff_shelters",
        format_func=lambda s: shelters.get(s, f"#{s}"),
        help=ctx.t("admin.staff.shelters_help"),
    )
    st.text_input(ctx.t("admin.staff.team"), key="new_staff_team", max_chars=64)
    st.form_submit_button(
        ctx.t("admin.staff.add_button"), type="primary", on_click=gate.callback(_add_as_typed)
    )

with change_tab:
    if staff.empty:
        st.info(ctx.t("admin.staff.none"))
    else:
        by_id = {int(r.id): r for r in staff.itertuples(index=False)}
        chosen = st.selectbox(
            ctx.t("admin.staff.choose"),
            list(by_id),
            format_func=lambda i: (
                f"{by_id[i].name}（{by_id[i].subject}・{role_label(by_id[i].role)}）"
            ),
            key="edit_staff_id",
        )
        member = by_id[int(chosen)]
        with st.form(f"edit_staff_{member.id}"):
            st.text_input(
                ctx.t("admin.staff.name"), value=member.name, key=f"edit_staff_name_{member.id}"
            )
            st.selectbox(
                ctx.t("admin.staff.role"),
                ALL_ROLES,
                index=ALL_ROLES.index(member.role),
                format_func=role_label,
                key=f"edit_staff_role_{member.id}",
            )
            widgets.choose_several(
                st,
                ctx,
                ctx.t("admin.staff.shelters"),
                list(shelters),
                f"edit_staff_shelters_{member.id}",
                default=[s for s in member.shelter_ids if s in shelters],
                format_func=lambda s: shelters.get(s, f"#{s}"),
                help=ctx.t("admin.staff.shelters_help"),
            )
            st.text_input(
                ctx.t("admin.staff.team"),
                value=member.team or "",
                key=f"edit_staff_team_{member.id}",
            )
            st.toggle(
                ctx.t("admin.staff.active_toggle"),
                value=member.active,
                key=f"edit_staff_active_{member.id}",
            )
            st.form_submit_button(
                ctx.t("admin.staff.save"),
                type="primary",
                on_click=gate.callback(_save_as_edited),
                args=(member.id,),
            )
        st.caption(ctx.t("admin.staff.deactivate_note"))
