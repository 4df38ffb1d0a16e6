"""The access matrix: every page of ``dashboard.registry.PAGES`` × every role × normal and
emergency mode × consent given and withdrawn × every run path, through the real entry point
signed in with ``at.user``, asserting exactly which kinds of personal data appear on the page.

Run paths: the full page run; the live fragment's refresh (``run_every``: only the fragment
runs, the page script and the shell do not) — it must show exactly what the full run may; and,
once the viewer's account is deactivated, every path — a refresh, every button and form
submit of the page (their callbacks), a full run — shows nothing personal and writes nothing
(``dashboard.gate``).

A page's output is everything it sends: text of every element (protobuf text of each element,
so labels, options and help texts count), every table cell, every map layer and chart spec.
Personal data is recognised by its values in the database — names, kana, phone numbers,
addresses, register supporters, exact positions (homes, location fixes, rescue requests) —
so a page cannot show them under another column name without the matrix noticing.

"Consent withdrawn" is every citizen withdrawing ``basic_info``, ``location`` and
``support_register`` for the city in the consent ledger (the next query must honour it). The
register's names still show to ``hq``/``rescue`` in an emergency (災害対策基本法 第49条の11第3項)
and rescue requesters' positions to ``rescue`` (the request itself carries them).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Iterator

import numpy as np
import pytest
import shapely
import sqlalchemy as sa
from google.protobuf import text_format

from compositions.hq_map_state import ZONE_TOLERANCE
from dashboard import registry
from sql import policy
from sql.consent import record_consent
from sql.engine import make_engine
from tests.conftest import sqlite_backup
from tests.dashboard.conftest import has_fragments, refresh_fragments

pytestmark = pytest.mark.slow

MODES = ("normal", "emergency")
CONSENTS = ("given", "withdrawn")
#: Citizens' names (and kana), phone numbers and household addresses — for people on the
#: evacuation-support register apart, since the law treats their entries differently.
TEXT_FIELDS = ("name", "register_name", "phone", "address", "register_address", "supporter")
#: Exact positions (a rescue request made from home counts as the rescue position, the home of
#: a register person's household as the register home, a fix at home as the home).
POSITION_FIELDS = ("rescue_position", "register_home", "home_position", "live_position")
FIELDS = TEXT_FIELDS + POSITION_FIELDS
WITHDRAWN_ITEMS = ("basic_info", "location", "support_register")

# ------------------------------------------------------------------ what each page may show
#: (page url_path, role) → mode → consent → the personal fields that appear. Pages and roles
#: not listed show none. Roles that may not open a page never reach it (checked separately).
N, P = frozenset(), frozenset
EXPECTED: dict[tuple[str, str], dict[str, dict[str, frozenset]]] = {}


def expect(pages, roles, normal_given, normal_withdrawn, emergency_given, emergency_withdrawn):
    for page in pages:
        for role in roles:
            EXPECTED[(page, role)] = {
                "normal": {"given": P(normal_given), "withdrawn": P(normal_withdrawn)},
                "emergency": {"given": P(emergency_given), "withdrawn": P(emergency_withdrawn)},
            }


# From the rules of sql/policy.py. The register's entries carry name, address and supporter:
# in normal times only consented entries (第49条の11第2項, a ledger withdrawal included), in an
# emergency every entry (第3項). Household addresses (安否) only in an emergency, and only where
# a member shares basic information or is on the register. Exact positions: rescue always sees
# rescue requests; hq in an emergency only; both see register homes in an emergency.
REGISTER = {"register_name", "register_address", "supporter"}
expect(["register"], ["hq", "rescue"], REGISTER, N, REGISTER, REGISTER)
expect(["safety"], ["hq", "rescue"], N, N, {"address", "register_address"}, {"register_address"})
EMERGENCY_MAP = {"rescue_position", "register_home"}
expect(["hq-map", "replay"], ["hq"], N, N, EMERGENCY_MAP, EMERGENCY_MAP)
expect(
    ["hq-map", "replay"],
    ["rescue"],
    {"rescue_position"},
    {"rescue_position"},
    EMERGENCY_MAP,
    EMERGENCY_MAP,
)

# The safety loop (issue 18; rules in sql/policy.py's safety-loop block). Reception: the people
# checked in at the desk's shelter, named where they share basic information (headquarters run
# reception only in an emergency). The demo's desks have no register person checked in, so a
# withdrawal hides every name there. ("supporter" here is a checked-in citizen whose synthetic
# name is also a register supporter's: the matrix recognises values, and names repeat.)
SEEN_AT_RECEPTION = {"name", "supporter"}
expect(["reception"], ["shelter_staff"], SEEN_AT_RECEPTION, N, SEEN_AT_RECEPTION, N)
expect(["reception"], ["hq"], N, N, SEEN_AT_RECEPTION, N)
# The unaccounted-for list: numbers only in normal times; in an emergency names and phones of
# people who share them, and of register people by law (第49条の11第3項) even after withdrawal.
expect(
    ["unaccounted"],
    ["hq", "rescue"],
    N,
    N,
    {"name", "phone", "register_name"},
    {"phone", "register_name"},
)
# Individual evacuation plans: the register's scope for hq/rescue (consented entries in normal
# times, every entry in an emergency); every plan for the administrator who maintains them.
PLAN = {"register_name", "supporter"}
expect(["plans"], ["hq", "rescue"], PLAN, N, PLAN, PLAN)
expect(["plans"], ["admin"], PLAN, PLAN, PLAN, PLAN)


# ------------------------------------------------------------------ the databases


@pytest.fixture(scope="module")
def small_demo(demo_city) -> str:
    return demo_city(300)


def _prepare(url: str, mode: str, consent: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE incidents SET emergency_mode = :on WHERE ended_at IS NULL"),
            {"on": mode == "emergency"},
        )
        if consent == "withdrawn":
            now = dt.datetime.now(dt.UTC)
            ids = conn.execute(sa.text("SELECT id FROM citizens")).scalars().all()
            record_consent(
                conn,
                [
                    {
                        "citizen_id": int(i),
                        "data_item": item,
                        "share_target": "city_hq",
                        "event_type": "withdrawn",
                        "occurred_at": now,
                        "collection_method": "app",
                    }
                    for i in ids
                    for item in WITHDRAWN_ITEMS
                ],
            )
    engine.dispose()


@pytest.fixture(scope="module")
def databases(small_demo, tmp_path_factory) -> dict[tuple[str, str], str]:
    out = {}
    folder = tmp_path_factory.mktemp("matrix_states")
    for mode in MODES:
        for consent in CONSENTS:
            url = sqlite_backup(small_demo, folder / f"{mode}_{consent}.sqlite", empty_audit=True)
            _prepare(url, mode, consent)
            out[(mode, consent)] = url
    return out


@pytest.fixture(scope="module")
def personal_values(small_demo) -> dict:
    """Every personal value of the demo city, by field (positions as (lat, lon) arrays)."""
    engine = make_engine(small_demo)
    with engine.connect() as conn:

        def column(statement: str) -> set:
            return {v for v in conn.execute(sa.text(statement)).scalars() if v not in (None, "")}

        on_register = "SELECT citizen_id FROM support_register"
        register_households = (
            "SELECT household_id FROM citizens WHERE household_id IS NOT NULL "
            f"AND id IN ({on_register})"
        )
        values = {
            "name": column(f"SELECT name FROM citizens WHERE id NOT IN ({on_register})")
            | column(f"SELECT kana FROM citizens WHERE id NOT IN ({on_register})"),
            "register_name": column(f"SELECT name FROM citizens WHERE id IN ({on_register})")
            | column(f"SELECT kana FROM citizens WHERE id IN ({on_register})"),
            "phone": column("SELECT phone FROM citizens"),
            "address": column(
                f"SELECT address FROM households WHERE id NOT IN ({register_households})"
            ),
            "register_address": column(
                f"SELECT address FROM households WHERE id IN ({register_households})"
            )
            | column(f"SELECT address FROM citizens WHERE id IN ({on_register})"),
            "supporter": column("SELECT supporter_name FROM support_register")
            | column("SELECT supporter_phone FROM support_register"),
        }
        # Synthetic names repeat: a value that is also another kind of value tells nothing.
        values["name"] -= values["register_name"] | values["supporter"]
        values["register_name"] -= values["supporter"]
        values["address"] -= values["register_address"]

        def points(statement: str) -> np.ndarray:
            rows = [r for r in conn.execute(sa.text(statement)).all() if None not in r]
            return np.array(rows, dtype=float).reshape(-1, 2)

        # Public places drawn on the maps: shelters and the hazard zones' vertices (as stored
        # and as simplified for the map) — a fix that happens to lie on one tells nothing.
        zones = shapely.from_wkb(
            conn.execute(sa.text("SELECT geom_wkb FROM hazard_zones")).scalars().all()
        )
        vertices = np.vstack(
            [
                shapely.get_coordinates(zones),
                shapely.get_coordinates(shapely.simplify(zones, ZONE_TOLERANCE, True)),
            ]
        )[:, ::-1]
        values["shelters"] = np.vstack([points("SELECT lat, lon FROM shelters"), vertices])
        values["rescue_position"] = points("SELECT lat, lon FROM rescue_requests")
        values["register_home"] = points(
            f"SELECT home_lat, home_lon FROM citizens WHERE id IN ({on_register})"
        )
        values["home_position"] = points("SELECT home_lat, home_lon FROM citizens")
        values["live_position"] = points("SELECT lat, lon FROM location_fixes")
    engine.dispose()
    return values


# ------------------------------------------------------------------ what a page shows


def _walk(node) -> Iterator:
    yield node
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for child in children.values():
            yield from _walk(child)


def _is_lat(v) -> bool:
    return isinstance(v, float) and 20.0 < v < 50.0


def _is_lon(v) -> bool:
    return isinstance(v, float) and 120.0 < v < 155.0


def _json_leaves(value, texts: list[str], pairs: list[tuple[float, float]]) -> None:
    """Strings of a JSON document, and its coordinate pairs: ``[lon, lat]`` lists and objects
    with a latitude and a longitude among their values."""
    if isinstance(value, dict):
        lats = [v for v in value.values() if _is_lat(v)]
        lons = [v for v in value.values() if _is_lon(v)]
        pairs.extend((a, o) for a in lats for o in lons)
        for k, v in value.items():
            texts.append(str(k))
            _json_leaves(v, texts, pairs)
    elif isinstance(value, list):
        if len(value) in (2, 3) and _is_lon(value[0]) and _is_lat(value[1]):
            pairs.append((value[1], value[0]))
        for v in value:
            _json_leaves(v, texts, pairs)
    elif isinstance(value, str):
        texts.append(value)


def page_output(at) -> tuple[str, np.ndarray]:
    """All text the page sent, and every (lat, lon) pair in its tables, maps and charts."""
    texts: list[str] = []
    pairs: list[tuple[float, float]] = []
    for node in _walk(at._tree):
        kind = getattr(node, "type", None)
        proto = getattr(node, "proto", None)
        if kind in ("arrow_data_frame", "dataframe", "table", "arrow_table"):
            frame = node.value
            texts.append(frame.to_csv())
            texts.extend(str(c) for c in frame.columns)
            for row in frame.itertuples(index=False):
                cells = [
                    float(v) for v in row if isinstance(v, int | float) and not isinstance(v, bool)
                ]
                lats = [v for v in cells if _is_lat(v)]
                lons = [v for v in cells if _is_lon(v)]
                pairs.extend((a, o) for a in lats for o in lons)
        elif kind == "deck_gl_json_chart":
            _json_leaves(json.loads(proto.json), texts, pairs)
        elif kind == "plotly_chart":
            _json_leaves(json.loads(proto.spec), texts, pairs)
        elif proto is not None and hasattr(proto, "DESCRIPTOR"):
            texts.append(text_format.MessageToString(proto, as_utf8=True))
    return "\n".join(texts), np.array(pairs, dtype=float).reshape(-1, 2)


#: Degrees within which a shown point is taken for a stored one (about 2 m; maps round to 1e-5).
TOLERANCE = 2e-5


def _near(shown: np.ndarray, stored: np.ndarray) -> np.ndarray:
    """For each shown point: is a stored point within :data:`TOLERANCE`?"""
    if not len(shown) or not len(stored):
        return np.zeros(len(shown), dtype=bool)
    found = np.zeros(len(shown), dtype=bool)
    for start in range(0, len(shown), 2000):
        part = shown[start : start + 2000]
        diff = np.abs(part[:, None, :] - stored[None, :, :]).max(axis=2)
        found[start : start + 2000] = (diff < TOLERANCE).any(axis=1)
    return found


#: A value must not run on into more of the same kind: "…4丁目2-1" is not "…4丁目2-10", and
#: "佐藤 誠" is not "佐藤 誠一" (but "佐藤 誠さん" is) —
_NOT_CONTINUED = r"(?![0-9０-９\-一-龥])"
#: Nor follow more of it: "イトウ サクラ" is not part of "サイトウ サクラ".
_NOT_PRECEDED = r"(?<![0-9０-９\-一-龥\u3040-\u30ff])"


def _appears(text: str, candidates: set[str]) -> bool:
    return any(
        re.search(_NOT_PRECEDED + re.escape(v) + _NOT_CONTINUED, text)
        for v in candidates
        if v in text
    )


def fields_shown(at, values: dict) -> frozenset[str]:
    text, pairs = page_output(at)
    shown = {field for field in TEXT_FIELDS if _appears(text, values[field])}
    personal = pairs[~_near(pairs, values["shelters"])] if len(pairs) else pairs
    taken = np.zeros(len(personal), dtype=bool)
    for field in POSITION_FIELDS:  # in the order of POSITION_FIELDS
        hit = _near(personal, values[field]) & ~taken
        if hit.any():
            shown.add(field)
        taken |= hit
    return frozenset(shown)


# ------------------------------------------------------------------ the runs


def subject_of(url: str, role: str) -> str:
    engine = make_engine(url)
    with engine.connect() as conn:
        subject = conn.execute(
            sa.text("SELECT subject FROM staff WHERE role = :r AND active ORDER BY id LIMIT 1"),
            {"r": role},
        ).scalar_one()
    engine.dispose()
    return subject


def live(spec: registry.PageSpec) -> bool:
    """The page has a live fragment (a refresh path of its own)."""
    return "@gate.fragment(" in spec.path.read_text(encoding="utf-8")


def observe(app, url: str, role: str, values) -> dict[str, frozenset]:
    """Fields shown on every page the role may open, on each run path: ``page`` (the full
    run) and ``page:fragment`` (the live fragment's refresh)."""
    policy.forget_recent_views()
    at = app(url)
    at.user = {"is_logged_in": True, "sub": subject_of(url, role), "roles": [role]}
    at.run()
    assert not at.exception, at.exception
    seen = {}
    for spec in registry.PAGES:
        if role not in spec.roles:
            with pytest.raises(ValueError, match="Could not find a navigation page"):
                at.switch_page(f"views/{spec.file}")
            continue
        at.switch_page(f"views/{spec.file}")
        at.run()
        assert not at.exception, (spec.url_path, role, at.exception)
        seen[spec.url_path] = fields_shown(at, values)
        if live(spec):
            assert has_fragments(at), (spec.url_path, role, "the live fragment was not drawn")
            refresh_fragments(at)
            assert not at.exception, (spec.url_path, role, "fragment", at.exception)
            seen[f"{spec.url_path}:fragment"] = fields_shown(at, values)
    return seen


@pytest.mark.parametrize("consent", CONSENTS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("role", registry.ALL_ROLES)
def test_access_matrix(app, databases, personal_values, role, mode, consent):
    seen = observe(app, databases[(mode, consent)], role, personal_values)
    if os.environ.get("BOSAI_MATRIX_PRINT"):  # to review what the pages show
        for page, fields in seen.items():
            print(f"MATRIX {page:18} {role:14} {mode:9} {consent:9} {sorted(fields)}")
        return
    expected = {
        page: EXPECTED.get((page.split(":")[0], role), {}).get(mode, {}).get(consent, N)
        for page in seen
    }
    assert seen == expected


# ------------------------------------------------------------------ a deactivated viewer


#: What the actions of the pages write (a click must change none of it).
WRITES = (
    "SELECT COUNT(*) FROM rescue_request_events",
    "SELECT COUNT(*) FROM shelter_operations WHERE closed_at IS NULL",
    "SELECT COUNT(*) FROM shelter_occupancy",
    "SELECT COUNT(*) FROM incidents WHERE ended_at IS NULL",
    "SELECT COUNT(*) FROM incidents WHERE emergency_mode",
    "SELECT COUNT(*) FROM staff WHERE active",
    "SELECT COUNT(*) FROM notification_requests",
    "SELECT COUNT(*) FROM incident_activity",
    "SELECT COUNT(*) FROM audit_log WHERE action NOT LIKE 'auth:%'",
)


def writes(url: str) -> list[int]:
    engine = make_engine(url)
    with engine.connect() as conn:
        counts = [conn.execute(sa.text(q)).scalar_one() for q in WRITES]
    engine.dispose()
    return counts


#: For each panel's selectbox, the record it opens (the first open one).
PANEL_PICKS = {
    "queue_pick": "SELECT MIN(id) FROM rescue_requests WHERE status IN ('new', 'triaged')",
    "shelters_pick": "SELECT MIN(shelter_id) FROM shelter_operations WHERE closed_at IS NULL",
}


def _open_panels(at, url: str) -> None:
    engine = make_engine(url)
    with engine.connect() as conn:
        picks = {key: conn.execute(sa.text(q)).scalar() for key, q in PANEL_PICKS.items()}
    engine.dispose()
    for key, record in picks.items():
        try:
            box = at.selectbox(key=key)
        except KeyError:
            continue
        box.set_value(int(record)).run()


@pytest.mark.parametrize("role", registry.ALL_ROLES)
def test_every_run_path_closes_for_a_deactivated_viewer(app, databases, personal_values, role):
    """Role × page × path: with the account deactivated while the page is open, the live
    refresh and every button and form submit of the page (all clicked in one run, their
    callbacks first) show no personal data and write nothing; the full run refuses too."""
    url = databases[("emergency", "given")]
    subject = subject_of(url, role)
    for spec in registry.pages_for_role(role):
        policy.forget_recent_views()
        at = app(url, user={"is_logged_in": True, "sub": subject, "roles": [role]})
        at.run()
        at.switch_page(f"views/{spec.file}").run()
        _open_panels(at, url)
        assert not at.exception, (spec.url_path, at.exception)
        buttons = [b for b in at.button if not b.disabled and b.label != "サインアウト"]
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE staff SET active = FALSE WHERE subject = :s"), {"s": subject}
            )
        engine.dispose()
        before = writes(url)
        try:
            if live(spec):
                refresh_fragments(at)
                assert fields_shown(at, personal_values) == N, (spec.url_path, "fragment")
                assert at.error, (spec.url_path, "the refusal is shown")
            else:  # nothing but a click or a full run: the shell's and the callbacks' gate
                pass
            for button in buttons:
                button.click()
            at.run()
            assert not at.exception, (spec.url_path, at.exception)
            assert fields_shown(at, personal_values) == N, (spec.url_path, "callbacks")
            assert writes(url) == before, (spec.url_path, [b.label for b in buttons])
            assert at.user.get("is_logged_in") is not True, (spec.url_path, "signed out")
        finally:
            engine = make_engine(url)
            with engine.begin() as conn:
                conn.execute(
                    sa.text("UPDATE staff SET active = TRUE WHERE subject = :s"), {"s": subject}
                )
            engine.dispose()
