"""The drill page's time-to-safe section: Turnbull's curve beside Kaplan–Meier's, both medians,
the Cox model's hazard ratios with their proportional-hazards check (aggregates only; small
cells suppressed), downloads and the method note.

The numbers come from :func:`compositions.time_to_safe.drill_time_to_safe` (the same as
``bosai analyze drill``); this module only shows them.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics.proportional_hazards import COX_TERM
from analytics.small_cells import is_small, suppress, suppress_tidy
from bosai.palette import OKABE_ITO
from dashboard import widgets
from dashboard.context import PageContext
from dashboard.research_kit import Kit

COX_DOWNLOAD = [
    *COX_TERM,
    "hazard_ratio",
    "ci_low",
    "ci_high",
    "p",
    "ph_p",
]


@st.cache_data(ttl=600, show_spinner=False)
def _time_to_safe(database_url: str, role: str, subject: str, drill_id: int) -> dict[str, Any]:
    """Aggregates of the drill's time to safe (keyed by the viewer: the reads are audited)."""
    from compositions.time_to_safe import drill_time_to_safe
    from dashboard.context import current
    from dashboard.data import engine_for

    return drill_time_to_safe(engine_for(database_url, "primary"), current().viewer, drill_id)


def p_text(p: float | None) -> str:
    """``p < .001`` or three decimals (``—`` when missing)."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "—"
    return "p < .001" if p < 0.001 else f"{p:.3f}"


def _level_label(t, variable: str, level: str) -> str:
    keys = {
        "age_band": f"research.group.{level}",
        "register": f"research.models.register.{level}",
        "hazard_zone": f"research.models.zone.{level}",
    }
    key = keys.get(variable, "")
    label = t(key) if key else level
    return level if label == key else label


def _curve_xy(result: dict[str, Any]) -> tuple[list[float], list[float]]:
    """Turnbull's share reached: flat between innermost intervals, a straight line across each
    (the NPMLE does not say how the mass spreads inside one)."""
    xs, ys, reached = [0.0], [0.0], 0.0
    for row in result["turnbull"]:
        if row["survival"] is None or not math.isfinite(row["high"]):
            break
        xs += [row["low"], row["high"]]
        ys += [reached, 1 - row["survival"]]
        reached = 1 - row["survival"]
    return xs, ys


def show(ctx: PageContext, drill_id: int) -> None:
    """The section, below the drill page's curves."""
    t = ctx.t
    st.subheader(t("research.models.title"))
    st.caption(t("research.models.caption"))
    result = _time_to_safe(ctx.database_url, ctx.viewer.role, ctx.viewer.subject, drill_id)
    note = "\n".join(f"{k}: {v}" for k, v in result["method"].items())
    small = is_small(result["n"]) or is_small(result["observed"])
    left, middle, right = st.columns(3)
    median = result["turnbull_median"]
    left.metric(
        t("research.models.turnbull_median"),
        t("research.models.not_reached")
        if small or not median
        else t("research.models.median_range", low=f"{median[0]:.1f}", high=f"{median[1]:.1f}"),
    )
    middle.metric(
        t("research.models.km_median"),
        t("research.models.not_reached")
        if small or result["km_median"] is None
        else f"{result['km_median']:.1f}",
    )
    right.metric(
        t("research.models.arrived"),
        "—" if small else t("research.models.safe_of", n=result["n"], observed=result["observed"]),
    )
    if not small:
        fig = go.Figure()
        xs, ys = _curve_xy(result)
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                line={"color": OKABE_ITO["blue"]},
                name=t("research.models.turnbull"),
            )
        )
        km = pd.DataFrame(result["kaplan_meier"])
        if len(km):
            fig.add_trace(
                go.Scatter(
                    x=[0.0, *km["time"]],
                    y=[0.0, *(1 - km["survival"])],
                    mode="lines",
                    line={"shape": "hv", "color": OKABE_ITO["vermillion"], "dash": "dot"},
                    name=t("research.models.kaplan_meier"),
                )
            )
        fig.update_layout(
            height=380,
            margin={"l": 0, "r": 0, "t": 10, "b": 0},
            xaxis={"title": t("research.drill.minutes"), "rangemode": "tozero"},
            yaxis={"title": t("research.drill.reached"), "range": [0, 1], "tickformat": ".0%"},
        )
        st.plotly_chart(fig, width="stretch")

    st.markdown(f"**{t('research.models.cox')}**")
    st.caption(t("research.models.cox_caption"))
    cox = pd.DataFrame(result["cox"])
    if cox.empty:
        st.info(t("research.models.cox_none"))
    else:
        ph = {row["term"]: row["p"] for row in result["ph_test"]}
        cox["ph_p"] = cox["term"].map(ph)
        shown = pd.DataFrame(
            {
                t("research.models.variable"): [
                    t(f"research.models.variables.{v}") for v in cox["variable"]
                ],
                t("research.models.level"): [
                    _level_label(t, v, lv)
                    for v, lv in zip(cox["variable"], cox["level"], strict=True)
                ],
                "n": cox["n"],
                "events": cox["events"],
                "hr": [
                    f"{r.hazard_ratio:.2f} [{r.ci_low:.2f}, {r.ci_high:.2f}]"
                    for r in cox.itertuples()
                ],
                "p": cox["p"].map(p_text),
                "ph": cox["ph_p"].map(p_text),
            }
        )
        # a ratio rests on the level's arrivals: hidden where they are fewer than five
        shown = suppress(shown, ["n", "events"], ["hr", "p", "ph"], lang=ctx.lang, basis="events")
        st.dataframe(
            shown.rename(
                columns={
                    "n": t("research.common.n"),
                    "events": t("research.models.events"),
                    "hr": t("research.models.hazard_ratio"),
                    "p": t("research.common.p"),
                    "ph": t("research.models.ph_p"),
                }
            ),
            hide_index=True,
        )
        widgets.tidy_downloads(
            t,
            suppress_tidy(
                cox[COX_DOWNLOAD],
                ["n", "events"],
                ["hazard_ratio", "ci_low", "ci_high", "p", "ph_p"],
                basis="events",
            ),
            f"drill_{drill_id}_cox",
            note,
        )
    Kit(t, ctx.lang).method_notes(result["method"])
