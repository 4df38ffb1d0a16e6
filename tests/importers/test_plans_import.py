"""Individual evacuation plans from CSV: all or nothing, every problem named FILE:ROW:COLUMN,
a re-import changes nothing, the CLI exits 2 on bad input."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bosai.cli import main
from bosai.errors import InvalidInputError
from importers.evacuation_plans import parse_plans
from sql.imports.evacuation_plans import import_plans
from sql.models import EvacuationPlan
from sql.viewer import SYSTEM

HEADER = "利用者ID,避難先種別,避難先,避難先の補足,支援者1氏名,支援者1電話,支援者1続柄,移動手段,備考"


def register_people(engine, n=3):
    with engine.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT c.subject, c.id FROM citizens c JOIN support_register r "
                "ON r.citizen_id = c.id ORDER BY c.id LIMIT :n"
            ),
            {"n": n},
        ).all()


def shelter(engine, welfare=False):
    with engine.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT name, local_id FROM shelters WHERE is_welfare_shelter = :w ORDER BY id LIMIT 1"
            ),
            {"w": welfare},
        ).one()


def plans_count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(EvacuationPlan)).scalar_one()


def good_csv(engine) -> str:
    people = register_people(engine)
    plain = shelter(engine)
    welfare = shelter(engine, welfare=True)
    return "\n".join(
        [
            HEADER,
            f"{people[0].subject},避難所,{plain.name},,佐藤 一郎,0242-00-0001,近隣住民,車いす,",
            f"{people[1].subject},福祉避難所,{welfare.local_id},,鈴木 和子,,民生委員,福祉車両,夜間は長男",
            f"{people[2].subject},その他,,長男宅（城北町）,,,,自家用車,",
        ]
    )


def test_a_good_file_is_imported_and_a_reimport_changes_nothing(demo_engine):
    with demo_engine.begin() as conn:
        conn.execute(sa.delete(EvacuationPlan))
    text = good_csv(demo_engine)
    batch = parse_plans(text, "plans.csv")
    assert not batch.problems and len(batch.records) == 3
    first = import_plans(demo_engine, SYSTEM, batch.records, "plans.csv")
    assert (first.added, first.changed) == (3, 0)
    again = import_plans(demo_engine, SYSTEM, parse_plans(text, "plans.csv").records, "plans.csv")
    assert (again.added, again.changed, again.unchanged) == (0, 0, 3)
    assert plans_count(demo_engine) == 3


@pytest.mark.parametrize(
    ("row", "column", "words"),
    [
        ("{s},避難所,存在しない避難所,,,,,徒歩,", "避難先", "避難所一覧にありません"),
        ("{s},避難所,,,,,,徒歩,", "避難先", "避難先が必要"),
        ("{s},公民館,{shelter},,,,,徒歩,", "避難先種別", "使えません"),
        ("{s},避難所,{shelter},,,,,空路,", "移動手段", "使えません"),
        ("{s},福祉避難所,{shelter},,,,,徒歩,", "避難先", "福祉避難所ではありません"),
        ("no-such-subject,避難所,{shelter},,,,,徒歩,", "利用者ID", "市民がいません"),
        ("{s},避難所,{shelter},,,0242-1,,徒歩,", "支援者1氏名", "氏名が必要"),
        ("{s},その他,,,,,,徒歩,", "避難先の補足", "補足が必要"),
    ],
)
def test_a_bad_row_refuses_the_whole_file_naming_row_and_column(demo_engine, row, column, words):
    with demo_engine.begin() as conn:
        conn.execute(sa.delete(EvacuationPlan))
    people = register_people(demo_engine, 4)
    plain = shelter(demo_engine)
    text = "\n".join([good_csv(demo_engine), row.format(s=people[3].subject, shelter=plain.name)])
    batch = parse_plans(text, "plans.csv")
    with pytest.raises(InvalidInputError) as refused:
        import_plans(demo_engine, SYSTEM, batch.records, "plans.csv", problems=batch.problems)
    lines = refused.value.problems
    assert any(line.startswith(f"plans.csv:5:{column}:") and words in line for line in lines), lines
    assert plans_count(demo_engine) == 0


def test_the_cli_exits_2_on_bad_input_and_writes_nothing(demo_engine, tmp_path, capsys):
    url = demo_engine.url.render_as_string(hide_password=False)
    with demo_engine.begin() as conn:
        conn.execute(sa.delete(EvacuationPlan))
    bad = tmp_path / "bad.csv"
    bad.write_text(good_csv(demo_engine) + "\nnobody,避難所,x,,,,,徒歩,\n", encoding="utf-8")
    assert main(["--database-url", url, "import", "plans", str(bad)]) == 2
    assert "bad.csv:5:利用者ID:" in capsys.readouterr().err
    assert plans_count(demo_engine) == 0
    good = tmp_path / "good.csv"
    good.write_text(good_csv(demo_engine), encoding="utf-8-sig")
    assert main(["--database-url", url, "import", "plans", str(good)]) == 0
    assert plans_count(demo_engine) == 3
