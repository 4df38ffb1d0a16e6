"""安否 — safety overview: response and confirmed-safe rates by district and age band, and the
households with members not yet confirmed safe.

Aggregates from ``sql.queries.safety``; small cells suppressed for the roles that see no
individuals (``sql.policy.sees_exact_counts``); household addresses only through ``sql.policy.households_unaccounted``."""

import dataclasses
import datetime as dt

import pandas as pd
import plotly.express as px
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from analytics import safety_rates
from analytics.small_cells import MASK, count_label, hides
from bosai.jpdate import wareki
from bosai.palette import OKABE_ITO
from dashboard import data, gate, widgets
from dashboard.context import current
from sql import policy
from sql.queries import safety, status_snapshot

ctx = current()
st.title(ctx.t("safety.title"))
incident = data.current_incident(ctx.database_url)
incident_id = incident.id if incident else None
exact = policy.sees_exact_counts(ctx.viewer)
MEASURE_COLOURS = {
    ctx.t("safety.col.response_rate"): OKABE_ITO["blue"],
    ctx.t("safety.col.confirmed_rate"): OKABE_ITO["bluish_green"],
}


def band_label(code: str) -> str:
    bounds = safety_rates.band_bounds(str(code))
    if bounds is None:
        return ctx.t("safety.age_unknown")
    lo, hi = bounds
    return (
        ctx.t("safety.age_over", lo=lo) if hi is None else ctx.t("safety.age_range", lo=lo, hi=hi)
    )


def count_text(n) -> str:
    """A count for a metric: 「5未満」 for 1–4 unless the role sees exact counts."""
    return f"{int(n):,}" if exact else count_label(n, ctx.lang)


def rate_text(rate: float, numerator, base) -> str:
    return MASK if not exact and hides(numerator, base) else f"{rate:.1%}"


def district_label(name) -> str:
    return ctx.t("safety.district_unknown") if pd.isna(name) else str(name)


COLUMNS = ("citizens", "responded", "response_rate", "confirmed", "confirmed_rate", "needs_help")


def labelled(table: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """The table for display: group labels, then the counts and rates (suppressed if due)."""
    shown = table if exact else safety_rates.display_suppressed(table, ctx.lang)
    out = pd.DataFrame(index=shown.index)
    if "district" in by:
        out[ctx.t("safety.col.district")] = [district_label(d) for d in shown["district"]]
    if "age_band" in by:
        out[ctx.t("safety.col.age_band")] = [band_label(b) for b in shown["age_band"]]
    for column in COLUMNS:
        out[ctx.t(f"safety.col.{column}")] = shown[column]
    return out.reset_index(drop=True)


def rate_chart(table: pd.DataFrame, by: str):
    rows = safety_rates.chartable(table, suppressed=not exact)
    labels = [district_label(v) if by == "district" else band_label(v) for v in rows[by]]
    long = pd.DataFrame(
        {
            "group": labels * 2,
            "measure": [ctx.t("safety.col.response_rate")] * len(rows)
            + [ctx.t("safety.col.confirmed_rate")] * len(rows),
            "rate": [*rows["response_rate"], *rows["confirmed_rate"]],
        }
    )
    figure = px.bar(
        long,
        x="group",
        y="rate",
        color="measure",
        barmode="group",
        color_discrete_map=MEASURE_COLOURS,
        labels={
            "group": ctx.t(f"safety.col.{by}"),
            "rate": ctx.t("safety.rate_axis"),
            "measure": ctx.t("safety.measure"),
        },
        title=ctx.t("safety.chart_title"),
    )
    figure.update_layout(
        yaxis={"tickformat": ".0%", "range": [0, 1]},
        xaxis={"categoryorder": "array", "categoryarray": labels},
        height=380,
        margin={"l": 0, "r": 0, "t": 40, "b": 0},
        legend={"orientation": "h", "y": -0.25},
    )
    return figure


@st.cache_data(ttl=60, max_entries=16, show_spinner=False)
def aggregates(
    database_url: str, incident_id: int | None, day: dt.date, citizens_key: tuple, feed_key: tuple
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The page's aggregates (not personal), recomputed when citizens or reports change."""
    engine = data.engine_for(database_url, "aggregate")
    return (
        safety.safety_counts(engine, incident_id, day),
        safety.household_counts(engine, incident_id),
    )


@gate.fragment(run_every=float(ctx.city.setting("refresh_seconds", 10)))
def live() -> None:
    try:
        day = safety.incident_reference_date(ctx.engine, incident_id, ctx.city.timezone)
        feed = status_snapshot.feed_position(ctx.engine, incident_id)
        counts, households = aggregates(
            ctx.database_url,
            incident_id,
            day,
            dataclasses.astuple(status_snapshot.citizens_fingerprint(ctx.engine, thorough=True)),
            (feed.top_report_id, feed.latest_rows),
        )
        mode = policy.mode_of(ctx.engine, incident_id)
    except SQLAlchemyError as exc:
        widgets.unreachable_banner(ctx, "database", exc)
        return
    total = safety_rates.rates(counts, []).iloc[0]
    top = st.columns(4)
    top[0].metric(ctx.t("safety.citizens"), count_text(total.citizens))
    for slot, label, of_label, count, rate in (
        (top[1], "safety.responded", "safety.of_citizens", total.responded, total.response_rate),
        (top[2], "safety.confirmed", "safety.of_confirmed", total.confirmed, total.confirmed_rate),
    ):
        widgets.key_figure(
            slot,
            ctx.t(label),
            count_text(count),
            ctx.t(of_label, rate=rate_text(rate, count, total.citizens)),
        )
    top[3].metric(ctx.t("safety.needs_help"), count_text(total.needs_help))
    st.caption(
        ctx.t("safety.age_reference", date=wareki(day) if ctx.lang == "ja" else f"{day:%Y-%m-%d}")
    )
    if not exact:
        st.caption(ctx.t("safety.suppressed_note"))

    percent = {
        ctx.t(f"safety.col.{c}"): st.column_config.NumberColumn(format="percent")
        for c in ("response_rate", "confirmed_rate")
    }
    codes = safety.age_band_codes()
    tab_district, tab_age, tab_both = st.tabs(
        [ctx.t("safety.by_district"), ctx.t("safety.by_age"), ctx.t("safety.by_both")]
    )
    with tab_district:
        by_district = safety_rates.rates(counts, ["district"])
        st.plotly_chart(rate_chart(by_district, "district"), width="stretch", key="safety_district")
        widgets.text_table(
            labelled(by_district, ["district"]), column_config=percent if exact else None
        )
    with tab_age:
        by_age = safety_rates.order_bands(safety_rates.rates(counts, ["age_band"]), codes)
        st.plotly_chart(rate_chart(by_age, "age_band"), width="stretch", key="safety_age")
        widgets.text_table(labelled(by_age, ["age_band"]), column_config=percent if exact else None)
    with tab_both:
        both = safety_rates.rates(counts, ["district", "age_band"])
        both = safety_rates.order_bands(both, codes).sort_values("district", kind="stable")
        widgets.text_table(
            labelled(both, ["district", "age_band"]), column_config=percent if exact else None
        )

    st.subheader(ctx.t("safety.households"))
    st.caption(ctx.t("safety.households_rule"))
    sums = households[["households_unaccounted", "members_unaccounted"]].sum()
    hh_top = st.columns(2)
    hh_top[0].metric(ctx.t("safety.households_total"), count_text(sums["households_unaccounted"]))
    hh_top[1].metric(ctx.t("safety.members_total"), count_text(sums["members_unaccounted"]))
    if policy.may_see_household_details(ctx.viewer, mode):
        try:
            details = policy.households_unaccounted(ctx.engine, ctx.viewer, incident_id)
        except SQLAlchemyError as exc:
            widgets.unreachable_banner(ctx, "database", exc)
            return
        widgets.text_table(
            pd.DataFrame(
                {
                    ctx.t("safety.hh.household"): details["household_id"].astype(int),
                    ctx.t("safety.hh.district"): [district_label(d) for d in details["district"]],
                    ctx.t("safety.hh.address"): details["address"].fillna(""),
                    ctx.t("safety.hh.members"): details["members"].astype(int),
                    ctx.t("safety.hh.confirmed"): details["confirmed"].fillna(0).astype(int),
                    ctx.t("safety.hh.unaccounted"): details["unaccounted"].astype(int),
                }
            ),
            width="stretch",
            height=420,
            key="safety_households",
        )
    else:
        st.info(ctx.t("safety.households_counts_only"), icon=":material/lock:")
        shown = (
            households if exact else safety_rates.household_display_suppressed(households, ctx.lang)
        )
        widgets.text_table(
            pd.DataFrame(
                {
                    ctx.t("safety.hh.district"): [district_label(d) for d in shown["district"]],
                    ctx.t("safety.hh.households"): shown["households"],
                    ctx.t("safety.hh.households_unaccounted"): shown["households_unaccounted"],
                    ctx.t("safety.hh.members_all"): shown["members"],
                    ctx.t("safety.hh.members_unaccounted"): shown["members_unaccounted"],
                }
            ),
            key="safety_household_counts",
        )


live()
