"""The printable announcement of an evacuation decision for 防災行政無線 (outdoor loudspeakers)
and radio: the standard script per level in plain spoken Japanese, to be read twice, with the
time, the areas and — for a drill — 「これは訓練です」 before and after.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine

from bosai.i18n import t
from bosai.jpdate import format_datetime
from sql.city_config import active_city
from sql.queries import evacuation as evq

from .pdf import render_pdf, render_template


def announcement_html(engine: Engine, decision_key: str) -> str:
    rows = evq.decision_rows(engine, decision_key)
    if rows.empty:
        raise KeyError(decision_key)
    head = rows.iloc[0]
    city = active_city(engine)
    level = None if head["action"] == "lift" else int(head["level"])
    key = str(level) if level else "lift"
    areas = "、".join(rows["area_name_ja"])
    exercise = t("evacuation.announcement.exercise") if bool(head["is_exercise"]) else ""
    script = [
        t("evacuation.announcement.opening", city=city.name_ja),
        t(f"evacuation.announcement.script.{key}", areas=areas),
    ]
    if exercise:
        script = [exercise, *script, exercise]
    return render_template(
        "evacuation_announcement.html",
        title=t("evacuation.announcement.title", city=city.name_ja),
        exercise=exercise,
        decided=format_datetime(head["issued_at"], "ja"),
        areas=areas,
        level=t(f"evacuation.level.{level}") if level else t("evacuation.lifted"),
        labels={
            "decided": t("evacuation.announcement.decided"),
            "areas": t("evacuation.announcement.areas"),
            "level": t("evacuation.announcement.level"),
            "read_twice": t("evacuation.announcement.read_twice"),
        },
        script=script,
    )


def announcement_pdf(engine: Engine, decision_key: str) -> bytes:
    """The announcement as an A4 PDF (Japanese fonts required)."""
    return render_pdf(
        announcement_html(engine, decision_key),
        metadata={"title": decision_key, "lang": "ja"},
    )
