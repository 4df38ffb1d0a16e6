"""JMA telegrams into the database: the telegram and the configured city's warnings.

For each telegram (in report-time order) the city's most specific area the telegram covers is
used — municipality, else municipal group, else primary subdivision, else prefecture (the
city's ``jma_area_codes``). A telegram that covers none of them is skipped, not stored. A
telegram already stored (same bytes, or the same office, report time, type and serial) is left
alone, so replaying a folder twice changes nothing. When anything new was stored, the JMA
feed's freshness (``source_health`` row ``jma``) is updated.
"""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bosai.errors import BosaiError
from bosai.jpdate import jst
from importers.jma_warnings import Telegram, warnings_for_city
from importers.problems import reason

from ..city_config import CityConfig
from ..models import City, JmaTelegram, JmaWarning, SourceHealth
from ..models.base import utcnow
from .summary import ImportSummary
from .write_scope import write_session

#: ``source_health.source`` of the JMA feed.
JMA_SOURCE = "jma"


def _active_city(session: Session) -> CityConfig:
    row = session.scalars(sa.select(City).where(City.active.is_(True)).order_by(City.id)).first()
    if row is None:
        raise BosaiError("no city is configured: run `bosai db upgrade` or `bosai city load FILE`")
    return CityConfig(**{f.name: getattr(row, f.name) for f in dataclasses.fields(CityConfig)})


def import_telegrams(
    target: Engine | Session, telegrams: list[Telegram], *, dry_run: bool = False
) -> ImportSummary:
    summary = ImportSummary("warnings", dry_run=dry_run)
    now = utcnow()
    stored_warnings = 0
    with write_session(target, dry_run) as session:
        city = _active_city(session)
        latest = None
        for telegram in sorted(telegrams, key=lambda t: (t.report_time, t.file)):
            if _already_stored(session, telegram):
                summary.unchanged += 1
                continue
            level, warnings = warnings_for_city(telegram, city.jma_area_codes)
            if not warnings:
                summary.skipped += 1
                summary.notes.append(f"{telegram.file}: {reason('importers.skip.other_area')}")
                continue
            row = JmaTelegram(
                content_sha256=telegram.content_sha256,
                info_kind=telegram.info_kind,
                info_type=telegram.info_type,
                event_id=telegram.event_id,
                serial=telegram.serial,
                title=telegram.title,
                office=telegram.office,
                report_time=telegram.report_time,
                headline=telegram.headline,
                file_name=telegram.file.replace("\\", "/").rsplit("/", 1)[-1][:200],
                is_synthetic=telegram.is_drill,
                received_at=now,
            )
            session.add(row)
            session.flush()
            session.add_all(
                JmaWarning(
                    telegram_id=row.id,
                    area_code=w.area_code,
                    area_name=w.area_name,
                    area_level=level,
                    kind_code=w.kind_code,
                    kind_name=w.kind_name,
                    status=w.status,
                    report_time=telegram.report_time,
                )
                for w in warnings
            )
            summary.added += 1
            stored_warnings += len(warnings)
            kinds = "・".join(f"{w.kind_name}（{w.status}）" for w in warnings)
            summary.diff.append(
                f"+ {telegram.title} {jst(telegram.report_time):%Y-%m-%d %H:%M} [{level} {warnings[0].area_name}] {kinds}"
            )
            latest = max(latest, telegram.report_time) if latest else telegram.report_time
        if summary.added:
            _mark_feed_fresh(session, now, latest, summary.added)
        session.flush()
    summary.figures["warnings"] = stored_warnings
    return summary


def _already_stored(session: Session, telegram: Telegram) -> bool:
    same_bytes = sa.select(JmaTelegram.id).where(
        JmaTelegram.content_sha256 == telegram.content_sha256
    )
    if session.execute(same_bytes).first():
        return True
    same_telegram = sa.select(JmaTelegram.id).where(
        JmaTelegram.info_kind == telegram.info_kind,
        JmaTelegram.office.is_(None)
        if telegram.office is None
        else JmaTelegram.office == telegram.office,
        JmaTelegram.report_time == telegram.report_time,
        JmaTelegram.info_type.is_(None)
        if telegram.info_type is None
        else JmaTelegram.info_type == telegram.info_type,
        JmaTelegram.serial.is_(None)
        if telegram.serial is None
        else JmaTelegram.serial == telegram.serial,
        JmaTelegram.title.is_(None)
        if telegram.title is None
        else JmaTelegram.title == telegram.title,
    )
    return session.execute(same_telegram).first() is not None


def _mark_feed_fresh(session: Session, now, latest, added: int) -> None:
    health = session.get(SourceHealth, JMA_SOURCE)
    if health is None:
        health = SourceHealth(source=JMA_SOURCE)
        session.add(health)
    health.last_success_at = now
    health.last_attempt_at = now
    health.last_error = None
    health.stale = False
    health.details = {
        "latest_report_time": latest.isoformat() if latest else None,
        "telegrams_added": added,
    }
