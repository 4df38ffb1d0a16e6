"""Push notifications through the city OS, recorded in our database.

:func:`send_push` is the one function both ``bosai cityos push`` and the notifications page
call: it records the request (``draft``), asks the city OS to push it (idempotent on its key,
so a retry never pushes twice), records the answer (``sent`` with the city OS's request id and
recipient count, or ``failed`` with the error) and the delivery events per citizen.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from sqlalchemy.engine import Engine

from bosai.errors import BosaiError
from sql import cityos_push

from . import payloads as p
from .client import CityOSClient
from .errors import CityOSError

TARGET_KINDS = {"everyone": "everyone", "citizens": "citizens", "area": "area"}


@dataclasses.dataclass(frozen=True)
class PushOutcome:
    notification_id: int
    cityos_request_id: str | None
    status: str
    recipient_count: int
    delivered: int
    opened: int
    failed: int
    events_recorded: int
    #: How many we asked the city OS to notify (``None`` for everyone: the city OS counts).
    sent: int | None = None

    @property
    def shortfall(self) -> int:
        """How many of those sent the city OS did not accept (0 when it accepted them all)."""
        return max((self.sent or 0) - self.recipient_count, 0) if self.sent is not None else 0


def parse_target(text: str) -> p.PushTarget:
    """``everyone``, ``area:<district>`` or ``citizens:<subject>,<subject>,...``."""
    kind, _, rest = text.partition(":")
    kind = kind.strip()
    if kind == "everyone" and not rest:
        return p.PushTarget(kind="everyone")
    if kind == "area" and rest.strip():
        return p.PushTarget(kind="area", district=rest.strip())
    if kind == "citizens":
        subjects = [s.strip() for s in rest.split(",") if s.strip()]
        if subjects:
            return p.PushTarget(kind="citizens", subjects=subjects)
    raise BosaiError(
        f"--target {text!r}: use everyone, area:<district> or citizens:<subject>,<subject>",
        exit_code=2,
    )


def send_push(
    engine: Engine,
    client: CityOSClient,
    target: p.PushTarget,
    title: str,
    body: str,
    *,
    requested_by: str | None = None,
    incident_id: int | None = None,
    idempotency_key: str | None = None,
    chosen: dict[str, Any] | None = None,
) -> PushOutcome:
    """Send one push-notification request and record it with its delivery events.

    ``chosen`` is the target as staff chose it (``{"kind": "hazard_zone", "label": "…"}``),
    kept with the request so the history names it as chosen, not as the list of citizens
    it became."""
    key = idempotency_key or f"bosai:push:{uuid.uuid4()}"
    spec = target.model_dump(exclude_none=True)
    if chosen:
        spec["chosen"] = chosen
    notification_id = cityos_push.record_push_request(
        engine,
        idempotency_key=key,
        target_kind=TARGET_KINDS[target.kind],
        target_spec=spec,
        title=title,
        body=body,
        requested_by=requested_by,
        incident_id=incident_id,
    )
    try:
        answer = client.push(target, title, body, idempotency_key=key)
        deliveries = client.deliveries(answer.request_id)
    except CityOSError as exc:
        cityos_push.record_push_outcome(engine, notification_id, status="failed", error=str(exc))
        raise
    added = cityos_push.record_push_outcome(
        engine,
        notification_id,
        status="sent" if answer.status in ("sent", "accepted") else "failed",
        cityos_request_id=answer.request_id,
        recipient_count=answer.recipient_count,
        sent_at=answer.created_at,
        deliveries=[(d.subject, d.event, d.at) for d in deliveries.items],
    )
    counts = answer.deliveries
    return PushOutcome(
        notification_id=notification_id,
        cityos_request_id=answer.request_id,
        status=answer.status,
        recipient_count=answer.recipient_count,
        delivered=counts.delivered,
        opened=counts.opened,
        failed=counts.failed,
        events_recorded=added,
        sent=len(target.subjects or []) if target.kind == "citizens" else None,
    )


def refresh_deliveries(
    engine: Engine, client: CityOSClient, notification_id: int, request_id: str
) -> int:
    """Fetch the delivery events of a sent request again (opened events arrive later)."""
    deliveries = client.deliveries(request_id)
    answer = client.push_request(request_id)
    return cityos_push.record_push_outcome(
        engine,
        notification_id,
        status="sent",
        recipient_count=answer.recipient_count,
        deliveries=[(d.subject, d.event, d.at) for d in deliveries.items],
    )
