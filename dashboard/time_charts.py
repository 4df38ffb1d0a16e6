"""Charts over time on the pages, in Japan time.

Plotly draws a time as it is written, so an aware UTC time appears as UTC ("Jul 9 19:30" for
7月10日 04:30). Every time axis here is converted to naive Japan time first
(:func:`bosai.jpdate.jst_naive`) and formatted in the page's language.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from bosai.jpdate import TIME_AXIS_FORMATS, jst_naive


def time_line(
    frame: pd.DataFrame,
    x: str,
    y: str,
    *,
    lang: str,
    labels: dict[str, str],
    colour: str,
    markers: bool = False,
    height: int = 240,
) -> go.Figure:
    """A line of ``y`` over the times in column ``x`` (UTC or aware), drawn in Japan time."""
    shown = frame.assign(**{x: jst_naive(frame[x])})
    figure = px.line(
        shown, x=x, y=y, markers=markers, labels=labels, color_discrete_sequence=[colour]
    )
    figure.update_xaxes(**TIME_AXIS_FORMATS[lang])
    figure.update_layout(height=height, margin={"l": 0, "r": 0, "t": 10, "b": 0})
    return figure


def mark_moment(figure: go.Figure, at: dt.datetime, colour: str) -> go.Figure:
    """A dashed vertical line at ``at`` (the moment a replay shows)."""
    figure.add_vline(x=jst_naive([at])[0], line_dash="dash", line_color=colour)
    return figure
