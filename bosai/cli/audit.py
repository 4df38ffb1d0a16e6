"""``bosai audit verify`` and ``bosai audit citizen``: the tamper-evident audit log.

``verify`` walks the hash chain and names the first bad row (exit 1 on tampering): an edited
row no longer matches its hash; a deleted, inserted or reordered row no longer links to the
row before it. Deleting the newest rows leaves a shorter chain that still links, so the chain
is checked against the newest checkpoint (``bosai audit checkpoint``; also written by every
``bosai backup`` and every ten minutes by ``bosai cityos sync``): the head recorded with an HMAC under a key kept
outside the database (``$BOSAI_AUDIT_KEY`` or ``$BOSAI_AUDIT_KEY_FILE``). Rows missing since
are named. ``--expect-head`` still checks a head hash kept by hand.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from bosai.errors import BosaiError

from .options import LANG_OPTION, out_file_option


def register(cli: click.Group) -> None:
    cli.add_command(audit_group)


@click.group("audit")
def audit_group() -> None:
    """The audit log: verify the chain, a citizen's access report."""


class TamperedError(BosaiError):
    exit_code = 1


@audit_group.command("verify")
@click.option(
    "--expect-head",
    "expect_head",
    default=None,
    help="A head hash printed by an earlier verify: it must still be in the chain.",
)
@click.pass_obj
def audit_verify(obj: dict, expect_head: str | None) -> None:
    """Check every row's hash and link; name the first bad row (exit 1 on tampering)."""
    from sql import audit
    from sql.engine import get_engine

    engine = get_engine(obj["database_url"])
    key = audit.checkpoint_key(create=False)
    report = audit.verify(engine, key)
    if not report.ok and report.missing:
        raise TamperedError(f"audit log tampered: {report.reason}")
    if not report.ok and report.first_bad_id is None:
        raise TamperedError(f"audit log tampered: {report.reason}")
    if not report.ok:
        raise TamperedError(
            f"audit log tampered: first bad row {report.first_bad_id} "
            f"(row {report.rows} of the chain): {report.reason}"
        )
    head = audit.head_hash(engine)
    if expect_head and not audit.contains_hash(engine, expect_head):
        raise TamperedError(
            f"audit log tampered: the expected head {expect_head[:16]}… is no longer in the "
            "chain (rows at the end were deleted)"
        )
    if key is None:
        anchor = "; no checkpoint key, so rows cut off the end would not be found"
    elif report.checkpoint_id is None:
        anchor = "; no checkpoint yet (bosai audit checkpoint)"
    else:
        anchor = (
            f"; matches checkpoint {report.checkpoint_id} of "
            f"{report.checkpoint_at.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"
        )
    click.echo(f"audit log intact: {report.rows:,} rows, head {head}{anchor}")


@audit_group.command("checkpoint")
@click.pass_obj
def audit_checkpoint(obj: dict) -> None:
    """Record the chain's head with an HMAC under the key outside the database (``bosai
    backup`` writes one too, ``bosai cityos sync`` every ten minutes)."""
    from sql import audit
    from sql.engine import get_engine

    try:
        point = audit.write_checkpoint(get_engine(obj["database_url"]), "schedule")
    except audit.CheckpointKeyError as exc:
        raise BosaiError(str(exc)) from exc
    click.echo(
        f"audit checkpoint {point['id']}: {point['row_count']:,} rows up to id "
        f"{point['last_id']}, head {point['head_hash']}"
    )


@audit_group.command("citizen")
@click.argument("subject")
@out_file_option("FILE.pdf or FILE.csv")
@LANG_OPTION
@click.pass_obj
def audit_citizen(obj: dict, subject: str, out: Path, lang: str) -> None:
    """The access report of the citizen SUBJECT (city-OS subject): who saw which of their
    data, when, for what purpose, in which incident."""
    from reports import citizen_access
    from sql.engine import get_engine

    if out.suffix.lower() not in citizen_access.FORMATS:
        raise BosaiError(f"{out}: write the report as .pdf or .csv")
    report = citizen_access.build(get_engine(obj["database_url"]), subject)
    citizen_access.write(report, out, lang)
    state = "" if report.chain.ok else " (WARNING: the audit chain does not verify)"
    click.echo(f"{out}: {len(report.rows):,} records for {subject}{state}")
