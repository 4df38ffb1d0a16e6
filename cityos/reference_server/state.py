"""The reference city OS's data: users with consents, shelters, the event feed, push requests.

Held in memory behind one lock (a reference implementation, not a product). Every change to a
user or shelter takes a new value of one increasing ``revision`` counter, so incremental reads
(``since=<revision>``) see exactly what changed. Events get increasing ids. The opt-in check is
applied when data leaves (:meth:`CityOSState.user_payload`, :meth:`CityOSState.events_after`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import threading
from typing import Any

from ..contract import EVENT_ITEMS, ITEM_FIELDS


def iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class NotFound(LookupError):
    pass


class Conflict(ValueError):
    pass


@dataclasses.dataclass
class ConsentRecord:
    consent_id: str
    data_item: str
    share_target: str
    state: str
    occurred_at: dt.datetime
    expires_at: dt.datetime | None = None
    purpose: str = "disaster_response"
    notice_version: str = "2022.1"

    def in_force(self, at: dt.datetime) -> bool:
        return self.state == "given" and (self.expires_at is None or self.expires_at > at)

    def as_dict(self) -> dict[str, Any]:
        return {
            "consent_id": self.consent_id,
            "data_item": self.data_item,
            "share_target": self.share_target,
            "state": self.state,
            "occurred_at": iso(self.occurred_at),
            "expires_at": iso(self.expires_at) if self.expires_at else None,
            "purpose": self.purpose,
            "notice_version": self.notice_version,
        }


@dataclasses.dataclass
class UserRecord:
    subject: str
    revision: int
    updated_at: dt.datetime
    synthetic: bool
    consents: dict[tuple[str, str], ConsentRecord]
    basic_info: dict[str, Any] | None = None
    household: dict[str, Any] | None = None
    safety_status: dict[str, Any] | None = None
    location: dict[str, Any] | None = None
    support_register: dict[str, Any] | None = None
    profile_image: dict[str, Any] | None = None
    consent_changes: int = 0

    def allowed(self, item: str, share_target: str, at: dt.datetime) -> bool:
        consent = self.consents.get((item, share_target))
        return consent is not None and consent.in_force(at)


@dataclasses.dataclass
class PushRecord:
    request_id: str
    idempotency_key: str
    fingerprint: str
    status: str
    recipients: list[str]
    created_at: dt.datetime
    deliveries: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        counts = {"delivered": 0, "opened": 0, "failed": 0}
        for d in self.deliveries:
            counts[d["event"]] += 1
        return {
            "request_id": self.request_id,
            "idempotency_key": self.idempotency_key,
            "status": self.status,
            "recipient_count": len(self.recipients),
            "created_at": iso(self.created_at),
            "deliveries": counts,
        }


class CityOSState:
    """Users, shelters, events and push requests of one city OS (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.users: dict[str, UserRecord] = {}
        self.shelters: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self.pushes: dict[str, PushRecord] = {}
        self.push_by_key: dict[str, str] = {}
        self.revoked_tokens: set[str] = set()
        self.opt_in_check = True
        self._revision = 0

    def clone(self) -> CityOSState:
        """An independent deep copy (tests start each case from the same population)."""
        import copy

        with self.lock:
            values = {k: copy.deepcopy(v) for k, v in self.__dict__.items() if k != "lock"}
        twin = CityOSState.__new__(CityOSState)
        twin.__dict__.update(values)
        twin.lock = threading.RLock()
        return twin

    # ------------------------------------------------------------ revisions

    def next_revision(self) -> int:
        self._revision += 1
        return self._revision

    @property
    def revision(self) -> int:
        return self._revision

    def add_user(self, user: UserRecord) -> None:
        with self.lock:
            user.revision = self.next_revision()
            self.users[user.subject] = user

    def add_shelter(self, shelter: dict[str, Any]) -> None:
        with self.lock:
            shelter["revision"] = self.next_revision()
            self.shelters[shelter["shelter_id"]] = shelter

    def _touch(self, user: UserRecord, at: dt.datetime) -> None:
        user.revision = self.next_revision()
        user.updated_at = at

    # ------------------------------------------------------------ reads

    def user_payload(self, user: UserRecord, share_target: str, at: dt.datetime) -> dict:
        doc: dict[str, Any] = {
            "subject": user.subject,
            "revision": user.revision,
            "updated_at": iso(user.updated_at),
            "synthetic": user.synthetic,
            "consents": [c.as_dict() for c in user.consents.values()],
        }
        for item, field in ITEM_FIELDS.items():
            value = getattr(user, field)
            if value is None:
                continue
            if self.opt_in_check and not user.allowed(item, share_target, at):
                continue
            doc[field] = value
        return doc

    def user(self, subject: str, share_target: str) -> dict:
        with self.lock:
            user = self.users.get(subject)
            if user is None:
                raise NotFound(f"no user with subject {subject!r}")
            return self.user_payload(user, share_target, now())

    def users_since(self, since: int, limit: int, share_target: str) -> dict:
        with self.lock:
            changed = sorted(
                (u for u in self.users.values() if u.revision > since), key=lambda u: u.revision
            )
            page = changed[:limit]
            at = now()
            items = [self.user_payload(u, share_target, at) for u in page]
            last = page[-1].revision if page else max(since, self._revision)
            return {"items": items, "revision": last, "has_more": len(changed) > limit}

    def shelters_since(self, since: int, limit: int) -> dict:
        with self.lock:
            changed = sorted(
                (s for s in self.shelters.values() if s["revision"] > since),
                key=lambda s: s["revision"],
            )
            page = changed[:limit]
            last = page[-1]["revision"] if page else max(since, self._revision)
            return {"items": page, "revision": last, "has_more": len(changed) > limit}

    def events_after(self, after: int, limit: int, share_target: str) -> dict:
        """Events with id > ``after`` that the citizens' consents cover, at most ``limit``."""
        with self.lock:
            at = now()
            items: list[dict[str, Any]] = []
            last = after
            position = max(after, 0)  # event ids are 1-based list positions
            total = len(self.events)
            while position < total and len(items) < limit:
                event = self.events[position]
                position += 1
                last = event["event_id"]
                if self.opt_in_check:
                    user = self.users[event["subject"]]
                    if not all(
                        user.allowed(item, share_target, at) for item in EVENT_ITEMS[event["kind"]]
                    ):
                        continue
                items.append(event)
            return {"items": items, "last_event_id": last, "has_more": position < total}

    # ------------------------------------------------------------ changes

    def set_consents(self, subject: str, changes: list[dict[str, Any]]) -> None:
        with self.lock:
            user = self.users.get(subject)
            if user is None:
                raise NotFound(f"no user with subject {subject!r}")
            at = now()
            for change in changes:
                user.consent_changes += 1
                key = (change["data_item"], change["share_target"])
                expires = change.get("expires_at")
                if expires is not None and change["state"] != "given":
                    raise ValueError("expires_at: only a 'given' consent may expire")
                user.consents[key] = ConsentRecord(
                    consent_id=f"cityos:{subject}:{key[0]}:{key[1]}:{user.consent_changes}",
                    data_item=key[0],
                    share_target=key[1],
                    state=change["state"],
                    occurred_at=at,
                    expires_at=expires,
                )
            self._touch(user, at)

    def record_events(self, events: list[dict[str, Any]]) -> tuple[int, int | None, int | None]:
        """Append events (all or none); returns (count, first id, last id)."""
        with self.lock:
            for i, ev in enumerate(events):
                if ev["subject"] not in self.users:
                    raise NotFound(f"events[{i}].subject: no user with subject {ev['subject']!r}")
                payload = {
                    "status": ev.get("status"),
                    "location": ev.get("location"),
                    "rescue": ev.get("rescue"),
                }
                needed = {
                    "status": "status",
                    "arrival": "status",
                    "location": "location",
                    "rescue_request": "rescue",
                }[ev["kind"]]
                if payload[needed] is None:
                    raise ValueError(f"events[{i}].{needed}: required for a {ev['kind']} event")
                if ev["kind"] == "arrival" and not (ev["status"] or {}).get("shelter_id"):
                    raise ValueError(f"events[{i}].status.shelter_id: required for an arrival")
            first = len(self.events) + 1
            for ev in events:
                self._append_event(ev)
            if not events:
                return 0, None, None
            return len(events), first, len(self.events)

    def _append_event(self, ev: dict[str, Any]) -> dict[str, Any]:
        event_id = len(self.events) + 1
        at: dt.datetime = ev["at"]
        out: dict[str, Any] = {
            "event_id": event_id,
            "kind": ev["kind"],
            "subject": ev["subject"],
            "at": iso(at),
            "exercise": ev.get("exercise"),
        }
        kind = ev["kind"]
        if kind in ("status", "arrival"):
            status = dict(ev["status"])
            if kind == "arrival":
                status["state"] = "at_shelter"
            out["status"] = {
                "state": status["state"],
                "shelter_id": status.get("shelter_id"),
                "message": status.get("message"),
            }
        elif kind == "location":
            loc = ev["location"]
            out["location"] = {
                "lat": float(loc["lat"]),
                "lon": float(loc["lon"]),
                "accuracy_m": loc.get("accuracy_m"),
            }
        else:
            r = ev["rescue"]
            out["rescue"] = {
                "lat": float(r["lat"]),
                "lon": float(r["lon"]),
                "people_count": int(r.get("people_count") or 1),
                "injured_count": int(r.get("injured_count") or 0),
                "needs": r.get("needs"),
            }
        self.events.append(out)
        # A drill's events never change the citizen's real snapshot.
        if not out["exercise"]:
            user = self.users[ev["subject"]]
            if "status" in out:
                user.safety_status = {
                    "report_id": event_id,
                    **out["status"],
                    "reported_at": out["at"],
                }
                self._touch(user, max(user.updated_at, now()))
            elif "location" in out:
                user.location = {"fix_id": event_id, **out["location"], "fixed_at": out["at"]}
                self._touch(user, max(user.updated_at, now()))
        return out

    # ------------------------------------------------------------ push

    def push(self, request: dict[str, Any], share_target: str) -> tuple[PushRecord, bool]:
        """Record and deliver a push request; returns (record, created)."""
        fingerprint = hashlib.sha256(
            repr((request["title"], request["body"], sorted(request["target"].items()))).encode()
        ).hexdigest()
        with self.lock:
            existing = self.push_by_key.get(request["idempotency_key"])
            if existing is not None:
                record = self.pushes[existing]
                if record.fingerprint != fingerprint:
                    raise Conflict(
                        f"idempotency_key {request['idempotency_key']!r} was used for another request"
                    )
                return record, False
            target = request["target"]
            kind = target["kind"]
            if kind == "everyone":
                recipients = sorted(self.users)
            elif kind == "citizens":
                if not target.get("subjects"):
                    raise ValueError("target.subjects: required for kind 'citizens'")
                recipients = sorted({s for s in target["subjects"] if s in self.users})
            else:
                if not target.get("district"):
                    raise ValueError("target.district: required for kind 'area'")
                recipients = sorted(
                    s
                    for s, u in self.users.items()
                    if (u.basic_info or {}).get("district") == target["district"]
                )
            created = now()
            request_id = f"push-{len(self.pushes) + 1:06d}"
            deliveries = []
            for subject in recipients:
                user = self.users[subject]
                digest = hashlib.sha256(f"{request_id}:{subject}".encode()).digest()
                has_device = bool((user.basic_info or {}).get("phone"))
                if not has_device:
                    deliveries.append({"subject": subject, "event": "failed", "at": iso(created)})
                    continue
                delivered = created + dt.timedelta(milliseconds=50 + digest[0])
                deliveries.append({"subject": subject, "event": "delivered", "at": iso(delivered)})
                if digest[1] < 160:  # about 63% open it
                    opened = delivered + dt.timedelta(seconds=5 + digest[2])
                    deliveries.append({"subject": subject, "event": "opened", "at": iso(opened)})
            record = PushRecord(
                request_id=request_id,
                idempotency_key=request["idempotency_key"],
                fingerprint=fingerprint,
                status="sent",
                recipients=recipients,
                created_at=created,
                deliveries=deliveries,
            )
            self.pushes[request_id] = record
            self.push_by_key[record.idempotency_key] = request_id
            return record, True

    def push_record(self, request_id: str) -> PushRecord:
        with self.lock:
            record = self.pushes.get(request_id)
            if record is None:
                raise NotFound(f"no push request {request_id!r}")
            return record
