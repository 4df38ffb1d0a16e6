"""Charts and maps of the reports: plotly figures rendered to PNG by kaleido in Debian's chromium.

Every figure here draws aggregates only (counts, shares, curves, H3 cells, shelters — never a
person) in the Okabe–Ito palette with the Japanese font, and every colour is also told by a
label, a legend entry or a position. :func:`render_png` keeps **one** kaleido server (one
chromium) for the process, started on first use: the first figure pays the browser start
(a few seconds), each further one about 0.2–0.5 s — instead of a new browser per figure.
Calls are serialised (kaleido's sync server hands results back through one shared queue).

The maps are drawn on Web-Mercator axes (longitude, and latitude as Mercator degrees), so
that a tile background, where one is available, lines up; without one they show the
aggregates on a plain background and say so.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import io
import math
import os
import shutil
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import h3
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from bosai.errors import BosaiError
from bosai.palette import OKABE_ITO

FONT = "Noto Sans CJK JP"
WIDTH, HEIGHT = 1000, 440
#: Pixel density of the PNGs (1.25 × 1000 px across ≈ 180 dpi over the 178 mm text width).
SCALE = 1.25
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
SERIES_COLOURS = (
    OKABE_ITO["blue"],
    OKABE_ITO["orange"],
    OKABE_ITO["bluish_green"],
    OKABE_ITO["vermillion"],
    OKABE_ITO["reddish_purple"],
    OKABE_ITO["sky_blue"],
    OKABE_ITO["yellow"],
    OKABE_ITO["black"],
)
#: Colour-blind-safe sequential bins (cividis, light → dark) for shares on maps.
SHARE_BINS = (0.2, 0.4, 0.6, 0.8, 1.0)
SHARE_COLOURS = ("#FEE838", "#C8B866", "#8C8A80", "#4E5B7A", "#00224E")
#: Marker symbols that tell the bins apart without colour (legend and shelters).
SHARE_PATTERNS = ("", ".", "/", "x", "+")


@dataclasses.dataclass(frozen=True)
class ChartImage:
    """A rendered chart: what the report shows and files."""

    key: str
    title: str
    png: bytes
    caption: str = ""
    #: The plotly figure it was drawn from (for re-rendering; never written out).
    figure: Any = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


# ------------------------------------------------------------------ rendering

_lock = threading.Lock()
_started = False


def chromium_path() -> str:
    """The browser kaleido drives: ``$BROWSER_PATH`` if set, else Debian's chromium."""
    configured = os.environ.get("BROWSER_PATH")
    if configured:
        return configured
    for candidate in (*CHROMIUM_CANDIDATES, shutil.which("chromium") or ""):
        if candidate and os.path.exists(candidate):
            return candidate
    raise BosaiError(
        "no chromium found to draw the report's charts: install Debian's chromium "
        "(apt-get install chromium) or set BROWSER_PATH to a Chrome/Chromium executable"
    )


def _ensure_server() -> None:
    global _started
    if _started:
        return
    import kaleido

    os.environ["BROWSER_PATH"] = chromium_path()
    # mathjax=False: no CDN request (plotly.js itself comes from the installed plotly).
    kaleido.start_sync_server(mathjax=False, silence_warnings=True)
    _started = True


def warm_up() -> None:
    """Start the kaleido server now: chromium launches in the background (a separate
    process) while the caller goes on reading data; the first figure then waits less."""
    with _lock:
        _ensure_server()


def render_png(
    fig: go.Figure, width: int = WIDTH, height: int | None = None, scale: float = SCALE
) -> bytes:
    """``fig`` as PNG bytes through the process's kaleido server (started on first use)."""
    import kaleido

    opts = {
        "format": "png",
        "width": width,
        "height": height or int(fig.layout.height or HEIGHT),
        "scale": scale,
    }
    with _lock:
        _ensure_server()
        try:
            png = kaleido.calc_fig_sync(fig, opts=opts)
        except Exception as exc:  # the browser failed: one clear line, not a traceback
            raise BosaiError(
                f"could not draw a chart with chromium: {type(exc).__name__}: {exc}"
            ) from exc
    return opaque(png)


def opaque(png: bytes) -> bytes:
    """The PNG without its alpha channel (on white): WeasyPrint embeds an RGB PNG in one pass,
    an RGBA one as two re-encoded images (colour and mask) — twice the work for the PDF."""
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    if image.mode == "RGB":
        return png
    flat = Image.new("RGB", image.size, "white")
    flat.paste(image, mask=image.getchannel("A") if "A" in image.getbands() else None)
    out = io.BytesIO()
    flat.save(out, format="PNG", compress_level=3)
    return out.getvalue()


def render_png_fresh(fig: go.Figure, width: int = WIDTH, height: int | None = None) -> bytes:
    """``fig`` as PNG with a new kaleido process (a new chromium) — the benchmark's baseline."""
    import kaleido
    from kaleido import _sync_server

    os.environ.setdefault("BROWSER_PATH", chromium_path())
    opts = {
        "format": "png",
        "width": width,
        "height": height or int(fig.layout.height or HEIGHT),
        "scale": SCALE,
    }
    return _sync_server.oneshot_async_run(
        kaleido.calc_fig, args=(fig,), kwargs={"opts": opts, "kopts": {"mathjax": False}}
    )


def stop_renderer() -> None:
    """Close the kaleido server (and its chromium); the next render starts a new one."""
    global _started
    with _lock:
        if _started:
            import kaleido

            kaleido.stop_sync_server(silence_warnings=True)
            _started = False


# ------------------------------------------------------------------ layout


def styled(fig: go.Figure, height: int = HEIGHT, legend: bool = True) -> go.Figure:
    """The house style: white, the Japanese font, the palette, tight margins."""
    fig.update_layout(
        template="plotly_white",
        font={"family": FONT, "size": 15, "color": "#111"},
        colorway=list(SERIES_COLOURS),
        height=height,
        width=WIDTH,
        margin={"l": 70, "r": 30, "t": 30, "b": 60},
        showlegend=legend,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0},
    )
    return fig


def time_axis(fig: go.Figure, values: Sequence[Any]) -> go.Figure:
    """Dates on the x axis written the Japanese way (month/day, 24-hour clock), never with
    English month names; the year appears on spans over a month."""
    times = pd.to_datetime(pd.Series(list(values)), errors="coerce").dropna()
    span = (times.max() - times.min()) if len(times) else pd.Timedelta(0)
    if span > pd.Timedelta(days=31):
        fmt = "%Y/%-m/%-d"
    elif span > pd.Timedelta(days=2):
        fmt = "%-m/%-d"
    else:
        fmt = "%H:%M<br>%-m/%-d"
    fig.update_xaxes(tickformat=fmt)
    return fig


def masked(values: Sequence[Any], small: Sequence[bool]) -> list[Any]:
    """``values`` with the small cells left out (``None``: not drawn)."""
    return [None if s else v for v, s in zip(values, small, strict=True)]


def bar_chart(
    categories: Sequence[str],
    values: Sequence[float | None],
    *,
    value_title: str,
    colours: Sequence[str] | str = OKABE_ITO["blue"],
    texts: Sequence[str] | None = None,
    horizontal: bool = True,
    percent: bool = False,
) -> go.Figure:
    """One bar per category, its value written on it (so colour is never the only cue)."""
    texts = texts if texts is not None else [_text(v, percent) for v in values]
    bar = go.Bar(
        x=list(values) if horizontal else list(categories),
        y=list(categories) if horizontal else list(values),
        orientation="h" if horizontal else "v",
        marker={"color": colours if isinstance(colours, str) else list(colours)},
        text=list(texts),
        textposition="auto",
        cliponaxis=False,
    )
    fig = go.Figure(bar)
    axis = {"title": value_title, "rangemode": "tozero", "tickformat": ",~r"}
    if percent:
        axis |= {"tickformat": ".0%", "range": [0, 1]}
    if horizontal:
        fig.update_layout(xaxis=axis, yaxis={"autorange": "reversed", "automargin": True})
    else:
        fig.update_layout(yaxis=axis, xaxis={"automargin": True})
    height = max(HEIGHT, 60 + 34 * len(categories)) if horizontal else HEIGHT
    return styled(fig, height=min(height, 900), legend=False)


def _text(value: Any, percent: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if percent:
        return f"{float(value):.0%}"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def _series_figure(
    kind: Callable[..., Any],
    x: Sequence[Any],
    series: Mapping[str, Sequence[Any]],
    style: Callable[[int, Sequence[Any]], dict[str, Any]],
) -> go.Figure:
    """One ``kind`` trace per series (its values over ``x``, named in the legend), the k-th
    drawn with ``style(k, values)``."""
    fig = go.Figure()
    for k, (name, values) in enumerate(series.items()):
        fig.add_trace(kind(x=list(x), y=list(values), name=name, **style(k, values)))
    return fig


def _value_axis(title: str, percent: bool, top: float) -> dict[str, Any]:
    """A value axis from zero (thousands separated), or shares as percentages up to ``top``."""
    yaxis = {"title": title, "rangemode": "tozero", "tickformat": ",~r"}
    if percent:
        yaxis |= {"tickformat": ".0%", "range": [0, top]}
    return yaxis


def _hatched(k: int, colours: Sequence[str], patterns: Sequence[str]) -> dict[str, Any]:
    """The k-th series' bar marker: its colour and its hatch pattern (told apart in grey)."""
    return {
        "color": colours[k % len(colours)],
        "pattern": {"shape": patterns[k % len(patterns)], "fgcolor": "#222"},
    }


def _time_axis_for_moments(fig: go.Figure, x: Sequence[Any]) -> None:
    """:func:`time_axis` when the x values are moments."""
    if len(x) and isinstance(x[0], dt.datetime | pd.Timestamp):
        time_axis(fig, x)


def line_chart(
    x: Sequence[Any],
    series: Mapping[str, Sequence[float | None]],
    *,
    x_title: str,
    y_title: str,
    percent: bool = False,
    step: bool = False,
    dashes: Sequence[str] = ("solid", "dash", "dot", "dashdot", "longdash"),
    markers: bool = False,
) -> go.Figure:
    """One line per series (each its own colour *and* dash pattern, named in the legend)."""
    fig = _series_figure(
        go.Scatter,
        x,
        series,
        lambda k, _: {
            "mode": "lines+markers" if markers else "lines",
            "line": {
                "color": SERIES_COLOURS[k % len(SERIES_COLOURS)],
                "dash": dashes[k % len(dashes)],
                "width": 3,
                "shape": "hv" if step else "linear",
            },
            "connectgaps": False,
        },
    )
    fig.update_layout(xaxis={"title": x_title}, yaxis=_value_axis(y_title, percent, 1.02))
    _time_axis_for_moments(fig, x)
    return styled(fig, legend=len(series) > 1)


def stacked_bar_chart(
    x: Sequence[Any],
    series: Mapping[str, Sequence[float]],
    *,
    x_title: str,
    y_title: str,
    colours: Sequence[str] = SERIES_COLOURS,
) -> go.Figure:
    """Stacked bars (one colour and one hatch pattern per series, named in the legend)."""
    patterns = ("", "/", ".", "x", "+")
    fig = _series_figure(go.Bar, x, series, lambda k, _: {"marker": _hatched(k, colours, patterns)})
    fig.update_layout(
        barmode="stack", xaxis={"title": x_title}, yaxis={"title": y_title, "tickformat": ",~r"}
    )
    _time_axis_for_moments(fig, x)
    return styled(fig)


def grouped_bar_chart(
    categories: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    value_title: str,
    percent: bool = False,
) -> go.Figure:
    """Side-by-side bars per category, values written on the bars."""
    patterns = ("", "/", ".", "x")
    fig = _series_figure(
        go.Bar,
        categories,
        series,
        lambda k, values: {
            "text": [_text(v, percent) for v in values],
            "textposition": "outside",
            "cliponaxis": False,
            "marker": _hatched(k, SERIES_COLOURS, patterns),
        },
    )
    fig.update_layout(
        barmode="group", yaxis=_value_axis(value_title, percent, 1.1), xaxis={"automargin": True}
    )
    return styled(fig)


# ------------------------------------------------------------------ maps


def mercator_y(lat: Any) -> Any:
    """Latitude as Web-Mercator "degrees" (so that map axes can use scale ratio 1)."""
    lat = np.clip(np.asarray(lat, dtype=float), -85.0, 85.0)
    return np.degrees(np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)))


def share_bin(share: float) -> int:
    """Index of ``share`` in :data:`SHARE_BINS` (0–20 % → 0 … 80–100 % → 4)."""
    return min(int(np.searchsorted(SHARE_BINS, share, side="left")), len(SHARE_BINS) - 1)


def _points(places: pd.DataFrame, **style: Any) -> go.Scatter:
    """The places (``lon``, ``lat``) as points on the Web-Mercator map axes."""
    return go.Scatter(x=places["lon"], y=mercator_y(places["lat"]), **style)


def _map_axes(fig: go.Figure, lon: np.ndarray, lat: np.ndarray, note: str) -> go.Figure:
    fig.update_xaxes(visible=False, range=_padded(lon))
    fig.update_yaxes(visible=False, range=_padded(mercator_y(lat)), scaleanchor="x", scaleratio=1)
    fig.add_annotation(
        text=note,
        xref="paper",
        yref="paper",
        x=1,
        y=-0.02,
        xanchor="right",
        yanchor="top",
        showarrow=False,
        font={"size": 12, "color": "#333"},
    )
    styled(fig, height=620)
    fig.update_layout(
        plot_bgcolor="#F4F4F2",
        margin={"l": 10, "r": 10, "t": 40, "b": 40},
        legend={
            "orientation": "v",
            "x": 1.0,
            "xanchor": "right",
            "y": 1.0,
            "yanchor": "top",
            "bgcolor": "rgba(255,255,255,0.85)",
        },
    )
    return fig


def _padded(values: np.ndarray, pad: float = 0.06) -> list[float]:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if not len(values):
        return [0.0, 1.0]
    low, high = float(values.min()), float(values.max())
    span = max(high - low, 0.01)
    return [low - span * pad, high + span * pad]


def cell_map(
    cells: pd.DataFrame,
    shelters: pd.DataFrame,
    *,
    bin_labels: Sequence[str],
    shelter_label: str,
    note: str,
) -> go.Figure:
    """H3 cells coloured by the share not confirmed safe (five labelled bins, light → dark),
    open shelters as black-edged white squares.

    ``cells``: ``cell`` (H3 text) and ``share`` — only cells allowed to be shown (the caller
    leaves out small ones). ``shelters``: ``lat, lon``.
    """
    fig = go.Figure()
    lon_all: list[float] = []
    lat_all: list[float] = []
    bins = [share_bin(s) for s in cells["share"]] if len(cells) else []
    for k, label in enumerate(bin_labels):
        xs: list[float | None] = []
        ys: list[float | None] = []
        for cell, b in zip(cells["cell"], bins, strict=True):
            if b != k:
                continue
            ring = h3.cell_to_boundary(cell)
            lats = [p[0] for p in ring] + [ring[0][0]]
            lons = [p[1] for p in ring] + [ring[0][1]]
            xs += [*lons, None]
            ys += [*mercator_y(lats).tolist(), None]
            lon_all += lons
            lat_all += lats
        fig.add_trace(
            go.Scatter(
                x=xs or [None],
                y=ys or [None],
                fill="toself",
                mode="lines",
                line={"color": "#555", "width": 0.6},
                fillcolor=SHARE_COLOURS[k],
                fillpattern={"shape": SHARE_PATTERNS[k], "fgcolor": "#222", "size": 6}
                if SHARE_PATTERNS[k]
                else None,
                name=label,
                hoverinfo="skip",
            )
        )
    if len(shelters):
        fig.add_trace(
            _points(
                shelters,
                mode="markers",
                marker={
                    "symbol": "square",
                    "size": 9,
                    "color": "white",
                    "line": {"color": "black", "width": 1.5},
                },
                name=shelter_label,
            )
        )
        lon_all += shelters["lon"].tolist()
        lat_all += shelters["lat"].tolist()
    return _map_axes(fig, np.asarray(lon_all or [0.0]), np.asarray(lat_all or [0.0]), note)


def shelter_map(
    shelters: pd.DataFrame,
    *,
    size_title: str,
    hidden_label: str,
    note: str,
    labels: Sequence[str] | None = None,
) -> go.Figure:
    """Shelters as circles whose area is the peak head count (``lat, lon, peak``; shelters
    whose peak must not be shown have ``peak`` missing and are drawn as small open rings)."""
    fig = go.Figure()
    peaks = pd.to_numeric(shelters["peak"], errors="coerce")
    shown = shelters[peaks.notna()]
    hidden = shelters[peaks.isna()]
    largest = float(peaks.max()) if peaks.notna().any() else 1.0
    if len(shown):
        fig.add_trace(
            _points(
                shown,
                mode="markers+text" if labels is not None else "markers",
                text=[labels[i] for i in np.flatnonzero(peaks.notna())]
                if labels is not None
                else None,
                textposition="top center",
                textfont={"size": 11},
                marker={
                    "size": pd.to_numeric(shown["peak"]).astype(float),
                    "sizemode": "area",
                    "sizeref": 2.0 * largest / (46.0**2),
                    "sizemin": 4,
                    "color": OKABE_ITO["blue"],
                    "opacity": 0.75,
                    "line": {"color": "black", "width": 1},
                },
                name=size_title,
            )
        )
    if len(hidden):
        fig.add_trace(
            _points(
                hidden,
                mode="markers",
                marker={"size": 6, "color": "white", "line": {"color": "#333", "width": 1}},
                name=hidden_label,
            )
        )
    return _map_axes(
        fig,
        shelters["lon"].to_numpy(float) if len(shelters) else np.array([0.0]),
        shelters["lat"].to_numpy(float) if len(shelters) else np.array([0.0]),
        note,
    )
