"""``bosai staff add|list|set|deactivate``: staff accounts from the command line.

The admin page manages staff once someone can sign in as an administrator; the first
administrator of a new installation is added here. Changes are audited as the CLI
(``system:cli``), like every command.
"""

from __future__ import annotations

import click

from bosai.errors import BosaiError


def register(cli: click.Group) -> None:
    cli.add_command(staff)


@click.group()
def staff() -> None:
    """Staff accounts: who may sign in, in which role."""


def _engine(obj: dict):
    from sql.engine import get_engine

    return get_engine(obj["database_url"])


def _refused(exc: Exception) -> BosaiError:
    return BosaiError(str(exc))


@staff.command("add")
@click.argument("subject")
@click.option("--name", required=True, help="The staff member's name.")
@click.option(
    "--role", required=True, help="hq, rescue, shelter_staff, researcher, council, admin."
)
@click.option("--shelter", "shelters", multiple=True, type=int, help="Shelter id (shelter staff).")
@click.option("--team", default=None, help="Team, e.g. a rescue crew.")
@click.pass_obj
def staff_add(obj: dict, subject: str, name: str, role: str, shelters, team) -> None:
    """Register SUBJECT (the OIDC sub or e-mail at the identity provider) as staff."""
    from sql.actions import ActionRefused
    from sql.actions.staff import add_staff
    from sql.viewer import SYSTEM

    try:
        staff_id = add_staff(_engine(obj), SYSTEM, subject, name, role, shelters, team)
    except ActionRefused as exc:
        raise _refused(exc) from exc
    click.echo(f"staff {staff_id}: {subject} ({role})")


@staff.command("list")
@click.pass_obj
def staff_list_command(obj: dict) -> None:
    """Every staff account."""
    from sql.queries.staff import staff_list

    frame = staff_list(_engine(obj))
    for row in frame.itertuples(index=False):
        shelters = ",".join(map(str, row.shelter_ids)) or "-"
        state = "active" if row.active else "inactive"
        click.echo(
            f"{row.id}\t{row.subject}\t{row.name}\t{row.role}\t{shelters}\t{row.team or '-'}\t{state}"
        )


@staff.command("set")
@click.argument("staff_id", type=int)
@click.option("--name", default=None)
@click.option("--role", default=None)
@click.option("--shelter", "shelters", multiple=True, type=int)
@click.option("--team", default=None, help='"" clears the team.')
@click.option("--active/--inactive", default=None)
@click.pass_obj
def staff_set(obj: dict, staff_id: int, name, role, shelters, team, active) -> None:
    """Change a staff account (options not given stay as they are)."""
    from sql.actions import ActionRefused
    from sql.actions.staff import update_staff
    from sql.viewer import SYSTEM

    try:
        changes = update_staff(
            _engine(obj),
            SYSTEM,
            staff_id,
            name=name,
            role=role,
            shelter_ids=shelters or None,
            team=team,
            active=active,
        )
    except ActionRefused as exc:
        raise _refused(exc) from exc
    if not changes:
        click.echo(f"staff {staff_id}: nothing changed")
    for field, (before, after) in changes.items():
        click.echo(f"staff {staff_id}: {field}: {before} -> {after}")


@staff.command("deactivate")
@click.argument("staff_id", type=int)
@click.pass_obj
def staff_deactivate(obj: dict, staff_id: int) -> None:
    """The account can no longer sign in (kept for the audit trail)."""
    from sql.actions import ActionRefused
    from sql.actions.staff import deactivate_staff
    from sql.viewer import SYSTEM

    try:
        changes = deactivate_staff(_engine(obj), SYSTEM, staff_id)
    except ActionRefused as exc:
        raise _refused(exc) from exc
    click.echo(f"staff {staff_id}: " + ("deactivated" if changes else "already inactive"))
