"""Push an evacuation decision to the citizens in its areas through the city OS.

The recipients are the citizens living in the decision's areas who share their basic
information (the address) with the city (:func:`sql.policy.evacuation_recipients`: consent
read at query time, the list audited). The text is the standard one per level
(``evacuation.push.*`` in the catalog): Japanese, easy Japanese (やさしい日本語) and English in
one message, with the areas' names; a drill's message starts with 【訓練】. The request goes
through :func:`cityos.push.send_push` (recorded with its delivery funnel) under the key
``bosai:evacuation:<decision>``, so a repeat never pushes twice.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy.engine import Engine

from bosai.i18n import t
from sql.queries import evacuation as evq
from sql.viewer import Viewer

from . import payloads as p
from .client import CityOSClient
from .push import PushOutcome, send_push


@dataclasses.dataclass(frozen=True)
class EvacuationPush:
    #: Citizens living in the areas; those of them the push may reach (consent).
    candidates: int
    recipients: int
    #: What the city OS did (None when there was nobody to send to).
    outcome: PushOutcome | None


def message(level: int | None, areas_ja: list[str], areas_en: list[str], exercise: bool):
    """The standard title and body for a level (None: a lift)."""
    key = str(level) if level else "lift"
    title = t(f"evacuation.push.title.{key}", "ja")
    body = "\n\n".join(
        [
            t(f"evacuation.push.body.{key}", "ja", areas="、".join(areas_ja)),
            t(f"evacuation.push.easy.{key}", "ja", areas="、".join(areas_ja)),
            t(f"evacuation.push.body.{key}", "en", areas=", ".join(areas_en)),
        ]
    )
    if exercise:
        title = f"{t('evacuation.push.exercise', 'ja')}{title}"
        body = f"{t('evacuation.cap.exercise_note', 'ja')} / {t('evacuation.cap.exercise_note', 'en')}\n\n{body}"
    return title, body


def push_decision(
    engine: Engine, client: CityOSClient, viewer: Viewer, decision_key: str
) -> EvacuationPush:
    """Send the decision's standard message to the consenting citizens in its areas."""
    from sql import policy

    rows = evq.decision_rows(engine, decision_key)
    if rows.empty:
        raise KeyError(decision_key)
    head = rows.iloc[0]
    incident_id = int(head["incident_id"])
    level = None if head["action"] == "lift" else int(head["level"])
    recipients, candidates = policy.evacuation_recipients(
        engine,
        viewer.for_incident(incident_id),
        incident_id,
        dict(zip(rows["area_id"].astype(int), rows["geom_wkb"], strict=True)),
    )
    if recipients.empty:
        return EvacuationPush(candidates, 0, None)
    names_en = [
        en if isinstance(en, str) and en else ja
        for en, ja in zip(rows["area_name_en"], rows["area_name_ja"], strict=True)
    ]
    title, body = message(level, list(rows["area_name_ja"]), names_en, bool(head["is_exercise"]))
    outcome = send_push(
        engine,
        client,
        p.PushTarget(kind="citizens", subjects=recipients["subject"].astype(str).tolist()),
        title,
        body,
        requested_by=viewer.subject,
        incident_id=incident_id,
        idempotency_key=f"bosai:evacuation:{decision_key}",
    )
    return EvacuationPush(candidates, len(recipients), outcome)
