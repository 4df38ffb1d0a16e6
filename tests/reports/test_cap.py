"""CAP 1.2 messages for evacuation decisions, validated against the OASIS CAP 1.2 schema
(tests/data/CAP-v1.2.xsd, see its NOTICE), and the Atom feed of messages in force (issue 17)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from lxml import etree

from reports.cap import ATOM_NS, CAP_NS, atom_feed, decision_message
from sql.actions.evacuation import issue, lift
from sql.actions.incidents import declare_incident, end_incident
from sql.models import EvacuationArea
from sql.viewer import Viewer

XSD = Path(__file__).parents[1] / "data" / "CAP-v1.2.xsd"
HQ = Viewer(role="hq", subject="hq-1")
NS = {"cap": CAP_NS, "atom": ATOM_NS}


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD)))


def valid(schema: etree.XMLSchema, data: bytes) -> etree._Element:
    doc = etree.fromstring(data)
    assert schema.validate(doc), schema.error_log
    return doc


def ids(engine, *codes):
    with engine.connect() as conn:
        found = dict(conn.execute(sa.select(EvacuationArea.code, EvacuationArea.id)).all())
    return [found[c] for c in codes]


def texts(doc, path: str) -> list[str]:
    return [e.text for e in doc.xpath(path, namespaces=NS)]


def test_alert_update_cancel_reference_each_other_and_validate(evacuation_engine, schema):
    e = evacuation_engine
    yu1, ls1 = ids(e, "YU-1", "LS-1")
    issue(e, HQ, 1, [yu1, ls1], 3, "湯川橋 避難判断水位 2.45 m", idempotency_key="d1")
    issue(e, HQ, 1, [yu1], 4, "氾濫危険水位", idempotency_key="d2")
    lift(e, HQ, 1, [yu1, ls1], "水位が下がりました", idempotency_key="d3")
    alert = valid(schema, decision_message(e, "d1"))
    update = valid(schema, decision_message(e, "d2"))
    cancel = valid(schema, decision_message(e, "d3"))
    assert texts(alert, "cap:status") == ["Actual"]
    assert texts(alert, "cap:msgType") == ["Alert"] and texts(alert, "cap:references") == []
    assert texts(update, "cap:msgType") == ["Update"]
    assert texts(cancel, "cap:msgType") == ["Cancel"]
    (first_id,) = texts(alert, "cap:identifier")
    (second_id,) = texts(update, "cap:identifier")
    (sender,) = texts(alert, "cap:sender")
    (sent,) = texts(alert, "cap:sent")
    assert texts(update, "cap:references") == [f"{sender},{first_id},{sent}"]
    # the lift cancels what was in force: level 4 in YU-1 (d2), level 3 in LS-1 (d1)
    (refs,) = texts(cancel, "cap:references")
    assert {r.split(",")[1] for r in refs.split(" ")} == {first_id, second_id}
    assert sent.endswith("+09:00")
    # one Japanese and one English block; areas with closed lat,lon polygons
    assert texts(alert, "cap:info/cap:language") == ["ja-JP", "en-US"]
    (ja_headline,) = texts(alert, "cap:info[cap:language='ja-JP']/cap:headline")
    assert "警戒レベル3 高齢者等避難" in ja_headline and "会津若松市" in ja_headline
    assert texts(alert, "cap:info/cap:responseType") == ["Evacuate", "Evacuate"]
    assert texts(cancel, "cap:info/cap:responseType") == ["AllClear", "AllClear"]
    areas = alert.xpath("cap:info[cap:language='ja-JP']/cap:area", namespaces=NS)
    assert [a.findtext(f"{{{CAP_NS}}}areaDesc") for a in areas] == [
        "謹教地区（湯川沿い）",
        "東山 土砂災害警戒区域",
    ]
    polygons = areas[1].findall(f"{{{CAP_NS}}}polygon")
    assert len(polygons) == 2  # the multipolygon's two parts
    pairs = polygons[0].text.split(" ")
    assert pairs[0] == pairs[-1] and len(pairs) >= 4
    lat, lon = map(float, pairs[0].split(","))
    assert 37 < lat < 38 and 139 < lon < 141


def test_a_drill_is_an_exercise(evacuation_engine, schema):
    e = evacuation_engine
    end_incident(e, HQ, 1)
    drill = declare_incident(e, HQ, "drill", "水害訓練")
    (ag1,) = ids(e, "AG-1")
    issue(e, HQ, drill, [ag1], 5, "訓練: 氾濫発生", idempotency_key="drill")
    doc = valid(schema, decision_message(e, "drill"))
    assert texts(doc, "cap:status") == ["Exercise"]
    assert "訓練" in texts(doc, "cap:note")[0]
    assert texts(doc, "cap:info/cap:responseType") == ["Shelter", "Shelter"]
    assert texts(doc, "cap:info/cap:severity") == ["Extreme", "Extreme"]


def test_outside_text_cannot_break_the_document(evacuation_engine, schema):
    (yu2,) = ids(evacuation_engine, "YU-2")
    reason = '</description><script>alert(1)</script> & "quotes" \x07'
    issue(evacuation_engine, HQ, 1, [yu2], 4, reason, idempotency_key="hostile")
    doc = valid(schema, decision_message(evacuation_engine, "hostile"))
    assert texts(doc, "cap:info/cap:description")[0].startswith("</description><script>")


def test_the_feed_lists_the_messages_in_force(evacuation_engine):
    e = evacuation_engine
    yu1, yu2, ag1 = ids(e, "YU-1", "YU-2", "AG-1")
    issue(e, HQ, 1, [yu1, yu2], 3, "r", idempotency_key="f1")
    issue(e, HQ, 1, [yu1], 4, "r", idempotency_key="f2")
    issue(e, HQ, 1, [ag1], 3, "r", idempotency_key="f3")
    lift(e, HQ, 1, [ag1], "r", idempotency_key="f4")
    feed = etree.fromstring(atom_feed(e, 1, "https://bosai.example/cap"))
    assert feed.tag == f"{{{ATOM_NS}}}feed"
    titles = texts(feed, "atom:entry/atom:title")
    # newest first: the lift of AG-1, level 4 in YU-1, level 3 still in force in YU-2
    assert len(titles) == 3
    assert "解除" in titles[0] and "レベル4" in titles[1] and "レベル3" in titles[2]
    links = feed.xpath("atom:entry/atom:link/@href", namespaces=NS)
    assert all(h.startswith("https://bosai.example/cap/") and h.endswith(".xml") for h in links)
    for entry in feed.xpath("atom:entry", namespaces=NS):
        for name in ("id", "title", "updated"):
            assert entry.find(f"{{{ATOM_NS}}}{name}") is not None
    for name in ("id", "title", "updated", "author"):
        assert feed.find(f"{{{ATOM_NS}}}{name}") is not None


def test_the_schema_does_refuse_a_broken_message(evacuation_engine, schema):
    (yu1,) = ids(evacuation_engine, "YU-1")
    issue(evacuation_engine, HQ, 1, [yu1], 3, "r", idempotency_key="broken")
    doc = etree.fromstring(decision_message(evacuation_engine, "broken"))
    doc.find(f"{{{CAP_NS}}}sent").text = "2026-07-01T12:00:00Z"  # CAP wants an offset
    assert not schema.validate(doc)


def test_the_loudspeaker_announcement_reads_the_standard_script_twice(evacuation_engine, tmp_path):
    from reports.announcement import announcement_pdf
    from tests.reports.test_pdf import pdf_text_and_fonts

    e = evacuation_engine
    yu1, yu2 = ids(e, "YU-1", "YU-2")
    issue(e, HQ, 1, [yu1, yu2], 4, "氾濫危険水位", idempotency_key="radio")
    text, fonts = pdf_text_and_fonts(announcement_pdf(e, "radio"), tmp_path)
    flat = "".join(text.split())
    script = "謹教地区（湯川沿い）、行仁地区（湯川沿い）に、警戒レベル4、避難指示を発令しました。"
    assert flat.count("こちらは、会津若松市です。") == 2
    assert flat.count(script) == 2
    assert "これは訓練です" not in flat
    assert fonts and all("Noto-Sans-CJK-JP" in f for f in fonts)


def test_the_feed_directory_serves_the_feed_and_every_message_it_links(
    evacuation_engine, schema, tmp_path
):
    """`bosai evacuation feed --dir` writes feed.atom and the CAP files it links, each valid;
    written again after a lift, the feed lists the cancel and the files of earlier messages
    stay (the cancel refers to them)."""
    from bosai.cli import main

    e = evacuation_engine
    url = e.url.render_as_string(hide_password=False)
    (yu1,) = ids(e, "YU-1")
    issue(e, HQ, 1, [yu1], 3, "避難判断水位", idempotency_key="f1")
    base = "https://bosai.example.jp/app/static/evacuation"
    out = tmp_path / "static" / "evacuation"
    args = ["--database-url", url, "evacuation", "feed", "--incident", "1", "--base-url", base]

    def linked() -> list[str]:
        feed = etree.fromstring((out / "feed.atom").read_bytes())
        hrefs = feed.xpath("atom:entry/atom:link/@href", namespaces=NS)
        assert all(h.startswith(base + "/") for h in hrefs)
        return [h.rsplit("/", 1)[1] for h in hrefs]

    assert main([*args, "--dir", str(out)]) == 0
    (first,) = linked()
    assert texts(valid(schema, (out / first).read_bytes()), "cap:msgType") == ["Alert"]
    lift(e, HQ, 1, [yu1], "水位が下がりました", idempotency_key="f2")
    assert main([*args, "--dir", str(out)]) == 0
    (cancel,) = linked()
    assert cancel != first and (out / first).exists()
    message = valid(schema, (out / cancel).read_bytes())
    assert texts(message, "cap:msgType") == ["Cancel"]
    assert not list(out.glob(".*.tmp"))
