"""要支援者 — the register page through the real entry point, against independent SQL.

Each test that writes (audit rows, an ended incident, a formula-looking name) works on its own
copy of the demo database, so the counts of one test never depend on another.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pandas as pd
import pytest

from tests.conftest import sql
from tests.dashboard.conftest import open_page, staff_claims

PAGE = "views/register.py"
SAFE = ("safe_at_home", "at_shelter", "elsewhere_safe")


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def page_text(at) -> str:
    parts = [e.value for kind in ("markdown", "caption", "info", "warning") for e in at.get(kind)]
    parts += [m.label + m.value for m in at.metric]
    for frame in at.dataframe:
        parts.append(frame.value.to_csv())
    return "\n".join(str(p) for p in parts)


def register_truth(url: str) -> dict:
    rows = sql(
        url,
        "SELECT r.citizen_id, r.normal_time_consent, s.state, c.name FROM support_register r "
        "JOIN citizens c ON c.id = r.citizen_id "
        "LEFT JOIN (SELECT citizen_id, state, ROW_NUMBER() OVER (PARTITION BY citizen_id "
        "  ORDER BY reported_at DESC, id DESC) rn FROM status_reports WHERE incident_id = 1) s "
        "ON s.citizen_id = r.citizen_id AND s.rn = 1",
    )
    return {
        "all": {r[0] for r in rows},
        "consented": {r[0] for r in rows if r[1]},
        "unconfirmed": {r[0] for r in rows if r[2] not in SAFE},
        "names": {r[0]: r[3] for r in rows},
        "state": {r[0]: r[2] for r in rows},
    }


def id_list(value) -> list[int]:
    """An audit row's citizen ids (a JSON list; some drivers return it as text)."""
    return value if isinstance(value, list) else json.loads(value)


def audit_rows(url: str, target: str):
    return sql(
        url,
        "SELECT actor, role, citizen_ids, details FROM audit_log WHERE target = :t ORDER BY id",
        t=target,
    )


def test_hq_in_an_emergency_sees_every_entry_unconfirmed_first_and_the_view_is_audited(
    app, demo_copy
):
    truth = register_truth(demo_copy)
    at = open_page(app, demo_copy, PAGE)
    assert at.title[0].value == "要支援者"
    shown = metrics(at)
    assert shown["名簿登録者"] == f"{len(truth['all']):,}"
    assert shown["無事が未確認"] == f"{len(truth['unconfirmed']):,}"
    assert shown["表示対象"] == f"{len(truth['all']):,}"
    assert any("第49条の11第3項" in w.value for w in at.warning)
    table = at.dataframe[0].value
    assert len(table) == len(truth["all"]) > len(truth["consented"])  # consent not required
    assert set(table["氏名"]) == {truth["names"][i] for i in truth["all"]}
    # Unconfirmed first: every row before the first confirmed one is unconfirmed.
    confirmed_labels = {"自宅で無事", "避難所", "自宅外で無事"}
    flags = [s in confirmed_labels for s in table["安否"]]
    assert flags == sorted(flags)
    assert sum(not f for f in flags) == len(truth["unconfirmed"])
    # Never contacted first among the unconfirmed, then the longest since the last contact.
    waits = table.loc[[not f for f in flags], "最終連絡からの経過（分）"].tolist()
    assert "None" not in waits and not any(pd.isna(w) for w in waits)
    missing = [w == "連絡なし（応答なし）" for w in waits]
    assert missing == sorted(missing, reverse=True)
    rest = [int(w.replace(",", "")) for w in waits if w != "連絡なし（応答なし）"]
    assert rest == sorted(rest, reverse=True)
    rows = audit_rows(demo_copy, "policy.register_people")
    assert len(rows) == 1 and rows[0][1] == "hq"
    assert set(id_list(rows[0][2])) == truth["all"]


def test_normal_mode_shows_only_consented_entries_with_the_legal_basis(app, demo_copy):
    sql(demo_copy, "UPDATE incidents SET ended_at = :t", t=dt.datetime(2026, 7, 10, tzinfo=dt.UTC))
    truth = register_truth(demo_copy)
    at = open_page(app, demo_copy, PAGE)
    table = at.dataframe[0].value
    assert len(table) == len(truth["consented"]) < len(truth["all"])
    assert set(table["氏名"]) == {truth["names"][i] for i in truth["consented"]}
    assert set(table["平常時の提供に同意"]) == {"はい"}
    basis = " ".join(i.value for i in at.info)
    assert "第49条の11第2項" in basis
    assert f"名簿 {len(truth['all']):,} 人中 {len(truth['consented']):,} 人" in basis
    assert not any("第3項" in w.value for w in at.warning)


@pytest.mark.parametrize("role", ["shelter_staff", "admin"])
def test_other_operational_roles_get_counts_only(app, demo_copy, role):
    truth = register_truth(demo_copy)
    at = open_page(app, demo_copy, PAGE, role=role)
    shown = metrics(at)
    assert shown == {
        "名簿登録者": f"{len(truth['all']):,}",
        "無事が未確認": f"{len(truth['unconfirmed']):,}",
    }
    assert not at.dataframe and not at.download_button
    text = page_text(at)
    assert not any(name in text for name in truth["names"].values())
    assert audit_rows(demo_copy, "policy.register_people") == []


def test_a_researcher_cannot_open_the_register(app, demo_copy):
    at = app(demo_copy, demo_role="researcher")
    at.run()
    with pytest.raises(ValueError):
        at.switch_page(PAGE)


def test_filters_by_district_and_status(app, demo_copy):
    truth = register_truth(demo_copy)
    district, never = sql(
        demo_copy,
        "SELECT c.district, COUNT(*) FROM support_register r JOIN citizens c ON c.id = r.citizen_id "
        "WHERE r.citizen_id NOT IN (SELECT citizen_id FROM status_reports WHERE incident_id = 1) "
        "GROUP BY c.district ORDER BY COUNT(*) DESC, c.district LIMIT 1",
    )[0]
    at = open_page(app, demo_copy, PAGE)
    at.multiselect(key="register_district").set_value([district]).run()
    in_district = sql(
        demo_copy,
        "SELECT COUNT(*) FROM support_register r JOIN citizens c ON c.id = r.citizen_id "
        "WHERE c.district = :d",
        d=district,
    )[0][0]
    assert len(at.dataframe[0].value) == in_district
    assert set(at.dataframe[0].value["地区"]) == {district}
    at.multiselect(key="register_status").set_value(["no_report"]).run()
    table = at.dataframe[0].value
    assert len(table) == never and set(table["安否"]) == {"応答なし"}
    assert sum(s is None for s in truth["state"].values()) >= never


def test_csv_download_is_spreadsheet_safe_and_audited(app, demo_copy, media_files):
    first = min(register_truth(demo_copy)["all"])
    sql(
        demo_copy,
        "UPDATE citizens SET name = :n WHERE id = :i",
        n='=HYPERLINK("http://example.invalid","x")',
        i=first,
    )
    sql(
        demo_copy,
        "UPDATE support_register SET supporter_phone = '+81-90-0000-0000' WHERE citizen_id = :i",
        i=first,
    )
    at = open_page(app, demo_copy, PAGE)
    shown = at.dataframe[0].value
    button = at.download_button[0]
    assert audit_rows(demo_copy, "policy.register_download") == []  # nothing before a request
    # What the browser's request runs (outside the script, like the server's download thread).
    url = media_files[-1].execute_deferred(button.proto.deferred_file_id)
    content = media_files[-1]._storage.get_file(url.rsplit("/", 1)[1]).content
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    assert len(rows) == len(shown)
    assert list(rows[0]) == list(shown.columns)
    hostile = next(r for r in rows if "HYPERLINK" in r["氏名"])
    assert hostile["氏名"] == '\'=HYPERLINK("http://example.invalid","x")'
    assert hostile["支援者の電話"] == "'+81-90-0000-0000"
    assert all(not r["氏名"].startswith(("=", "+", "-", "@")) for r in rows)
    audited = audit_rows(demo_copy, "policy.register_download")
    assert len(audited) == 1
    actor, role, ids, details = audited[0]
    ids = id_list(ids)
    assert (actor, role) == ("demo-hq", "hq") and len(ids) == len(rows)
    # A second download of the same rows is a second provision: audited again.
    media_files[-1].execute_deferred(button.proto.deferred_file_id)
    assert len(audit_rows(demo_copy, "policy.register_download")) == 2


def test_english_labels(app, demo_copy):
    at = open_page(app, demo_copy, PAGE, lang="en")
    assert at.title[0].value == "Evacuation-support register"
    assert "On the register" in metrics(at)
    columns = list(at.dataframe[0].value.columns)
    assert columns[:3] == ["Status", "Minutes since last contact", "Last contact"]
    assert "Supporter" in columns and "Household" in columns
    assert any("Art. 49-11(3)" in w.value for w in at.warning)


def test_an_empty_city_shows_zeroes_not_errors(app, empty_city):
    at = open_page(app, empty_city, PAGE, user=staff_claims("hq"))
    assert metrics(at) == {"名簿登録者": "0", "無事が未確認": "0", "表示対象": "0"}
    assert at.download_button[0].proto.disabled
