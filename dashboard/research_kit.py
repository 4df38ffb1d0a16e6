"""The research pages' kit: one table, one set of downloads, one label rule and one
Kaplan–Meier figure for the four research pages (questionnaires, opt-in, UI/UX, drills).

Tables read as a researcher reads them (:mod:`analytics.reporting`): p as ``< .001`` or three
decimals, an estimate and its 95 % interval in one column, shares as percentages, variables
and levels labelled from the catalog; a group below the small-cell threshold keeps its row,
its count reads 「5未満」, what is derived from it 「—」, and the row is flagged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analytics.reporting import DASH, estimate_ci, number, p_value, percent, percent_ci
from analytics.small_cells import LABELS, is_small
from bosai.palette import OKABE_ITO
from dashboard import widgets

#: Column → catalog key of its header (the columns the compositions name).
HEADERS = {
    "n": "research.common.n",
    "count": "research.common.count",
    "share": "research.common.share",
    "share_ci": "research.common.share_ci",
    "ci_low": "research.common.ci_low",
    "ci_high": "research.common.ci_high",
    "mean": "research.common.mean",
    "sd": "research.common.sd",
    "median": "research.common.median",
    "p": "research.common.p",
    "statistic": "research.common.statistic",
    "group": "research.common.group",
    "attribute": "research.common.attribute",
    "level": "research.common.level",
    "flag": "research.common.flag",
    "effect": "research.survey.effect",
    "effect_value": "research.survey.effect_value",
    "effect_value_ci": "research.common.effect_ci",
    "test": "research.survey.test",
    "alpha": "research.survey.alpha",
    "alpha_ci": "research.survey.alpha_ci",
    "omega_ci": "research.survey.omega_ci",
    "omega": "research.survey.omega",
    "alpha_ci_low": "research.survey.alpha_ci_low",
    "alpha_ci_high": "research.survey.alpha_ci_high",
    "omega_ci_low": "research.survey.omega_ci_low",
    "omega_ci_high": "research.survey.omega_ci_high",
    "term": "research.optin.term",
    "odds_ratio": "research.optin.odds_ratio",
    "odds_ratio_ci": "research.optin.odds_ratio_ci",
    "events": "research.drill.events",
    "median_min": "research.drill.median",
    "minutes": "research.drill.within",
    "drill": "research.drill.drill",
    "task": "research.uiux.task",
    "method": "research.uiux.method",
    "attempts": "research.uiux.attempts",
    "median_s": "research.common.median",
    "mean_s": "research.common.mean",
    "sd_s": "research.common.sd",
    "q1_s": "research.uiux.q1",
    "q3_s": "research.uiux.q3",
    "min_s": "research.uiux.min",
    "max_s": "research.uiux.max",
    "successes": "research.uiux.successes",
    "failures": "research.uiux.failures",
    "errors": "research.uiux.errors",
    "outliers": "research.uiux.outliers",
    "hl_shift_s": "research.uiux.shift",
    "hl_shift_s_ci": "research.uiux.shift_ci",
}

GROUP_COLOURS = {
    "all": OKABE_ITO["black"],
    "resident": OKABE_ITO["blue"],
    "elderly": OKABE_ITO["vermillion"],
    "staff": OKABE_ITO["bluish_green"],
    "visitor": OKABE_ITO["orange"],
    "general": OKABE_ITO["blue"],
    "student": OKABE_ITO["bluish_green"],
}


class Kit:
    """The kit for one run of a page, in the session's language."""

    def __init__(self, t: Callable[..., str], lang: str) -> None:
        self.t = t
        self.lang = lang

    # ------------------------------------------------------------ labels
    def label(self, code: Any, prefix: str = "research.group") -> str:
        """A level's label from the catalog (``research.group.*``: groups, age bands, sex);
        the code itself only when the catalog has none."""
        key = f"{prefix}.{code}"
        text = self.t(key)
        return str(code) if text == key else text

    def attribute(self, code: str) -> str:
        return self.label(code, "research.survey.attribute")

    def term(self, attribute: str, level: str) -> str:
        """A regression term ``age_band=20s`` as 「年代：20代」 (the intercept 「切片」)."""
        if attribute == "const":
            return self.t("research.optin.intercept")
        colon = "：" if self.lang == "ja" else ": "
        return f"{self.attribute(attribute)}{colon}{self.label(level)}"

    def headers(self, frame: pd.DataFrame, extra: Mapping[str, str] | None = None) -> pd.DataFrame:
        names = {k: self.t(v) for k, v in HEADERS.items() if k in frame.columns}
        names.update(extra or {})
        return frame.rename(columns=names)

    # ------------------------------------------------------------ tables
    def readable(
        self,
        frame: pd.DataFrame,
        counts: Sequence[str] = ("n",),
        *,
        basis: str | None = None,
        shares: Mapping[str, tuple[str, str] | None] | None = None,
        estimates: Mapping[str, tuple[str, str, int] | int] | None = None,
        p: Iterable[str] = ("p",),
        keep: Iterable[str] = (),
    ) -> pd.DataFrame:
        """The display copy of ``frame``: counts (small ones 「5未満」), ``shares`` as
        percentages (with their interval columns folded in: ``share`` → ``share_ci``),
        ``estimates`` with their interval in one column (``col: (low, high, digits)``; or
        just ``col: digits``), p-values APA style; every other number of a row whose
        ``basis`` count is small becomes 「—」 and the row is flagged. ``keep`` lists text
        columns left as they are, shown first."""
        basis = basis or (counts[0] if counts else None)
        small = (
            frame[basis].map(is_small)
            if basis is not None and basis in frame
            else pd.Series(False, index=frame.index)
        )
        out = pd.DataFrame(index=frame.index)
        folded: set[str] = set()
        for low_high in (shares or {}).values():
            folded.update(low_high or ())
        for spec in (estimates or {}).values():
            if isinstance(spec, tuple):
                folded.update(spec[:2])
        p = set(p)
        for col in frame.columns:
            if col in folded:
                continue
            values = frame[col]
            if col in counts:
                out[col] = [
                    LABELS.get(self.lang, LABELS["ja"]) if is_small(v) else _count(v)
                    for v in values
                ]
            elif shares and col in shares:
                pair = shares[col]
                name = f"{col}_ci" if pair else col
                out[name] = [
                    DASH
                    if s
                    else (percent_ci(v, row[pair[0]], row[pair[1]]) if pair else percent(v))
                    for v, s, (_, row) in zip(values, small, frame.iterrows(), strict=True)
                ]
            elif estimates and col in estimates:
                spec = estimates[col]
                if isinstance(spec, tuple):
                    low, high, digits = spec
                    out[f"{col}_ci"] = [
                        DASH if s else estimate_ci(v, row[low], row[high], digits)
                        for v, s, (_, row) in zip(values, small, frame.iterrows(), strict=True)
                    ]
                else:
                    out[col] = [
                        DASH if s else number(v, spec) for v, s in zip(values, small, strict=True)
                    ]
            elif col in p:
                out[col] = [DASH if s else p_value(v) for v, s in zip(values, small, strict=True)]
            elif col in keep or not pd.api.types.is_numeric_dtype(values):
                out[col] = values.astype(object).where(values.notna(), DASH)
            else:
                out[col] = [DASH if s else number(v, 3) for v, s in zip(values, small, strict=True)]
        keep = list(keep)
        out = out[[c for c in keep if c in out] + [c for c in out if c not in keep]]
        if bool(small.any()):
            out["flag"] = [self.t("research.common.small_group") if s else "" for s in small]
        return out.reset_index(drop=True)

    def table(self, frame: pd.DataFrame, extra: Mapping[str, str] | None = None) -> None:
        st.dataframe(self.headers(frame, extra), hide_index=True)

    def downloads(self, frame: pd.DataFrame, stem: str, note: str) -> None:
        """CSV, Parquet (the method note in its metadata) and the note, each after the gate;
        the note in the session's language (:meth:`note_text`)."""
        widgets.tidy_downloads(self.t, frame, stem, self.note_text(note))

    def note_text(self, note: str) -> str:
        """The downloaded method note. In English the note as the composition (and ``bosai
        analyze``) writes it, ``key: text`` a line; in Japanese each of those lines as
        :meth:`method_lines` shows it (catalog label and text), then the note as written
        under a heading that says so — it carries the settings used (resamples, seeds), which
        the catalog's texts leave out."""
        if self.lang == "en":
            return note
        notes = {}
        for line in note.splitlines():
            key, sep, value = line.partition(": ")
            if sep and key.isidentifier():
                notes[key] = value
        return "\n".join(
            [*self.method_lines(notes), "", self.t("research.common.note_original"), note]
        )

    def method_notes(self, notes: Mapping[str, str]) -> None:
        """The method notes in an expander (手法), each under its catalog label: in Japanese the
        catalog's text (``research.notes.<key>``), in English the composition's own note (the
        text of the downloads). A key the catalog lacks reads 「（…英語のダウンロード用テキスト）」
        in Japanese rather than English."""
        with st.expander(self.t("research.common.method")):
            for line in self.method_lines(notes):
                st.text(line)

    def method_lines(self, notes: Mapping[str, str]) -> list[str]:
        """The lines :meth:`method_notes` shows (``label: text``)."""
        lines = []
        for key, value in notes.items():
            label = self.t(f"research.notes.{key}.label")
            if label == f"research.notes.{key}.label":
                label = key if self.lang == "en" else self.t("research.common.method")
                text = str(value) if self.lang == "en" else self.t("research.notes.unknown")
            else:
                text = str(value) if self.lang == "en" else self.t(f"research.notes.{key}.text")
            lines.append(f"{label}：{text}" if self.lang == "ja" else f"{label}: {text}")
        return lines

    # ------------------------------------------------------------ figures
    def km_figure(self, curves: Sequence[dict[str, Any]], height: int = 420) -> go.Figure:
        """Kaplan–Meier curves as "share reached" steps, flat after the last event until the
        end of follow-up; each of ``curves`` is ``{"name", "summary", "colour", "dash"}``
        (``summary`` as :func:`analytics.drill_evaluation` gives it). Curves of groups below
        the small-cell threshold are not drawn."""
        fig = go.Figure()
        for entry in curves:
            curve = entry["summary"]
            if is_small(curve["n"]) or not curve["curve"]:
                continue
            km = pd.DataFrame(curve["curve"])
            end = max(curve.get("follow_up_min") or 0.0, float(km["time"].max()))
            fig.add_trace(
                go.Scatter(
                    x=[0.0, *km["time"], end],
                    y=[0.0, *(1 - km["survival"]), float(1 - km["survival"].iloc[-1])],
                    mode="lines",
                    line={
                        "shape": "hv",
                        "color": entry.get("colour", OKABE_ITO["grey"]),
                        "dash": entry.get("dash", "solid"),
                    },
                    name=f"{entry['name']}（n={curve['n']:,}）",
                )
            )
        fig.update_layout(
            height=height,
            margin={"l": 0, "r": 0, "t": 10, "b": 0},
            xaxis={"title": self.t("research.drill.minutes"), "rangemode": "tozero"},
            yaxis={"title": self.t("research.drill.reached"), "range": [0, 1], "tickformat": ".0%"},
        )
        return fig


def share_bars(shares: pd.DataFrame, label: str, colour: str) -> go.Bar:
    """Horizontal bars of the ``share`` column with their confidence intervals (``ci_low``,
    ``ci_high``) as error bars, one per row named by the ``label`` column."""
    return go.Bar(
        x=shares["share"],
        y=shares[label],
        orientation="h",
        marker_color=colour,
        error_x={
            "type": "data",
            "symmetric": False,
            "array": shares["ci_high"] - shares["share"],
            "arrayminus": shares["share"] - shares["ci_low"],
        },
        text=[f"{s:.1%}" for s in shares["share"]],
    )


def _count(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return DASH
    return f"{int(value):,}"  # as the metrics above the tables: 10,000
