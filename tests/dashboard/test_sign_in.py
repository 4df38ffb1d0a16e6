"""Sign-in through the real entry point: whoever is signed in is the viewer (AppTest's
``at.user`` takes the same path as a real ``st.login``), if the token has not expired and the
staff table holds an active account in a claimed role; DEMO mode only without ``[auth]``."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from dashboard import sign_in
from tests.conftest import sql as rows
from tests.dashboard.conftest import read

AUTH_SECRETS = {
    "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
    "cookie_secret": "test-only-cookie-secret-not-used",
    "client_id": "bosai-ops",
    "client_secret": "test-only",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}


def user(sub: str, *roles: str, **claims) -> dict:
    return {"is_logged_in": True, "sub": sub, "name": sub, "roles": list(roles), **claims}


def texts(at) -> str:
    kinds = ("markdown", "caption", "info", "warning", "error", "success", "title")
    return "\n".join(str(e.value) for kind in kinds for e in at.get(kind))


def run(app, url: str, claims: dict | None = None, secrets: dict | None = None, **session):
    at = app(url, **session)
    if claims is not None:
        at.user = claims
    for key, value in (secrets or {}).items():
        at.secrets[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def test_a_registered_staff_member_is_the_viewer_with_their_record(app, demo_copy):
    at = run(app, demo_copy, user("demo-rescue", "rescue"))
    assert not at.sidebar.selectbox, "no role switcher for a signed-in user"
    assert at.title[0].value == "市の概況"
    assert "消防 一郎（デモ）（消防・救助）としてサインイン中" in texts(at)
    assert any(b.label == "サインアウト" for b in at.sidebar.button)
    audited = rows(demo_copy, "SELECT actor, role, action, details FROM audit_log")
    assert [(a, r, act) for a, r, act, _ in audited] == [("demo-rescue", "rescue", "auth:sign_in")]
    at.run()  # a rerun is the same sign-in, not another audit row
    assert len(rows(demo_copy, "SELECT id FROM audit_log")) == 1


@pytest.mark.parametrize(
    "claims, message",
    [
        (user("stranger", "hq"), "stranger は Bosai Ops の職員として登録されていません"),
        (user("demo-hq"), "役割がありません（クレーム：roles）"),
        (
            user("demo-hq", "researcher"),
            "demo-hq の職員登録の役割（hq）が、サインインした ID の役割（researcher）にありません",
        ),
        (user("demo-hq", "no-such-role"), "役割がありません"),
    ],
)
def test_sign_ins_that_are_refused_show_why_and_nothing_else(app, demo_copy, claims, message):
    at = run(app, demo_copy, claims)
    assert any(message in read(e.value) for e in at.error), [e.value for e in at.error]
    assert not at.metric and not at.dataframe, "no page ran"
    assert not at.sidebar.selectbox
    assert [r[0] for r in rows(demo_copy, "SELECT action FROM audit_log")] == ["auth:refused"]


def test_a_deactivated_account_is_refused(app, demo_copy):
    rows(demo_copy, "UPDATE staff SET active = 0 WHERE subject = 'demo-hq'")
    at = run(app, demo_copy, user("demo-hq", "hq"))
    assert any("無効になっています" in e.value for e in at.error)
    assert not at.metric


def register_by_email(url: str, email: str = "hq@city.example.jp") -> None:
    rows(url, "UPDATE staff SET subject = :e WHERE subject = 'demo-hq'", e=email)


def test_an_unverified_email_never_signs_in_as_the_colleague_registered_under_it(app, demo_copy):
    """Finding 13.5: an IdP account carrying a colleague's e-mail, not verified, is a stranger."""
    register_by_email(demo_copy)
    for claims in (
        user("attacker-sub", "hq", email="hq@city.example.jp"),
        user("attacker-sub", "hq", email="hq@city.example.jp", email_verified=False),
        user("attacker-sub", "hq", email="hq@city.example.jp", email_verified="true"),
    ):
        at = run(app, demo_copy, claims)
        assert any("職員として登録されていません" in read(e.value) for e in at.error)
        assert not at.metric, "no page ran"
    assert rows(demo_copy, "SELECT subject FROM staff WHERE name LIKE '本部%'") == [
        ("hq@city.example.jp",)
    ], "not bound"
    actors = {a for (a,) in rows(demo_copy, "SELECT actor FROM audit_log")}
    assert actors == {"attacker-sub"}, "the audit names the token's own sub, never the colleague"


def test_a_verified_email_binds_the_account_to_the_subject(app, demo_copy):
    register_by_email(demo_copy)
    claims = user("opaque-sub-123", "hq", email="HQ@city.example.jp", email_verified=True)
    at = run(app, demo_copy, claims)
    assert at.title[0].value == "市の概況"
    assert rows(demo_copy, "SELECT subject FROM staff WHERE name LIKE '本部%'") == [
        ("opaque-sub-123",)
    ]
    audited = rows(demo_copy, "SELECT actor, action, details FROM audit_log ORDER BY id")
    assert [(a, act) for a, act, _ in audited] == [
        ("opaque-sub-123", "write:staff_subject_bound"),
        ("opaque-sub-123", "auth:sign_in"),
    ]
    assert json.loads(audited[0][2])["email"] == "HQ@city.example.jp"


def test_a_bound_account_is_no_longer_found_by_email_from_another_subject(app, demo_copy):
    register_by_email(demo_copy)
    run(
        app,
        demo_copy,
        user("opaque-sub-123", "hq", email="hq@city.example.jp", email_verified=True),
    )
    other = user("other-sub", "hq", email="hq@city.example.jp", email_verified=True)
    at = run(app, demo_copy, other)
    assert any("職員として登録されていません" in read(e.value) for e in at.error)
    assert not at.metric
    assert rows(demo_copy, "SELECT subject FROM staff WHERE name LIKE '本部%'") == [
        ("opaque-sub-123",)
    ]


def test_a_deactivated_account_registered_by_email_is_refused_and_never_bound(app, demo_copy):
    register_by_email(demo_copy)
    rows(demo_copy, "UPDATE staff SET active = 0 WHERE subject = 'hq@city.example.jp'")
    at = run(
        app, demo_copy, user("opaque-sub", "hq", email="hq@city.example.jp", email_verified=True)
    )
    assert any("無効になっています" in read(e.value) for e in at.error)
    assert rows(demo_copy, "SELECT subject FROM staff WHERE name LIKE '本部%'") == [
        ("hq@city.example.jp",)
    ]


def test_an_expired_token_signs_out(app, demo_copy):
    past = int((dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).timestamp())
    at = run(app, demo_copy, user("demo-hq", "hq", exp=past))
    assert at.user == {"is_logged_in": False}, "st.logout() was called"
    assert any("有効期限が切れた" in w.value for w in at.warning)
    assert not at.metric, "no page ran"
    assert rows(demo_copy, "SELECT actor, action FROM audit_log") == [("demo-hq", "auth:expired")]


def test_a_token_still_valid_is_kept(app, demo_copy):
    soon = int((dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)).timestamp())
    at = run(app, demo_copy, user("demo-hq", "hq", exp=soon))
    assert at.user["is_logged_in"] is True
    assert at.title[0].value == "市の概況"


def test_sign_out_button_signs_out(app, demo_copy):
    at = run(app, demo_copy, user("demo-hq", "hq"))
    next(b for b in at.sidebar.button if b.label == "サインアウト").click().run()
    assert at.user == {"is_logged_in": False}


def test_role_claim_and_role_map_come_from_configuration(app, demo_copy, monkeypatch):
    monkeypatch.setenv("BOSAI_ROLE_CLAIM", "realm_access.roles")
    claims = {
        "is_logged_in": True,
        "sub": "demo-researcher",
        "realm_access": {"roles": ["offline_access", "Bosai.Research"]},
    }
    at = run(
        app, demo_copy, claims, secrets={"bosai_roles": {"map": {"Bosai.Research": "researcher"}}}
    )
    assert at.title[0].value == "市の概況"
    assert "研究者" in texts(at)


def test_with_auth_configured_nobody_signed_in_sees_only_the_sign_in_button(app, demo_copy):
    at = run(app, demo_copy, {"is_logged_in": False}, secrets={"auth": AUTH_SECRETS})
    assert [b.label for b in at.button] == ["サインイン"]
    assert not at.sidebar.selectbox, "the role switcher never appears with [auth]"
    assert not at.metric


def test_with_auth_configured_a_signed_in_user_gets_no_switcher(app, demo_copy):
    at = run(app, demo_copy, user("demo-admin", "admin"), secrets={"auth": AUTH_SECRETS})
    assert not at.sidebar.selectbox
    assert at.title[0].value == "市の概況"


def test_demo_mode_plays_the_demo_staff_of_the_chosen_role(app, demo_copy):
    at = run(app, demo_copy, demo_role="shelter_staff")
    assert at.sidebar.selectbox(key="demo_role").value == "shelter_staff"
    assert any("DEMO" in w.value for w in at.sidebar.warning)
    ctx = at.session_state["_bosai_page_context"]
    expected = rows(
        demo_copy, "SELECT id, subject, shelter_ids FROM staff WHERE role = 'shelter_staff'"
    )[0]
    assert (ctx.viewer.staff_id, ctx.viewer.subject) == (expected[0], expected[1])
    assert list(ctx.viewer.shelter_ids) == sorted(__import__("json").loads(expected[2]))


# ------------------------------------------------------------------ the pure part


def test_claimed_roles_accept_lists_strings_maps_and_nested_claims(monkeypatch):
    monkeypatch.delenv("BOSAI_ROLE_CLAIM", raising=False)
    plain = sign_in.role_settings({})
    assert sign_in.claimed_roles({"roles": ["hq", "x", "hq"]}, plain) == ["hq"]
    assert sign_in.claimed_roles({"roles": "rescue admin"}, plain) == ["rescue", "admin"]
    assert sign_in.claimed_roles({}, plain) == []
    mapped = sign_in.role_settings({"bosai_roles": {"claim": "groups", "map": {"/bosai/hq": "hq"}}})
    assert sign_in.claimed_roles({"groups": ["/bosai/hq", "/other"]}, mapped) == ["hq"]
    nested = sign_in.RoleSettings(claim="realm_access.roles")
    assert sign_in.claimed_roles({"realm_access": {"roles": ["council"]}}, nested) == ["council"]
    with pytest.raises(ValueError, match="unknown roles"):
        sign_in.role_settings({"bosai_roles": {"map": {"X": "superuser"}}})


def test_expiry():
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert sign_in.is_expired({"exp": now.timestamp()}, now)
    assert not sign_in.is_expired({"exp": now.timestamp() + 1}, now)
    assert not sign_in.is_expired({}, now)
    assert sign_in.is_expired({"exp": "garbage"}, now)
