"""The gate in a real browser against a real OpenID Connect provider process (issue 13,
finding 1): an HQ member signed in with the register page open is deactivated by an
administrator; the page's next automatic refresh (a fragment run, the page script does not run)
ends the session — signed out through the provider — instead of showing a newly registered
person, and the audit log holds the refusal, not a read."""

from __future__ import annotations

import json
import time

import pytest

from tests.conftest import sql
from tests.e2e.conftest import ARTIFACTS, screenshot, sign_in

pytestmark = pytest.mark.browser


def test_a_member_deactivated_while_the_register_is_open_is_signed_out_by_the_next_refresh(
    browser, app_url, demo_db
):
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    sign_in(page, app_url, "demo-hq")
    page.get_by_text("としてサインイン中").wait_for(timeout=30_000)
    page.goto(f"{app_url}/register")
    page.get_by_role("heading", name="要支援者").wait_for(timeout=30_000)
    page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=30_000)
    screenshot(page, "gate-register-open-1366")

    # An administrator deactivates her; meanwhile a person is newly put on the register.
    sql(demo_db, "UPDATE staff SET active = FALSE WHERE subject = 'demo-hq'")
    citizen, name = sql(
        demo_db,
        "SELECT id, name FROM citizens WHERE id NOT IN (SELECT citizen_id FROM support_register) "
        "ORDER BY id LIMIT 1",
    )[0]
    sql(
        demo_db,
        "INSERT INTO support_register (citizen_id, needs, normal_time_consent, is_synthetic, "
        "updated_at) VALUES (:c, '車いす', TRUE, TRUE, CURRENT_TIMESTAMP)",
        c=citizen,
    )
    mark = sql(demo_db, "SELECT MAX(id) FROM audit_log")[0][0]

    # The register refreshes every 10 s: the next refresh signs her out (through the
    # provider's end-session page) — it never shows the new person.
    seen_new_person = False
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and "end_session" not in page.url:
        try:
            seen_new_person |= name in page.inner_text("body", timeout=2_000)
        except Exception:
            pass  # the page is navigating away
        time.sleep(0.5)
    page.wait_for_url("**/oauth2/end_session**", timeout=10_000)
    screenshot(page, "gate-signed-out-end-session")
    assert not seen_new_person, "the deactivated member was shown the new register person"

    rows = [
        (actor, action, json.loads(details) if details else None, ids)
        for actor, action, details, ids in sql(
            demo_db,
            "SELECT actor, action, details, citizen_ids FROM audit_log WHERE id > :i ORDER BY id",
            i=mark,
        )
    ]
    assert [(a, act, d) for a, act, d, _ in rows] == [
        ("demo-hq", "auth:refused", {"reason": "auth.inactive", "path": "fragment"})
    ], rows
    # Back in the app after the provider's page: only the sign-in button.
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(f"{app_url}/**", timeout=30_000)
    page.get_by_role("button", name="サインイン").wait_for(timeout=30_000)
    body = page.inner_text("body")
    assert "要支援者" not in body and name not in body
    page.set_viewport_size({"width": 1920, "height": 1080})
    screenshot(page, "gate-back-to-sign-in-1920")
    (ARTIFACTS / "gate-audit.json").write_text(
        json.dumps([r[:3] for r in rows], ensure_ascii=False), encoding="utf-8"
    )
    context.close()
