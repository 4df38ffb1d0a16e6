"""Evacuation information (避難情報, issue 17) in the reports: what is in force at a moment,
what changed between two moments, and the decisions of an incident as a timeline — each with
the people covered (citizens living in the areas, counted by
:func:`sql.policy.evacuation_coverage`; aggregates only) and the minutes from the trigger to
the decision.

People covered by a decision or a level are the areas' counts added up (an area counted once
per decision); a person living where two areas overlap counts in both.

Beside the opted-in citizens, an area may carry *all* its residents and households by the
city's counts (``evacuation_areas.residents``/``households``, e.g. 国勢調査 小地域): those are
published statistics, public aggregates, so the small-counts rule (「5未満」) does not apply to
them — it stays on the opted-in counts, which come from individual citizens.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from analytics.evacuation_response import RESPONSE_FIGURES
from sql.policy import evacuation_coverage
from sql.queries import evacuation as evacuation_queries
from sql.viewer import Viewer


@dataclasses.dataclass(frozen=True)
class CityCounts:
    """All residents and households of some areas by the city's counts (public aggregates)."""

    residents: int
    #: None when no counted area gave households.
    households: int | None
    sources: tuple[str, ...]
    #: Areas with a residents count, of ``areas`` chosen.
    counted: int
    areas: int


def _known(value: Any) -> bool:
    return value is not None and not pd.isna(value)


def city_counts(areas: pd.DataFrame, area_ids: Any) -> CityCounts | None:
    """The city's counts of ``area_ids`` added up (rows of :func:`areas_frame`; each area
    once), or None when none of them has counts.

    >>> frame = pd.DataFrame({"id": [1, 2], "residents": [120, None],
    ...                       "households": [50, None], "counts_source": ["国勢調査", None]})
    >>> city_counts(frame, [1, 2])
    CityCounts(residents=120, households=50, sources=('国勢調査',), counted=1, areas=2)
    >>> city_counts(frame, [2]) is None
    True
    """
    ids = {int(a) for a in area_ids}
    if "residents" not in areas:
        return None
    chosen = areas[areas["id"].astype(int).isin(ids)]
    counted = chosen[[_known(v) for v in chosen["residents"]]]
    if counted.empty:
        return None
    households = [int(h) for h in counted["households"] if _known(h)]
    sources = tuple(dict.fromkeys(str(s) for s in counted["counts_source"] if _known(s) and s))
    return CityCounts(
        int(sum(int(r) for r in counted["residents"])),
        sum(households) if households else None,
        sources,
        len(counted),
        len(ids),
    )


def city_counts_text(counts: CityCounts | None, lang: str, *, labelled: bool = True) -> str:
    """「住民（市の集計）N人・M世帯（出典: …）」, 「（k/n 区域分の集計）」 when only some areas
    have counts, 「住民（市の集計）: 集計なし」 when none; without the label for a table cell
    (「N人・M世帯（出典: …）」 / 「集計なし」)."""
    from bosai.i18n import t

    if counts is None:
        return t("evacuation.counts.none" if labelled else "evacuation.counts.not_given", lang)
    households = "—" if counts.households is None else f"{counts.households:,}"
    text = t(
        "evacuation.counts.city" if labelled else "evacuation.counts.cell",
        lang,
        residents=f"{counts.residents:,}",
        households=households,
    )
    if counts.sources:
        sep = "、" if lang == "ja" else ", "
        text += t("evacuation.counts.source", lang, source=sep.join(counts.sources))
    if counts.counted < counts.areas:
        text += t("evacuation.counts.partial", lang, counted=counts.counted, areas=counts.areas)
    return text


TIMELINE_COLUMNS = [
    "decision_key",
    "issued_at",
    "action",
    "level",
    "area_codes",
    "areas_ja",
    "areas_en",
    "people",
    "residents",
    "triggered_at",
    "minutes_from_trigger",
    "is_exercise",
]


def _aware(moment: Any) -> dt.datetime | None:
    if moment is None or (not isinstance(moment, dt.datetime) and pd.isna(moment)):
        return None
    stamp = pd.Timestamp(moment)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.to_pydatetime()


def minutes_from_trigger(trigger: Any, issued_at: Any) -> int | None:
    """Whole minutes from the trigger being reached to the decision (None when decided by hand).

    >>> minutes_from_trigger({"triggered_at": "2026-07-10T04:00:00+00:00"},
    ...                      dt.datetime(2026, 7, 10, 4, 25, 30, tzinfo=dt.UTC))
    25
    >>> minutes_from_trigger(None, dt.datetime(2026, 7, 10, tzinfo=dt.UTC)) is None
    True
    """
    reached = trigger.get("triggered_at") if isinstance(trigger, dict) else None
    issued = _aware(issued_at)
    if not reached or issued is None:
        return None
    start = _aware(dt.datetime.fromisoformat(str(reached)))
    return max(int((issued - start).total_seconds() // 60), 0)


def _people_per_area(engine: Engine, viewer: Viewer, area_ids: set[int]) -> dict[int, int]:
    if not area_ids:
        return {}
    areas = evacuation_queries.areas_frame(engine)
    wkbs = {
        int(i): bytes(g)
        for i, g in zip(areas["id"], areas["geom_wkb"], strict=True)
        if int(i) in area_ids
    }
    coverage = evacuation_coverage(engine, viewer, wkbs)
    return {int(a): int(p) for a, p in zip(coverage["area_id"], coverage["people"], strict=True)}


def timeline(engine: Engine, incident_id: int, viewer: Viewer) -> pd.DataFrame:
    """One row per decision of the incident (issue or lift), oldest first: time, action,
    level (None for a lift), the areas (codes, names JA/EN), the opted-in citizens living in
    them (``people``), all residents by the city's counts (``residents``, a
    :class:`CityCounts` or None), the trigger's time and the minutes from it to the decision,
    whether it was an exercise."""
    history = evacuation_queries.issuance_history(engine, incident_id)
    if history.empty:
        return pd.DataFrame(columns=TIMELINE_COLUMNS)
    people = _people_per_area(engine, viewer, {int(a) for a in history["area_id"]})
    areas = evacuation_queries.areas_frame(engine)
    rows = []
    for key, group in history.groupby("decision_key", sort=False):
        first = group.iloc[0]
        trigger = first["trigger"] if isinstance(first["trigger"], dict) else None
        issued = _aware(first["issued_at"])
        rows.append(
            {
                "decision_key": key,
                "issued_at": issued,
                "action": str(first["action"]),
                "level": int(first["level"]) if pd.notna(first["level"]) else None,
                "area_codes": [str(c) for c in group["area_code"]],
                "areas_ja": [str(n) for n in group["area_name_ja"]],
                "areas_en": [
                    str(e) if isinstance(e, str) and e else str(j)
                    for e, j in zip(group["area_name_en"], group["area_name_ja"], strict=True)
                ],
                "people": sum(people.get(int(a), 0) for a in group["area_id"].unique()),
                "residents": city_counts(areas, group["area_id"].unique()),
                "triggered_at": _aware(dt.datetime.fromisoformat(trigger["triggered_at"]))
                if trigger and trigger.get("triggered_at")
                else None,
                "minutes_from_trigger": minutes_from_trigger(trigger, issued),
                "is_exercise": bool(first["is_exercise"]),
            }
        )
    frame = pd.DataFrame(rows, columns=TIMELINE_COLUMNS)
    return frame.sort_values("issued_at", kind="stable").reset_index(drop=True)


def in_force_by_level(
    engine: Engine, incident_id: int, at: dt.datetime, viewer: Viewer
) -> pd.DataFrame:
    """The evacuation information in force at ``at``, one row per level (highest first):
    level, area codes, names JA/EN, people living in those areas."""
    columns = ["level", "area_codes", "areas_ja", "areas_en", "people"]
    force = evacuation_queries.in_force(engine, incident_id, as_of=at)
    if not force:
        return pd.DataFrame(columns=columns)
    areas = evacuation_queries.areas_frame(engine).set_index("id")
    people = _people_per_area(engine, viewer, set(force))
    rows = []
    for level in sorted({f.level for f in force.values()}, reverse=True):
        ids = sorted(
            (a for a, f in force.items() if f.level == level), key=lambda a: areas.at[a, "code"]
        )
        rows.append(
            {
                "level": level,
                "area_codes": [str(areas.at[a, "code"]) for a in ids],
                "areas_ja": [str(areas.at[a, "name_ja"]) for a in ids],
                "areas_en": [str(areas.at[a, "name_en"] or areas.at[a, "name_ja"]) for a in ids],
                "people": sum(people.get(a, 0) for a in ids),
            }
        )
    return pd.DataFrame(rows, columns=columns)


def changes_between(decisions: pd.DataFrame, since: dt.datetime, at: dt.datetime) -> pd.DataFrame:
    """The decisions taken after ``since`` up to and including ``at`` (a :func:`timeline`)."""
    if decisions.empty:
        return decisions
    times = pd.to_datetime(decisions["issued_at"], utc=True)
    keep = (times > pd.Timestamp(since)) & (times <= pd.Timestamp(at))
    return decisions[keep.to_numpy()].reset_index(drop=True)


#: The drill evaluation's evacuation table as shown (page and council report), in order.
RESPONSE_DISPLAY = ("issued_at", "decision", "areas", *RESPONSE_FIGURES)


def response_display(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The drill evaluation's trigger → issuance → opened → safe table
    (:func:`compositions.drill.evacuation_responses`) as a reader sees it: labelled columns,
    Japan time, counts of 1–4 as 「5未満」 and a median derived from a small count hidden."""
    from analytics.small_cells import LABELS, is_small
    from bosai.i18n import t
    from bosai.jpdate import format_datetime

    small_label = LABELS.get(lang, LABELS["ja"])

    def count(v: Any) -> str:
        return small_label if is_small(v) else f"{int(v):,}"

    def minutes(v: Any, basis: Any) -> str:
        return "—" if v is None or pd.isna(v) or is_small(basis) else f"{float(v):g}"

    rows = []
    for r in frame.itertuples(index=False):
        decision = (
            t(f"evacuation.level.{int(r.level)}", lang)
            if r.action == "issue"
            else t("evacuation.lifted", lang)
        )
        rows.append(
            {
                "issued_at": format_datetime(r.issued_at, lang),
                "decision": decision,
                "areas": f"{int(r.areas):,}",
                "trigger_to_issue_min": minutes(r.trigger_to_issue_min, None),
                "reached": count(r.reached),
                "opened": count(r.opened),
                "issue_to_opened_median_min": minutes(r.issue_to_opened_median_min, r.opened),
                "safe": count(r.safe),
                "issue_to_safe_median_min": minutes(r.issue_to_safe_median_min, r.safe),
            }
        )
    out = pd.DataFrame(rows, columns=list(RESPONSE_DISPLAY))
    return out.rename(
        columns={c: t(f"research.drill.evacuation_col.{c}", lang) for c in RESPONSE_DISPLAY}
    )


def response_download(frame: pd.DataFrame) -> pd.DataFrame:
    """The same table as a tidy download: counts of 1–4 and the medians derived from them
    missing, a ``suppressed`` column saying which rows lost something."""
    from analytics.small_cells import suppress_tidy

    out = suppress_tidy(frame, ["reached", "opened", "safe"], [], basis="reached")
    for median, basis in (
        ("issue_to_opened_median_min", "opened"),
        ("issue_to_safe_median_min", "safe"),
    ):
        small = suppress_tidy(frame, [basis])["suppressed"].to_numpy()
        out[median] = pd.to_numeric(frame[median], errors="coerce").astype(float).where(~small)
    return out
