"""Sign-in in a real browser against a real OpenID Connect provider process
(``cityos.identity_provider``: oidc-provider-mock with predefined users and their role claims):
sign in, navigation limited to the role, a deep link to a forbidden page refused, no personal
data in the URL, sign out."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import screenshot, sign_in, wait_for_app

pytestmark = pytest.mark.browser


def nav_titles(page) -> list[str]:
    links = page.locator("[data-testid='stSidebarNav'] a")
    # Each link reads "<icon name>\n\n<title>": keep the title.
    return [t.strip().splitlines()[-1].strip() for t in links.all_inner_texts()]


def test_sign_in_navigation_deep_link_and_sign_out(browser, app_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    # Before sign-in: only the sign-in button, never the DEMO role switcher.
    page.goto(app_url)
    wait_for_app(page)
    assert "表示する役割" not in page.inner_text("body")
    sign_in(page, app_url, "demo-researcher")
    page.get_by_text("研究 誠（デモ）（研究者）としてサインイン中").wait_for(timeout=30_000)
    assert "表示する役割" not in page.inner_text("body"), "no role switcher with [auth]"
    titles = nav_titles(page)
    assert "アンケート分析" in titles and "市の概況" in titles
    assert "救助要請" not in titles and "職員管理" not in titles
    screenshot(page, "login-researcher")
    # A deep link to a page the role may not open is refused; nothing of it runs.
    page.goto(f"{app_url}/rescue-queue")
    wait_for_app(page)
    page.get_by_text("「救助要請」は、研究者の役割では開けません").wait_for(timeout=30_000)
    body = page.inner_text("body")
    assert "スコア" not in body and "Traceback" not in body
    screenshot(page, "login-deep-link-refused")
    # Pages the role may open work by deep link too, and no URL carries a query.
    page.goto(f"{app_url}/research-survey")
    wait_for_app(page)
    page.get_by_role("heading", name="アンケート分析").wait_for(timeout=30_000)
    assert "?" not in page.url
    # Sign out: back to the sign-in button (through the provider's end-session page).
    page.get_by_role("button", name="サインアウト").click()
    # Streamlit clears its cookie and sends the browser to the provider's end_session_endpoint.
    page.wait_for_url("**/oauth2/end_session**", timeout=30_000)
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(f"{app_url}/**", timeout=30_000)
    wait_for_app(page)
    page.get_by_role("button", name="サインイン").wait_for(timeout=30_000)
    assert "としてサインイン中" not in page.inner_text("body")
    context.close()


def test_rescue_sees_the_rescue_queue_and_a_stranger_is_refused(browser, app_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    sign_in(page, app_url, "demo-rescue")
    page.get_by_text("としてサインイン中").wait_for(timeout=30_000)
    assert "救助要請" in nav_titles(page)
    assert "?" not in page.url
    context.close()
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, app_url, "not-staff")
    page.get_by_text("not-staff は Bosai Ops の職員として登録されていません").wait_for(
        timeout=30_000
    )
    assert "市の概況" not in page.inner_text("body")
    context.close()
