"""Switching the language in DEMO mode keeps the role and the page one is on: the role box
holds the role, not its Japanese (or English) name, so a researcher reading 「アンケート分析」
who presses English reads "Questionnaires" as a researcher — and back again."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import choose, screenshot, wait_for_app

pytestmark = pytest.mark.browser

ROLE_BOX = {"ja": "表示する役割（デモ）", "en": "Role (demo)"}


def test_switching_language_keeps_the_demo_role_and_the_page(browser, readonly_demo_server):
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.goto(readonly_demo_server.url)
    wait_for_app(page)
    choose(page, ROLE_BOX["ja"], "研究者")
    page.get_by_role("link", name="アンケート分析").click()
    wait_for_app(page)
    page.get_by_role("heading", name="アンケート分析").wait_for()
    for lang, button, role, heading in (
        ("en", "English", "Researcher", "Questionnaires"),
        ("ja", "日本語", "研究者", "アンケート分析"),
        ("en", "English", "Researcher", "Questionnaires"),
    ):
        page.get_by_text(button, exact=True).click()
        wait_for_app(page)
        page.get_by_role("heading", name=heading).wait_for(timeout=60_000)
        assert page.get_by_label(ROLE_BOX[lang], exact=True).first.input_value() == role
        assert (
            page.locator("[data-testid=stException], [data-testid=stAlertContainer]")
            .filter(has_text="error")
            .count()
            == 0
        ), page.inner_text("[data-testid=stMain]")
        assert "/research" in page.url or "survey" in page.url, page.url
    screenshot(page, "language-switch-researcher-en-1366x768")
