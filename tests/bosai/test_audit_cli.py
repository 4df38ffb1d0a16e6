"""``bosai audit verify`` finds any edited, deleted, inserted or reordered row (exit 1, the first
bad row named) and ``bosai audit citizen`` writes the citizen's access report — on SQLite and
PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess

import pytest
import sqlalchemy as sa

from bosai.cli import main
from sql import audit
from sql.models import AuditLog, Citizen, Incident, Staff
from sql.viewer import Viewer
from tests.conftest import drop_audit_triggers

NOW = dt.datetime(2026, 7, 10, 3, 0, tzinfo=dt.UTC)


def fill(engine, n: int = 5) -> None:
    for i in range(n):
        audit.record(
            engine,
            Viewer(role="hq", subject="staff-1"),
            "read",
            target="policy.rescue_requests",
            citizen_ids=[i + 1],
        )


def verify(db_url: str, capsys, *extra: str) -> tuple[int, str, str]:
    code = main(["--database-url", db_url, "audit", "verify", *extra])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_an_intact_chain_verifies_and_prints_its_head(engine, db_url, capsys):
    fill(engine)
    code, out, err = verify(db_url, capsys)
    assert code == 0 and err == ""
    assert f"5 rows, head {audit.head_hash(engine)}" in out


TAMPERING = {
    "edited": (["UPDATE audit_log SET actor = 'someone-else' WHERE id = 3"], 3),
    "edited details": (["UPDATE audit_log SET citizen_ids = '[99]' WHERE id = 4"], 4),
    "deleted": (["DELETE FROM audit_log WHERE id = 2"], 3),
    "reordered": (
        [
            "UPDATE audit_log SET id = 100 WHERE id = 2",
            "UPDATE audit_log SET id = 2 WHERE id = 3",
            "UPDATE audit_log SET id = 3 WHERE id = 100",
        ],
        2,
    ),
}


@pytest.mark.parametrize("kind", sorted(TAMPERING))
def test_tampering_is_found_at_the_first_bad_row(engine, db_url, capsys, kind):
    fill(engine)
    statements, bad = TAMPERING[kind]
    with engine.begin() as conn:
        drop_audit_triggers(conn)
        for statement in statements:
            conn.exec_driver_sql(statement)
    code, out, err = verify(db_url, capsys)
    assert code == 1 and out == ""
    assert f"first bad row {bad} " in err, err


def test_an_inserted_row_is_found_even_with_a_well_formed_hash(engine, db_url, capsys):
    """A forger who links the inserted row to the row before it and hashes it correctly still
    breaks the link of the row after it (which the forger cannot rehash without rewriting the
    rest of the chain)."""
    fill(engine, 3)
    with engine.begin() as conn:
        drop_audit_triggers(conn)
        conn.execute(sa.update(AuditLog).where(AuditLog.id == 3).values(id=13))
        conn.execute(sa.update(AuditLog).where(AuditLog.id == 2).values(id=12))
        first = conn.execute(sa.select(AuditLog).where(AuditLog.id == 1)).one()._asdict()
        fields = dict(first, actor="intruder", citizen_ids=[7])
        forged = audit.row_digest(first["row_hash"], fields)
        conn.execute(
            sa.insert(AuditLog).values(
                **dict(fields, id=5, prev_hash=first["row_hash"], row_hash=forged)
            )
        )
    code, _, err = verify(db_url, capsys)
    assert code == 1 and "first bad row 12 " in err, err


def test_cutting_off_the_newest_rows_is_found_against_a_kept_head(engine, db_url, capsys):
    fill(engine)
    head = audit.head_hash(engine)
    assert verify(db_url, capsys, "--expect-head", head)[0] == 0
    with engine.begin() as conn:
        drop_audit_triggers(conn)
        conn.exec_driver_sql("DELETE FROM audit_log WHERE id >= 4")
    code, _, err = verify(db_url, capsys, "--expect-head", head)
    assert code == 1 and "no longer in the chain" in err


def test_cutting_off_the_newest_rows_is_found_against_the_last_checkpoint(engine, db_url, capsys):
    """Issue 13, finding 10: before the fix this passed unless someone had kept the head by
    hand. ``bosai audit checkpoint`` (also run by every backup) records the head with an HMAC
    under the key outside the database; ``verify`` then names the missing rows."""
    fill(engine)
    assert main(["--database-url", db_url, "audit", "checkpoint"]) == 0
    assert "5 rows up to id 5" in capsys.readouterr().out
    code, out, _ = verify(db_url, capsys)
    assert code == 0 and "matches checkpoint 1 of" in out
    with engine.begin() as conn:
        drop_audit_triggers(conn)
        conn.exec_driver_sql("DELETE FROM audit_log WHERE id >= 4")
    code, out, err = verify(db_url, capsys)
    assert code == 1 and out == ""
    assert "2 rows missing" in err and "rows 4–5 were deleted" in err, err


def test_every_backup_writes_a_checkpoint(engine, db_url, capsys, tmp_path):
    """Issue 13, finding 10: the head is anchored on every ``bosai backup`` (and so is in the
    backup too)."""
    fill(engine, 3)
    assert main(["--database-url", db_url, "backup", "--out", str(tmp_path / "b.tar")]) == 0
    assert "audit checkpoint 1 at row 3" in capsys.readouterr().out
    assert audit.verify(engine).checkpoint_id == 1


# ------------------------------------------------------------------ the citizen's report


def citizen_with_history(engine) -> str:
    with engine.begin() as conn:
        cid = conn.execute(
            sa.insert(Citizen)
            .values(subject="cos-0042", name="会津 花子", created_at=NOW, updated_at=NOW)
            .returning(Citizen.id)
        ).scalar_one()
        other = conn.execute(
            sa.insert(Citizen)
            .values(subject="cos-0043", created_at=NOW, updated_at=NOW)
            .returning(Citizen.id)
        ).scalar_one()
        incident = conn.execute(
            sa.insert(Incident)
            .values(kind="real", name_ja="令和8年7月豪雨", declared_at=NOW, emergency_mode=True)
            .returning(Incident.id)
        ).scalar_one()
        for subject, name, role in (
            ("rescue-7", '=HYPERLINK("x")', "rescue"),
            ("hq-1", "本部 一郎", "hq"),
        ):
            conn.execute(
                sa.insert(Staff).values(
                    subject=subject,
                    name=name,
                    role=role,
                    active=True,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
    rescue = Viewer(role="rescue", subject="rescue-7", incident_id=incident)
    hq = Viewer(role="hq", subject="hq-1")
    audit.record(
        engine,
        rescue,
        "read",
        target="policy.rescue_requests",
        citizen_ids=[cid, other],
        details={"positions": True},
        at=NOW,
    )
    audit.record(engine, hq, "read", target="policy.register_people", citizen_ids=[other], at=NOW)
    audit.record(
        engine,
        hq,
        "read",
        target="policy.register_download",
        citizen_ids=[cid],
        at=NOW + dt.timedelta(hours=1),
    )
    return "cos-0042"


def test_the_citizens_report_as_csv_lists_exactly_their_rows(engine, db_url, tmp_path, capsys):
    subject = citizen_with_history(engine)
    out = tmp_path / "report.csv"
    assert main(["--database-url", db_url, "audit", "citizen", subject, "--out", str(out)]) == 0
    assert "2 records for cos-0042" in capsys.readouterr().out
    text = out.read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["日時"] for r in rows] == ["令和8年7月10日 12:00", "令和8年7月10日 13:00"]
    assert rows[0]["誰が（役割）"] == '\'=HYPERLINK("x")（消防・救助）', "formula escaped"
    assert rows[0]["どのデータ"] == "救助要請（位置・氏名・連絡先）"
    assert rows[0]["目的"] == "救助" and rows[0]["事案"] == "令和8年7月豪雨"
    assert rows[1]["利用の種類"] == "ファイルで出力" and rows[1]["事案"] == "（平時）"
    # Producing the report is recorded, naming the citizen; the chain still verifies.
    with engine.connect() as conn:
        last = conn.execute(sa.select(AuditLog).order_by(AuditLog.id.desc()).limit(1)).one()
    assert last.target == "report.citizen_access" and last.citizen_ids == [1]
    assert audit.verify(engine).ok


def test_the_citizens_report_as_pdf_is_japanese_with_embedded_cjk_fonts(engine, db_url, tmp_path):
    subject = citizen_with_history(engine)
    out = tmp_path / "report.pdf"
    assert main(["--database-url", db_url, "audit", "citizen", subject, "--out", str(out)]) == 0
    text = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "個人データ利用状況のお知らせ" in text
    assert "cos-0042" in text and "令和8年7月豪雨" in text and "救助要請" in text
    assert "1 / 1 ページ" in text, "page numbers from the @page margin box"
    assert "改ざんは見つかりませんでした" in text
    fonts = subprocess.run(
        ["pdffonts", str(out)], capture_output=True, text=True, check=True
    ).stdout
    names = [line.split()[0] for line in fonts.splitlines()[2:]]
    assert names and all("Noto-Sans-CJK-JP" in n for n in names), fonts
    assert all(" yes " in line for line in fonts.splitlines()[2:]), "embedded"


def test_the_report_warns_when_the_chain_is_broken(engine, db_url, tmp_path):
    subject = citizen_with_history(engine)
    with engine.begin() as conn:
        drop_audit_triggers(conn)
        conn.exec_driver_sql("UPDATE audit_log SET purpose = 'curiosity' WHERE id = 2")
    out = tmp_path / "report.csv"
    assert main(["--database-url", db_url, "audit", "citizen", subject, "--out", str(out)]) == 0
    from reports import citizen_access

    report = citizen_access.build(
        __import__("sql.engine", fromlist=["x"]).make_engine(db_url), subject
    )
    assert not report.chain.ok and "改ざんの疑い" in citizen_access.to_html(report)


def test_unknown_citizen_and_unknown_format_are_clear_errors(engine, db_url, tmp_path, capsys):
    assert (
        main(
            [
                "--database-url",
                db_url,
                "audit",
                "citizen",
                "nobody",
                "--out",
                str(tmp_path / "r.csv"),
            ]
        )
        == 1
    )
    assert "no citizen with subject 'nobody'" in capsys.readouterr().err
    assert (
        main(
            [
                "--database-url",
                db_url,
                "audit",
                "citizen",
                "nobody",
                "--out",
                str(tmp_path / "r.xlsx"),
            ]
        )
        == 1
    )
    assert ".pdf or .csv" in capsys.readouterr().err
    assert not list(tmp_path.glob("r.*"))
