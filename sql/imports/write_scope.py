"""One transaction per import: committed, or rolled back for a dry run or on any error."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session


@contextmanager
def write_session(target: Engine | Session, dry_run: bool = False) -> Iterator[Session]:
    """A session whose work is committed at the end — or rolled back when ``dry_run``.

    Given a :class:`Session`, the work runs in a SAVEPOINT inside the caller's transaction
    (the caller commits); given an :class:`Engine`, in a transaction of its own.
    """
    if isinstance(target, Session):
        savepoint = target.begin_nested()
        try:
            yield target
        except BaseException:
            savepoint.rollback()
            raise
        if dry_run:
            savepoint.rollback()
        else:
            savepoint.commit()
        return
    with Session(target, expire_on_commit=False) as session:
        session.begin()
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        if dry_run:
            session.rollback()
        else:
            session.commit()
