"""要支援者 — the evacuation-support register: unconfirmed first, time since last contact,
supporter and household; the legal basis of what is shown; an audited CSV download.

Rows only for ``hq`` and ``rescue`` (``sql.policy.register_people``: consented entries in normal
times, 第49条の11第2項; every entry in an emergency, 第3項); other roles see counts."""

import datetime as dt

import pandas as pd
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from analytics.support_register import NO_REPORT, reference_time, select, work_order
from bosai.jpdate import format_datetime, jst
from bosai.palette import STATUS_ORDER
from bosai.spreadsheet_safe import to_csv_bytes
from dashboard import data, gate, widgets
from dashboard.context import current
from sql import policy
from sql.queries.status_snapshot import feed_position

ctx = current()
st.title(ctx.t("register.title"))
incident = data.current_incident(ctx.database_url)
incident_id = incident.id if incident else None


def _text(values: pd.Series) -> list[str]:
    return ["" if pd.isna(v) else str(v) for v in values]


@gate.fragment(run_every=float(ctx.city.setting("refresh_seconds", 10)))
def live() -> None:
    try:
        mode = policy.mode_of(ctx.engine, incident_id)
        counts = policy.register_counts(ctx.engine, incident_id)
        people = (
            policy.register_people(ctx.engine, ctx.viewer, incident_id)
            if policy.may_see_register(ctx.viewer)
            else None
        )
        feed = feed_position(ctx.engine, incident_id)
    except SQLAlchemyError as exc:
        widgets.unreachable_banner(ctx, "database", exc)
        return

    top = st.columns(3)
    top[0].metric(ctx.t("register.total"), f"{counts['total']:,}")
    top[1].metric(ctx.t("register.unconfirmed"), f"{counts['unconfirmed']:,}")
    if people is None:
        st.info(ctx.t("register.aggregate_only"), icon=":material/lock:")
        return
    top[2].metric(ctx.t("register.visible"), f"{len(people):,}")
    if policy.register_scope(mode) == "all":
        st.warning(ctx.t("register.basis_emergency"), icon=":material/gavel:")
    else:
        st.info(
            ctx.t(
                "register.basis_normal", total=f"{counts['total']:,}", consented=f"{len(people):,}"
            ),
            icon=":material/gavel:",
        )

    now = dt.datetime.now(dt.UTC)
    as_of = reference_time(now, feed.newest_received_at, bool(incident and incident.is_synthetic))
    board = work_order(people, as_of)
    statuses = [s for s in STATUS_ORDER if s in set(board["status"]) or s == NO_REPORT]
    filters = st.columns(2)
    chosen_districts = widgets.choose_several(
        filters[0],
        ctx,
        ctx.t("register.filter_district"),
        sorted(board["district"].dropna().unique()),
        "register_district",
    )
    chosen_statuses = widgets.choose_several(
        filters[1],
        ctx,
        ctx.t("register.filter_status"),
        statuses,
        "register_status",
        words="status",
    )
    shown = select(board, chosen_districts, chosen_statuses)
    st.caption(ctx.t("register.status_note"))  # 未確認 and 応答なし are not the same
    st.caption(
        ctx.t(
            "register.summary",
            shown=f"{len(shown):,}",
            as_of=format_datetime(as_of, ctx.lang, era_style=ctx.lang == "ja"),
        )
    )

    table = pd.DataFrame(
        {
            ctx.t("register.col.status"): [ctx.t(f"status.{s}") for s in shown["status"]],
            # Minutes as text: a person never heard from reads 「連絡なし」, not "None".
            ctx.t("register.col.since_contact"): [
                f"{int(v):,}" if pd.notna(v) else ctx.t("register.no_contact")
                for v in shown["minutes_since_contact"]
            ],
            ctx.t("register.col.last_contact"): [
                format_datetime(v, ctx.lang) if pd.notna(v) else ctx.t("register.no_contact")
                for v in shown["last_contact_at"]
            ],
            ctx.t("register.col.name"): _text(shown["name"]),
            ctx.t("register.col.kana"): _text(shown["kana"]),
            ctx.t("register.col.district"): _text(shown["district"]),
            ctx.t("register.col.address"): _text(shown["address"]),
            ctx.t("register.col.needs"): _text(shown["needs"]),
            ctx.t("register.col.care_level"): _text(shown["care_level"]),
            ctx.t("register.col.supporter"): _text(shown["supporter_name"]),
            ctx.t("register.col.supporter_phone"): _text(shown["supporter_phone"]),
            ctx.t("register.col.supporter_relation"): _text(shown["supporter_relation"]),
            ctx.t("register.col.household"): shown["household_id"].astype("Int64"),
            ctx.t("register.col.household_size"): shown["household_size"].astype("Int64"),
            ctx.t("register.col.consent"): [
                ctx.t("common.yes") if v else ctx.t("common.no")
                for v in shown["normal_time_consent"]
            ],
        }
    )
    if table.empty:
        st.info(ctx.t("register.empty"))
    else:
        widgets.text_table(
            table,
            width="stretch",
            height=560,
            column_config={
                ctx.t("register.col.since_contact"): st.column_config.NumberColumn(
                    format=ctx.t("register.minutes_format")
                )
            },
        )

    viewer, engine = ctx.viewer, ctx.engine
    ids = shown["citizen_id"].astype(int).tolist()
    filters_used = {"districts": list(chosen_districts), "statuses": list(chosen_statuses)}

    def register_csv() -> bytes:
        """Runs when the file is requested: the policy re-checks and audits the download."""
        policy.register_download(engine, viewer, incident_id, ids, filters=filters_used)
        return to_csv_bytes(table)

    gate.download_button(
        ctx.t("register.download"),
        register_csv,
        file_name=ctx.t("register.file_name", date=f"{jst(as_of):%Y%m%d_%H%M}"),
        mime="text/csv",
        on_click="ignore",
        disabled=table.empty,
        icon=":material/download:",
        key="register_download",
    )
    st.caption(ctx.t("register.download_note"))


live()
